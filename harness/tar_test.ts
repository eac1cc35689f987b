import { deepStrictEqual, rejects, strictEqual } from "node:assert/strict";
import { readTar, type TarEntryInfo, TarError, TarWriter } from "./tar.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const MTIME = 1_700_000_000;

/** A sink that keeps every chunk, and the concatenation once closed. */
function memorySink(): {
  stream: WritableStream<Uint8Array>;
  bytes: () => Uint8Array<ArrayBuffer>;
} {
  const chunks: Uint8Array[] = [];
  return {
    stream: new WritableStream({ write: (c) => void chunks.push(c) }),
    bytes: () => {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) out.set(c, (at += c.length) - c.length);
      return out;
    },
  };
}

async function readAll(
  bytes: Uint8Array<ArrayBuffer>,
): Promise<(TarEntryInfo & { text: string })[]> {
  const out: (TarEntryInfo & { text: string })[] = [];
  for await (const e of readTar(new Blob([bytes]).stream(), "mem.tar")) {
    const { name, type, mode, size, mtime, linkname } = e;
    out.push({
      name,
      type,
      mode,
      size,
      mtime,
      linkname,
      text: new TextDecoder().decode(await e.body()),
    });
  }
  return out;
}

// 186 characters: too long for the name field, fits prefix (91) + name (94).
const USTAR_LONG = `${"d".repeat(60)}/${"e".repeat(30)}/${"f".repeat(90)}.txt`;
// One 200-character component: only pax can hold it (and a file system can still create it).
const PAX_LONG = `deep/${"x".repeat(200)}`;
const UNICODE = "données/modèle_é.json";
const LONG_TARGET = `../${"t".repeat(120)}`;

async function sampleArchive(): Promise<Uint8Array<ArrayBuffer>> {
  const sink = memorySink();
  const tar = new TarWriter(sink.stream, { mtime: MTIME });
  await tar.addDirectory("pkg");
  await tar.addFile("pkg/a.txt", enc("hello\n"));
  await tar.addFile("pkg/bin/run.sh", enc("#!/bin/sh\necho hi\n"), { mode: 0o755 });
  await tar.addFile("pkg/empty", new Uint8Array(0), { mtime: 5 });
  await tar.addSymlink("pkg/link", "a.txt");
  await tar.addFile(USTAR_LONG, enc("u"));
  await tar.addFile(PAX_LONG, enc("p"));
  await tar.addFile(UNICODE, enc("{}"));
  await tar.addSymlink("pkg/far", LONG_TARGET);
  await tar.close();
  return sink.bytes();
}

Deno.test("TarWriter and readTar() round-trip files, dirs, links, modes and long names", async () => {
  const bytes = await sampleArchive();
  const entry = (name: string, type: TarEntryInfo["type"], mode: number, text = "", link = "") => ({
    name,
    type,
    mode,
    size: enc(text).length,
    mtime: MTIME,
    linkname: link,
    text,
  });
  deepStrictEqual(await readAll(bytes), [
    entry("pkg", "directory", 0o755),
    entry("pkg/a.txt", "file", 0o644, "hello\n"),
    entry("pkg/bin/run.sh", "file", 0o755, "#!/bin/sh\necho hi\n"),
    { ...entry("pkg/empty", "file", 0o644), mtime: 5 },
    entry("pkg/link", "symlink", 0o777, "", "a.txt"),
    entry(USTAR_LONG, "file", 0o644, "u"),
    entry(PAX_LONG, "file", 0o644, "p"),
    entry(UNICODE, "file", 0o644, "{}"),
    entry("pkg/far", "symlink", 0o777, "", LONG_TARGET),
  ]);
  strictEqual(bytes.length % 10240, 0);
  strictEqual(bytes.subarray(-1024).every((b) => b === 0), true);
});

Deno.test("TarWriter uses ustar's prefix field when it suffices and pax only beyond", async () => {
  const bytes = await sampleArchive();
  const text = (at: number, n: number) =>
    new TextDecoder().decode(bytes.subarray(at, at + n)).replace(/\0.*$/s, "");
  const headers: { type: string; name: string; prefix: string }[] = [];
  for (let at = 0; text(at + 257, 5) === "ustar"; at += 512) {
    headers.push({ type: text(at + 156, 1), name: text(at, 100), prefix: text(at + 345, 155) });
    at += Math.ceil(parseInt(text(at + 124, 12), 8) / 512) * 512;
  }
  // dir, 3 files, link, prefix-split file, then pax + file, pax + file, pax + link.
  deepStrictEqual(headers.map((h) => h.type), [
    "5",
    "0",
    "0",
    "0",
    "2",
    "0",
    "x",
    "0",
    "x",
    "0",
    "x",
    "2",
  ]);
  const [prefix, name] = [USTAR_LONG.slice(0, 91), USTAR_LONG.slice(92)];
  deepStrictEqual(headers[5], { type: "0", name, prefix });
  strictEqual(headers[0].name, "pkg/");
});

Deno.test("TarWriter.addFileFrom() streams a multi-chunk file with its mode", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = new Uint8Array(3 * (1 << 20) + 123).map((_, i) => (i * 31) & 0xff);
    await Deno.writeFile(`${dir}/big.bin`, data, { mode: 0o750 });
    await Deno.chmod(`${dir}/big.bin`, 0o750);
    const file = await Deno.open(`${dir}/out.tar`, { write: true, create: true, truncate: true });
    const tar = new TarWriter(file.writable);
    strictEqual(await tar.addFileFrom("big.bin", `${dir}/big.bin`), data.length);
    await tar.close();
    const entries = [];
    for await (const e of readTar((await Deno.open(`${dir}/out.tar`)).readable)) {
      entries.push({
        name: e.name,
        mode: e.mode,
        same: (await e.body()).every((b, i) => b === data[i]),
      });
    }
    deepStrictEqual(entries, [{ name: "big.bin", mode: 0o750, same: true }]);
    const archiveSize = (await Deno.stat(`${dir}/out.tar`)).size;
    strictEqual(
      archiveSize,
      Math.ceil((512 + Math.ceil(data.length / 512) * 512 + 1024) / 10240) * 10240,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TarWriter refuses names that leave the archive", async () => {
  const tar = new TarWriter(memorySink().stream);
  await rejects(tar.addFile("../etc/passwd", enc("x")), {
    name: "TarError",
    message: 'tar entry name "../etc/passwd" must be relative and stay inside the archive',
  });
  await rejects(tar.addDirectory("/abs"), TarError);
});

Deno.test("readTar() rejects a damaged header, naming the archive and offset", async () => {
  const bytes = await sampleArchive();
  bytes[512 + 10] ^= 1; // inside the second header's name
  await rejects(readAll(bytes), {
    name: "TarError",
    message: "mem.tar: bad header checksum at offset 512 (not a tar file?)",
  });
});

const GNU_TAR = "/usr/bin/tar";
const hasTar = await Deno.stat(GNU_TAR).then(() => true, () => false);
if (!hasTar) console.log(`tar_test: ${GNU_TAR} not found; skipping the GNU tar checks`);

async function tar(args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(GNU_TAR, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`tar ${args.join(" ")} failed: ${stderr}`);
  strictEqual(stderr, "", "GNU tar printed warnings");
  return new TextDecoder().decode(out.stdout);
}

Deno.test({
  name: "GNU tar lists and extracts what TarWriter wrote",
  ignore: !hasTar,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeFile(`${dir}/a.tar`, await sampleArchive());
      const listing = (await tar(["-tvf", `${dir}/a.tar`])).trim().split("\n");
      const perms = listing.map((l) => l.split(/\s+/)[0]);
      deepStrictEqual(perms, [
        "drwxr-xr-x",
        "-rw-r--r--",
        "-rwxr-xr-x",
        "-rw-r--r--",
        "lrwxrwxrwx",
        "-rw-r--r--",
        "-rw-r--r--",
        "-rw-r--r--",
        "lrwxrwxrwx",
      ]);
      deepStrictEqual(listing.map((l) => l.replace(/^(\S+\s+){5}/, "")), [
        "pkg/",
        "pkg/a.txt",
        "pkg/bin/run.sh",
        "pkg/empty",
        "pkg/link -> a.txt",
        USTAR_LONG,
        PAX_LONG,
        UNICODE,
        `pkg/far -> ${LONG_TARGET}`,
      ]);
      await Deno.mkdir(`${dir}/x`);
      await tar(["-xf", `${dir}/a.tar`], `${dir}/x`);
      strictEqual(await Deno.readTextFile(`${dir}/x/pkg/bin/run.sh`), "#!/bin/sh\necho hi\n");
      strictEqual((await Deno.stat(`${dir}/x/pkg/bin/run.sh`)).mode! & 0o777, 0o755);
      strictEqual(await Deno.readLink(`${dir}/x/pkg/link`), "a.txt");
      strictEqual(await Deno.readTextFile(`${dir}/x/${PAX_LONG}`), "p");
      strictEqual(await Deno.readTextFile(`${dir}/x/${UNICODE}`), "{}");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "readTar() reads GNU tar's long-name archives",
  ignore: !hasTar,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const long = `${"n".repeat(150)}/${"m".repeat(120)}`;
      await Deno.mkdir(`${dir}/src/${long.split("/")[0]}`, { recursive: true });
      await Deno.writeTextFile(`${dir}/src/${long}`, "gnu");
      await Deno.chmod(`${dir}/src/${long}`, 0o700);
      for (const format of ["gnu", "posix"]) {
        await tar([`--format=${format}`, "-cf", `${dir}/${format}.tar`, "-C", `${dir}/src`, "."]);
        const files = (await readAll(await Deno.readFile(`${dir}/${format}.tar`)))
          .filter((e) => e.type === "file").map((e) => [e.name, e.mode, e.text]);
        deepStrictEqual(files, [[`./${long}`, 0o700, "gnu"]], format);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

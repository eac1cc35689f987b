import { deepStrictEqual, rejects, strictEqual } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  formatBundleReport,
  hasXz,
  launcherScript,
  PROVIDER_FILES,
  writeBundle,
} from "./cmd_bundle.ts";
import { isOtherPlatform } from "./bundle_files.ts";
import { reduceFatbin } from "./fatbin.ts";
import { readTar, type TarEntryInfo } from "./tar.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FIXTURE = fileURLToPath(new URL("../tests/fixtures/fatbin/libscale.so", import.meta.url));

/** onnxruntime-node's folder under node_modules/.deno, e.g. `onnxruntime-node@1.29.0`. */
async function ortPackage(): Promise<string> {
  for await (const e of Deno.readDir(`${ROOT}/node_modules/.deno`)) {
    if (e.name.startsWith("onnxruntime-node@")) return e.name;
  }
  throw new Error("onnxruntime-node is not installed (deno install)");
}

type Listed = TarEntryInfo & { bytes?: Uint8Array };

/** Every entry of the archive at `path`; bodies only of entries `keep` names. */
async function list(
  stream: ReadableStream<Uint8Array>,
  keep: (name: string) => boolean = () => false,
): Promise<Map<string, Listed>> {
  const out = new Map<string, Listed>();
  for await (const e of readTar(stream)) {
    const { name, type, mode, size, mtime, linkname } = e;
    out.set(name, {
      name,
      type,
      mode,
      size,
      mtime,
      linkname,
      bytes: keep(name) ? await e.body() : undefined,
    });
  }
  return out;
}

Deno.test("isOtherPlatform() keeps only this OS and CPU's native binaries", () => {
  const base = ".deno/onnxruntime-node@1.29.0/node_modules/onnxruntime-node/bin/napi-v6";
  const cases: [string, boolean][] = [
    [`${base}/darwin`, true],
    [`${base}/win32/x64/onnxruntime.dll`, true],
    [`${base}/linux/arm64`, true],
    [`${base}/linux`, false],
    [`${base}/linux/x64/libonnxruntime.so.1`, false],
    [".deno/foo@1.0.0/node_modules/foo/prebuilds/darwin-arm64", true],
    [".deno/foo@1.0.0/node_modules/foo/prebuilds/linux-x64", false],
    [".deno/foo@1.0.0/node_modules/foo/prebuilds/linux-x64/node.napi.glibc.node", false],
    [".deno/foo@1.0.0/node_modules/foo/prebuilds/win32-x64", true],
    [".deno/vega@6.4.0/node_modules/vega/build/vega.js", false],
  ];
  deepStrictEqual(
    cases.map(([path]) => [path, isOtherPlatform(path, "linux", "x64")]),
    cases,
  );
});

Deno.test("launcherScript() runs the bundled Deno offline", () => {
  const script = launcherScript();
  strictEqual(script.startsWith("#!/usr/bin/env bash\n"), true);
  strictEqual(
    script.trimEnd().split("\n").at(-1),
    'exec "$here/bin/deno" run -A --cached-only cli.ts "$@"',
  );
});

const bash = await Deno.stat("/bin/bash").then(() => true, () => false);
if (!bash) console.log("cmd_bundle_test: the launcher's syntax test is ignored: no /bin/bash");

Deno.test({ name: "launcherScript() is valid bash", ignore: !bash }, async () => {
  const script = launcherScript();
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/elmbench`, script);
    const check = await new Deno.Command("/bin/bash", { args: ["-n", `${dir}/elmbench`] })
      .output();
    strictEqual(check.success, true, new TextDecoder().decode(check.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeBundle() packs Deno, the project, the launcher and this platform's ORT", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ort = await ortPackage();
    const out = `${dir}/elmbench.tar`;
    const report = await writeBundle({
      out,
      compress: "none",
      // onnxruntime-node only: all of node_modules is ~150 MB and adds nothing to the checks.
      nodeModulesOnly: [`.deno/${ort}`, "onnxruntime-node"],
    });
    const launcher = "elmbench/elmbench", deno = "elmbench/bin/deno", mod = "elmbench/mod.ts";
    const entries = await list(
      (await Deno.open(out)).readable,
      (n) => n === launcher || n === mod,
    );
    const names = [...entries.keys()];

    strictEqual(entries.get(launcher)?.mode, 0o755);
    deepStrictEqual(entries.get(launcher)?.bytes, new TextEncoder().encode(launcherScript()));
    deepStrictEqual(
      [entries.get(deno)?.mode, entries.get(deno)?.size],
      [0o755, (await Deno.stat(Deno.execPath())).size],
    );
    deepStrictEqual(entries.get(mod)?.bytes, await Deno.readFile(`${ROOT}/mod.ts`));
    strictEqual(entries.get("elmbench/cli.ts")?.type, "file");
    strictEqual(entries.get("elmbench/tests/fixtures/fatbin/libscale.so")?.size, 31672);
    strictEqual(names.some((n) => n.startsWith("elmbench/.git/")), false);

    const bin = `elmbench/node_modules/.deno/${ort}/node_modules/onnxruntime-node/bin/napi-v6`;
    strictEqual(entries.get(`${bin}/linux/x64/libonnxruntime.so.1`)?.type, "file");
    deepStrictEqual(
      names.filter((n) => /\/napi-v6\/(darwin|win32|linux\/arm64)/.test(n)),
      [],
    );
    deepStrictEqual(report.skipped, [
      `.deno/${ort}/node_modules/onnxruntime-node/bin/napi-v6/darwin`,
      `.deno/${ort}/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64`,
      `.deno/${ort}/node_modules/onnxruntime-node/bin/napi-v6/win32`,
    ]);
    // Deno's node_modules links stay links, relative so the unpacked tree stands alone.
    deepStrictEqual(
      [
        entries.get("elmbench/node_modules/onnxruntime-node")?.type,
        entries.get("elmbench/node_modules/onnxruntime-node")?.linkname,
      ],
      ["symlink", `.deno/${ort}/node_modules/onnxruntime-node`],
    );

    deepStrictEqual(report.parts.map((p) => p.name), [
      "deno",
      "launcher",
      "project",
      "node_modules",
    ]);
    strictEqual(report.archiveBytes, (await Deno.stat(out)).size);
    strictEqual(report.tarBytes, report.archiveBytes);
    deepStrictEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["elmbench.tar"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeBundle() places a reduced provider beside libonnxruntime.so.1 (gzip)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The fixture stands in for ONNX Runtime's 230 MB CUDA provider: same layout, 31 KB.
    await Deno.mkdir(`${dir}/provider`);
    await Deno.copyFile(FIXTURE, `${dir}/provider/${PROVIDER_FILES[0]}`);
    const shared = new TextEncoder().encode("not an ELF, copied as is");
    await Deno.writeFile(`${dir}/provider/${PROVIDER_FILES[1]}`, shared);
    await Deno.writeTextFile(`${dir}/deno`, "#!/bin/sh\n");
    const ort = await ortPackage();
    const out = `${dir}/elmbench.tar.gz`;
    const report = await writeBundle({
      out,
      compress: "gzip",
      deno: `${dir}/deno`,
      provider: `${dir}/provider`,
      arch: 90,
      nodeModulesOnly: ["onnxruntime-node"],
    });
    const folder = `elmbench/node_modules/.deno/${ort}/node_modules/onnxruntime-node/bin/` +
      "napi-v6/linux/x64";
    const gunzipped = (await Deno.open(out)).readable.pipeThrough(
      new DecompressionStream("gzip") as ReadableWritablePair<Uint8Array, Uint8Array>,
    );
    const entries = await list(gunzipped, (n) => n.startsWith(folder));
    deepStrictEqual(
      entries.get(`${folder}/${PROVIDER_FILES[0]}`)?.bytes,
      reduceFatbin(await Deno.readFile(FIXTURE), 90),
    );
    deepStrictEqual(entries.get(`${folder}/${PROVIDER_FILES[1]}`)?.bytes, shared);
    strictEqual(entries.get(`${folder}/${PROVIDER_FILES[0]}`)?.mode, 0o755);
    deepStrictEqual(report.parts.slice(-2), [
      {
        name: PROVIDER_FILES[0],
        files: 1,
        bytes: 31672,
        note: "sm_90 kept, 5.1 kB of other archs zeroed",
      },
      { name: PROVIDER_FILES[1], files: 1, bytes: shared.length, note: "as is" },
    ]);
    strictEqual(report.archiveBytes < report.tarBytes, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeBundle() refuses an arch the provider lacks before writing anything", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/provider`);
    await Deno.copyFile(FIXTURE, `${dir}/provider/${PROVIDER_FILES[0]}`);
    await Deno.writeTextFile(`${dir}/provider/${PROVIDER_FILES[1]}`, "");
    await rejects(
      writeBundle({ out: `${dir}/b.tar`, compress: "none", provider: `${dir}/provider`, arch: 75 }),
      {
        name: "FatbinError",
        message: `${dir}/provider/${PROVIDER_FILES[0]}: no fatbin entry for sm_75; ` +
          "found sm_80, sm_90",
      },
    );
    deepStrictEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["provider"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const xz = await hasXz();
if (!xz) console.log("cmd_bundle_test: the xz bundle test is ignored: no xz on PATH");

Deno.test({
  name: "writeBundle() streams through xz when it is on PATH",
  ignore: !xz,
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/deno`, "#!/bin/sh\n");
    const out = `${dir}/elmbench.tar.xz`;
    await writeBundle({ out, compress: "xz", deno: `${dir}/deno`, nodeModulesOnly: [] });
    const xz = await new Deno.Command("xz", { args: ["-dc", out], stdout: "piped" }).output();
    strictEqual(xz.success, true);
    const entries = await list(new Blob([xz.stdout]).stream(), (n) => n === "elmbench/bin/deno");
    deepStrictEqual(
      entries.get("elmbench/bin/deno")?.bytes,
      new TextEncoder().encode("#!/bin/sh\n"),
    );
    strictEqual(entries.has("elmbench/deno.json"), true);
    deepStrictEqual([...entries.keys()].filter((n) => n.startsWith("elmbench/node_modules/")), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("formatBundleReport() lists parts, what was left out and the archive", () => {
  const text = formatBundleReport(
    {
      parts: [
        { name: "deno", files: 1, bytes: 95_600_728 },
        { name: "node_modules", files: 11941, bytes: 105_410_000 },
        { name: PROVIDER_FILES[0], files: 1, bytes: 229_780_440, note: "sm_90 kept" },
      ],
      skipped: [".deno/onnxruntime-node@1.29.0/node_modules/onnxruntime-node/bin/napi-v6/darwin"],
      tarBytes: 444_310_000,
      archiveBytes: 89_585_816,
    },
    "b.tar.xz",
    "xz",
  );
  strictEqual(
    text,
    [
      "deno                                  1 files   95.60 MB",
      "node_modules                      11941 files  105.41 MB",
      "libonnxruntime_providers_cuda.so      1 files  229.78 MB  sm_90 kept",
      "left out: onnxruntime-node/bin/napi-v6/darwin (other platforms)",
      "b.tar.xz: 89.59 MB (xz; 444.31 MB uncompressed)",
    ].join("\n"),
  );
});

Deno.test("writeBundle() walks a project without git, minus caches, outputs and itself", async () => {
  const root = await Deno.makeTempDir();
  try {
    for (const f of ["mod.ts", "harness/cli.ts", ".cache/splits/x", "out/r.jsonl", "b.tar"]) {
      await Deno.mkdir(`${root}/${f}`.replace(/\/[^/]+$/, ""), { recursive: true });
      await Deno.writeTextFile(`${root}/${f}`, f);
    }
    await Deno.mkdir(`${root}/node_modules/pkg`, { recursive: true });
    await Deno.symlink(`${root}/node_modules/pkg`, `${root}/node_modules/link`);
    await Deno.writeTextFile(`${root}/deno`, "#!/bin/sh\n");
    await writeBundle({ root, out: `${root}/b.tar`, compress: "none", deno: `${root}/deno` });
    const entries = await list((await Deno.open(`${root}/b.tar`)).readable);
    deepStrictEqual([...entries.keys()].filter((n) => !n.startsWith("elmbench/bin")), [
      "elmbench",
      "elmbench/elmbench",
      "elmbench/deno",
      "elmbench/harness",
      "elmbench/harness/cli.ts",
      "elmbench/mod.ts",
      "elmbench/node_modules",
      "elmbench/node_modules/link",
      "elmbench/node_modules/pkg",
    ]);
    // An absolute link into the project becomes relative, so the unpacked tree stands alone.
    strictEqual(entries.get("elmbench/node_modules/link")?.linkname, "pkg");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

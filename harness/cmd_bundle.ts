/**
 * `elmbench bundle --out FILE`: one archive that runs elmbench on a Linux
 * machine with no network (a GPU node behind a firewall): the running Deno
 * binary, the project, its `node_modules/` and a launcher, optionally with
 * ONNX Runtime's CUDA provider cut down to one GPU architecture.
 *
 * Inside the archive everything sits under `elmbench/`:
 *
 * - `elmbench/elmbench`: the launcher (bash);
 * - `elmbench/bin/deno`: the Deno that wrote the bundle (`Deno.execPath()`);
 * - `elmbench/<file>`: the project's files as git lists them (tracked plus
 *   untracked-but-not-ignored, so work not yet committed travels too);
 * - `elmbench/node_modules/`: all of it except other platforms' native
 *   binaries, which are most of onnxruntime-node's 283 MB;
 * - with `--provider`, the provider libraries beside `libonnxruntime.so.1`.
 *
 * @module
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { oneOf, parseArgs, UsageError } from "./cli_args.ts";
import { formatBytes } from "./cmd_fatbin.ts";
import { parseArch, reduceFatbinInPlace } from "./fatbin.ts";
import { isOtherPlatform, ortBinFolder, projectFiles } from "./bundle_files.ts";
import { TarWriter } from "./tar.ts";

/** Help text of `bundle`. */
export const BUNDLE_HELP = `elmbench bundle --out FILE [--compress xz|gzip|none]
    [--provider DIR [--arch sm_90]]
  Writes one tar archive that runs elmbench offline on another Linux machine
  of this CPU architecture: the running Deno binary, the project's files (git
  ls-files: tracked and untracked-not-ignored), node_modules/ without other
  platforms' native binaries, and a launcher. On the other machine:
    tar -xf FILE && elmbench/elmbench plugins
  Like deno task, the launcher runs from the unpacked folder, so give data and
  output paths there as absolute paths.
  --provider DIR  a folder holding ONNX Runtime's libonnxruntime_providers_cuda.so
                  and libonnxruntime_providers_shared.so, of the same ONNX Runtime
                  version as onnxruntime-node: bundled beside libonnxruntime.so.1,
                  where onnxruntime-node looks for the CUDA execution provider
  --arch          the GPU architecture whose CUDA code the provider keeps (default
                  sm_90); every other architecture's is zeroed (see elmbench fatbin)
  --compress      xz (xz -T0 -6; the default when xz is on PATH), gzip (the default
                  otherwise) or none. Sizes per part go to stderr.`;

/** The provider libraries `--provider` takes from its folder. */
export const PROVIDER_FILES = [
  "libonnxruntime_providers_cuda.so",
  "libonnxruntime_providers_shared.so",
] as const;

/** How the archive is compressed on its way to disk. */
export type Compression = "xz" | "gzip" | "none";

/** What {@linkcode writeBundle} puts in and where. */
export interface BundleOptions {
  readonly out: string;
  readonly compress: Compression;
  /** The project folder; this file's project by default. */
  readonly root?: string;
  /** The Deno binary to bundle; `Deno.execPath()` by default. */
  readonly deno?: string;
  /** A folder with {@linkcode PROVIDER_FILES}. */
  readonly provider?: string;
  /** The SM number the CUDA provider keeps (default 90). */
  readonly arch?: number;
  /**
   * Test hook: `node_modules`-relative paths whose subtrees are the only ones
   * bundled (their parent folders come along). The bundle test limits itself
   * to onnxruntime-node this way instead of copying ~150 MB every run.
   */
  readonly nodeModulesOnly?: readonly string[];
}

/** One part of the bundle and what it weighs before compression. */
export interface BundlePart {
  readonly name: string;
  files: number;
  bytes: number;
  /** What was done to it, e.g. which arch a provider kept. */
  note?: string;
}

/** What went in, and the size of what came out. */
export interface BundleReport {
  readonly parts: BundlePart[];
  /** Paths left out as other platforms' binaries, `node_modules`-relative. */
  readonly skipped: string[];
  readonly tarBytes: number;
  readonly archiveBytes: number;
}

const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));
/**
 * Left out of node_modules: `setup cuda`'s manifest (`CUDA_MANIFEST` in
 * kernels/cuda_provider.ts) records absolute paths of this machine's CUDA
 * libraries, wrong on any other; run `setup cuda` there instead.
 */
const MACHINE_SPECIFIC = new Set(["elmbench-cuda.json"]);
/** The launcher script: bundled Deno, bundled DENO_DIR, no network. */
export function launcherScript(): string {
  return `#!/usr/bin/env bash
# elmbench launcher, written by \`elmbench bundle\`. It runs the bundled Deno on
# the bundled project from this folder (as \`deno task elmbench\` does); with
# node_modules/ complete, --cached-only keeps Deno off the network, and DENO_DIR
# (Deno's compile cache) lives here too, so the machine's home stays untouched.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "\${BASH_SOURCE[0]}")")" && pwd)"
export DENO_DIR="\${ELMBENCH_DENO_DIR:-$here/.deno_dir}"
export DENO_NO_UPDATE_CHECK=1
cd "$here"
exec "$here/bin/deno" run -A --cached-only cli.ts "$@"
`;
}

/** Starts the output: the stream the tar goes into and how to finish it. */
async function openSink(
  path: string,
  compress: Compression,
): Promise<{ stream: WritableStream<Uint8Array>; finish(): Promise<void> }> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  if (compress === "none") return { stream: file.writable, finish: async () => {} };
  if (compress === "gzip") {
    const gzip = new CompressionStream("gzip");
    const piped = gzip.readable.pipeTo(file.writable);
    return { stream: gzip.writable as WritableStream<Uint8Array>, finish: () => piped };
  }
  const xz = new Deno.Command("xz", {
    args: ["-T0", "-6", "-c"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const piped = xz.stdout.pipeTo(file.writable);
  const stderr = new Response(xz.stderr).text();
  return {
    stream: xz.stdin,
    finish: async () => {
      const [status, message] = await Promise.all([xz.status, stderr, piped]);
      if (!status.success) throw new Error(`xz failed (exit ${status.code}): ${message.trim()}`);
    },
  };
}

/** True when `xz` runs here. */
export async function hasXz(): Promise<boolean> {
  try {
    return (await new Deno.Command("xz", { args: ["--version"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

/** Writes the bundle to `options.out` (through `<out>.partial`, renamed when complete). */
export async function writeBundle(options: BundleOptions): Promise<BundleReport> {
  const root = (options.root ?? PROJECT_ROOT).replace(/\/+$/, "");
  const deno = options.deno ?? Deno.execPath();
  const parts: Record<string, BundlePart> = {};
  const part = (name: string) => (parts[name] ??= { name, files: 0, bytes: 0 });
  const skipped: string[] = [];

  // Everything that can fail on bad input fails before the archive is begun.
  const providers: { name: string; bytes: Uint8Array; note: string }[] = [];
  let providerFolder = "";
  if (options.provider !== undefined) {
    const arch = options.arch ?? 90;
    providerFolder = await ortBinFolder(root);
    for (const name of PROVIDER_FILES) {
      const path = `${options.provider}/${name}`;
      const bytes = await Deno.readFile(path).catch((e) => {
        throw new Error(`--provider: cannot read ${path}: ${(e as Error).message}`);
      });
      let note = "as is";
      if (name.includes("cuda")) {
        const plan = reduceFatbinInPlace(bytes, arch, path);
        const zeroed = plan.drop.reduce((n, e) => n + e.payloadSize, 0);
        note = `sm_${arch} kept, ${formatBytes(zeroed)} of other archs zeroed`;
      }
      providers.push({ name, bytes, note });
    }
  }
  // A bundle written into the project (untracked, not ignored) must not swallow the last one.
  const outPath = resolve(options.out);
  const projectList = (await projectFiles(root)).filter((f) => {
    const path = resolve(root, f);
    // The project's own `elmbench` script (Deno or npx) gives way to the bundle's launcher.
    return path !== outPath && path !== `${outPath}.partial` && f !== "elmbench";
  });

  const partial = `${options.out}.partial`;
  const sink = await openSink(partial, options.compress);
  const tar = new TarWriter(sink.stream);
  try {
    await tar.addDirectory("elmbench");
    await tar.addDirectory("elmbench/bin");
    part("deno").bytes += await tar.addFileFrom("elmbench/bin/deno", deno, { mode: 0o755 });
    part("deno").files++;
    const launcher = new TextEncoder().encode(launcherScript());
    await tar.addFile("elmbench/elmbench", launcher, { mode: 0o755 });
    Object.assign(part("launcher"), { files: 1, bytes: launcher.length });

    const dirs = new Set<string>();
    for (const file of projectList) {
      const segments = file.split("/");
      for (let i = 1; i < segments.length; i++) {
        const dir = segments.slice(0, i).join("/");
        if (!dirs.has(dir)) await tar.addDirectory(`elmbench/${dir}`);
        dirs.add(dir);
      }
      await addPath(tar, `${root}/${file}`, `elmbench/${file}`, root, part("project"));
    }

    const replaced = new Set(providers.map((p) => `${providerFolder}/${p.name}`));
    const only = options.nodeModulesOnly;
    const wanted = (p: string) =>
      !only || only.some((o) => p === o || p.startsWith(`${o}/`) || o.startsWith(`${p}/`));
    const walk = async (rel: string) => {
      const names: string[] = [];
      for await (const entry of Deno.readDir(`${root}/node_modules${rel ? `/${rel}` : ""}`)) {
        names.push(entry.name);
      }
      for (const name of names.sort()) {
        const path = rel ? `${rel}/${name}` : name;
        if (!wanted(path) || replaced.has(path) || MACHINE_SPECIFIC.has(name)) continue;
        if (isOtherPlatform(path)) {
          skipped.push(path);
          continue;
        }
        const isDir = await addPath(
          tar,
          `${root}/node_modules/${path}`,
          `elmbench/node_modules/${path}`,
          root,
          part("node_modules"),
        );
        if (isDir) await walk(path);
      }
    };
    await tar.addDirectory("elmbench/node_modules");
    await walk("");

    for (const p of providers) {
      await tar.addFile(`elmbench/node_modules/${providerFolder}/${p.name}`, p.bytes, {
        mode: 0o755,
      });
      Object.assign(part(p.name), { files: 1, bytes: p.bytes.length, note: p.note });
    }
    await tar.close();
    await sink.finish();
  } catch (e) {
    await tar.abort(e).catch(() => {});
    await sink.finish().catch(() => {}); // lets xz exit before its output is removed
    await Deno.remove(partial).catch(() => {});
    throw e;
  }
  await Deno.rename(partial, options.out);
  return {
    parts: Object.values(parts),
    skipped,
    tarBytes: tar.bytesWritten,
    archiveBytes: (await Deno.stat(options.out)).size,
  };
}

/**
 * Adds the file, symlink or folder at `path` as `name`; true for a folder
 * (whose contents the caller walks). A symlink to an absolute path inside
 * `root` is made relative, so the unpacked tree does not point back here.
 */
async function addPath(
  tar: TarWriter,
  path: string,
  name: string,
  root: string,
  part: BundlePart,
): Promise<boolean> {
  const info = await Deno.lstat(path);
  if (info.isSymlink) {
    let target = await Deno.readLink(path);
    if (target.startsWith(`${root}/`)) {
      const from = name.split("/").slice(1, -1); // the link's folder, project-relative
      const to = target.slice(root.length + 1).split("/");
      let common = 0;
      while (common < from.length && from[common] === to[common]) common++;
      target = [...from.slice(common).map(() => ".."), ...to.slice(common)].join("/");
    }
    await tar.addSymlink(name, target);
    part.files++;
    return false;
  }
  if (info.isDirectory) {
    await tar.addDirectory(name, { mode: (info.mode ?? 0o755) & 0o7777 });
    return true;
  }
  part.bytes += await tar.addFileFrom(name, path);
  part.files++;
  return false;
}

/** One line per part, then the archive, for stderr. */
export function formatBundleReport(report: BundleReport, out: string, compress: string): string {
  const width = Math.max(...report.parts.map((p) => p.name.length));
  const skipped = report.skipped.map((p) => p.replace(/^\.deno\/[^/]+\/node_modules\//, ""));
  return [
    ...report.parts.map((p) =>
      `${p.name.padEnd(width)} ${String(p.files).padStart(6)} files ${
        formatBytes(p.bytes).padStart(10)
      }${p.note ? `  ${p.note}` : ""}`
    ),
    `left out: ${skipped.join(", ") || "nothing"} (other platforms)`,
    `${out}: ${formatBytes(report.archiveBytes)} (${compress}; ${
      formatBytes(report.tarBytes)
    } uncompressed)`,
  ].join("\n");
}

/** Runs `bundle`. */
export async function bundleCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs("bundle", args, {
    out: { type: "string" },
    arch: { type: "string" },
    provider: { type: "string" },
    compress: { type: "string" },
  });
  if (values.help) return console.log(BUNDLE_HELP);
  if (positionals.length > 0) throw new UsageError(`bundle takes no positionals: ${positionals}`);
  if (values.out === undefined) throw new UsageError("bundle needs --out FILE");
  if (values.arch !== undefined && values.provider === undefined) {
    throw new UsageError("--arch applies to the CUDA provider: give --provider DIR too");
  }
  let arch = 90;
  if (values.arch !== undefined) {
    try {
      arch = parseArch(values.arch as string);
    } catch (e) {
      throw new UsageError(`--arch: ${(e as Error).message}`);
    }
  }
  const xz = await hasXz();
  const compress = oneOf<Compression>(
    "compress",
    (values.compress as string | undefined) ?? (xz ? "xz" : "gzip"),
    ["xz", "gzip", "none"],
  );
  if (compress === "xz" && !xz) throw new UsageError("--compress xz: no xz on PATH; use gzip");
  const out = values.out as string;
  const report = await writeBundle({
    out,
    compress,
    provider: values.provider as string | undefined,
    arch,
  });
  console.error(formatBundleReport(report, out, compress));
}

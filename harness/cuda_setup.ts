/**
 * `elmbench setup cuda`: puts ONNX Runtime's CUDA provider beside the
 * `libonnxruntime.so.1` that `onnxruntime-node` loads, checks that its
 * version is the core's, resolves the CUDA libraries it links and writes
 * the manifest `kernels/cuda_provider.ts` reads at run time.
 *
 * Three sources, because no one of them reaches every machine:
 * - CUDA 13: the npm package `com.github.asus4.onnxruntime.linux-x64-gpu`,
 *   which repackages ONNX Runtime's own 1.29.0 provider (MIT), checked
 *   against its pinned sha512;
 * - CUDA 12: ONNX Runtime's install script (NuGet; needs a network);
 * - a folder the user already has (offline machines, a reduced provider).
 *
 * @module
 */

import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import {
  CUDA_MANIFEST,
  CUDA_PROVIDER,
  type CudaManifest,
  gpuInfo,
  openOrtCApi,
  ortBinaryDir,
} from "../kernels/mod.ts";
import { cudaSearchDirs, resolveLibraries } from "./cuda_libs.ts";
import { fetchNpmProvider, NPM_PROVIDER } from "./cuda_npm.ts";

/** The shared bridge ORT loads before any provider. */
export const SHARED_PROVIDER = "libonnxruntime_providers_shared.so";

/** A setup that cannot go on: the message says what to do. */
export class SetupError extends Error {
  override name = "SetupError";
}

/** Options of {@linkcode setupCuda}. */
export interface SetupOptions {
  /**
   * CUDA major version to install the provider for. When absent and a provider is
   * already in place (a bundle, an earlier setup), that one is checked and kept. @default "13"
   */
  readonly cuda?: "12" | "13";
  /** A folder holding the provider libraries (offline). */
  readonly from?: string;
  /** Extra folders to search for CUDA libraries, first. */
  readonly libDirs?: readonly string[];
  /** Where the provider goes. @default the folder of onnxruntime-node's libonnxruntime */
  readonly target?: string;
  /** Where downloads are cached. @default .cache/cuda */
  readonly cacheDir?: string;
  /** Progress and the report. @default console.error */
  readonly log?: (line: string) => void;
}

/** Finds a file by name in `dir` or below (a few levels: unpacked packages nest). */
export function findFile(dir: string, name: string, depth = 5): string | undefined {
  if (existsSync(join(dir, name))) return join(dir, name);
  if (depth === 0) return undefined;
  let entries: Deno.DirEntry[] = [];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return undefined;
  }
  for (const e of entries.filter((e) => e.isDirectory).sort((a, b) => a.name < b.name ? -1 : 1)) {
    const hit = findFile(join(dir, e.name), name, depth - 1);
    if (hit) return hit;
  }
  return undefined;
}

/**
 * The ONNX Runtime version a provider library was built from: the version
 * string it checks against the core at load ("onnxruntime version mismatch").
 */
export async function providerVersion(path: string): Promise<string | undefined> {
  const found = new Set<string>();
  const decoder = new TextDecoder("latin1");
  const file = await Deno.open(path);
  try {
    const chunk = new Uint8Array(1 << 22);
    let tail = "";
    while (true) {
      const n = await file.read(chunk);
      if (n === null) break;
      const text = tail + decoder.decode(chunk.subarray(0, n));
      for (const m of text.matchAll(/\0(1\.\d{1,2}\.\d{1,2})\0/g)) found.add(m[1]);
      tail = text.slice(-16);
    }
  } finally {
    file.close();
  }
  return found.size === 1 ? [...found][0] : undefined;
}

async function stageProvider(options: SetupOptions, target: string, log: (s: string) => void) {
  const inPlace = join(target, CUDA_PROVIDER), sharedInPlace = join(target, SHARED_PROVIDER);
  if (!options.from && !options.cuda && existsSync(inPlace) && existsSync(sharedInPlace)) {
    // A bundle (or an earlier setup) already put it there: check it and find its libraries.
    return { cuda: inPlace, shared: sharedInPlace, source: `already in ${target}` };
  }
  if (options.from) {
    const cuda = findFile(options.from, CUDA_PROVIDER);
    const shared = findFile(options.from, SHARED_PROVIDER);
    if (!cuda || !shared) {
      throw new SetupError(
        `${options.from} holds no ${
          !cuda ? CUDA_PROVIDER : SHARED_PROVIDER
        }; --from names a folder with both provider libraries`,
      );
    }
    return { cuda, shared, source: `folder ${options.from}` };
  }
  if ((options.cuda ?? "13") === "13") {
    const cacheDir = options.cacheDir ?? join(".cache", "cuda");
    const staged = await fetchNpmProvider(cacheDir, log);
    return { ...staged, source: `npm ${NPM_PROVIDER.name}@${NPM_PROVIDER.version}` };
  }
  return await runOrtInstallScript(target, log);
}

/** CUDA 12: ONNX Runtime's own install script, which fetches from NuGet into `target`. */
async function runOrtInstallScript(target: string, log: (s: string) => void) {
  const script = join(target, "..", "..", "..", "..", "script", "install.js");
  if (!existsSync(script)) {
    throw new SetupError(`ONNX Runtime's install script is not at ${script}`);
  }
  log(`running ${script} (ONNXRUNTIME_NODE_INSTALL=cuda12; fetches from NuGet)`);
  let status;
  try {
    status = await new Deno.Command("node", {
      args: [script],
      cwd: dirname(dirname(script)),
      env: { ONNXRUNTIME_NODE_INSTALL: "cuda12" },
      stdout: "inherit",
      stderr: "inherit",
    }).output();
  } catch (e) {
    throw new SetupError(`Cannot run node for ${script}: ${(e as Error).message}`);
  }
  if (!status.success) {
    throw new SetupError(
      `ONNX Runtime's install script failed (exit ${status.code}); without a network, use --from DIR`,
    );
  }
  return {
    cuda: join(target, CUDA_PROVIDER),
    shared: join(target, SHARED_PROVIDER),
    source: "ONNX Runtime's install script (NuGet, CUDA 12)",
  };
}

/** Installs the CUDA provider and returns the manifest it wrote. */
export async function setupCuda(options: SetupOptions = {}): Promise<CudaManifest> {
  const log = options.log ?? ((line: string) => console.error(line));
  const target = options.target ?? ortBinaryDir();
  const core = openOrtCApi().version;
  const staged = await stageProvider(options, target, log);
  const version = await providerVersion(staged.cuda);
  if (version !== core) {
    throw new SetupError(
      `${staged.cuda} is ONNX Runtime ${
        version ?? "(version not found)"
      }'s CUDA provider, but onnxruntime-node loads ONNX Runtime ${core}: a provider must match its core ("onnxruntime version mismatch"). Pin onnxruntime-node to ${
        version ?? "the provider's version"
      } in deno.json or bring a ${core} provider`,
    );
  }
  mkdirSync(target, { recursive: true });
  for (const file of [staged.cuda, staged.shared]) {
    const dest = join(target, basename(file));
    if (file !== dest) copyFileSync(file, dest);
  }
  const dirs = await cudaSearchDirs(options.libDirs);
  const { found, missing: all } = await resolveLibraries(join(target, CUDA_PROVIDER), dirs);
  // The driver's library belongs to the GPU node; a machine preparing a bundle may lack it.
  const missing = all.filter((m) => m.soname !== "libcuda.so.1");
  if (missing.length < all.length) {
    log("warning: no libcuda.so.1 (the NVIDIA driver) here; CUDA runs only where a driver is");
  }
  if (missing.length) {
    throw new SetupError(
      `Cannot find ${
        missing.map((m) => `${m.soname} (needed by ${basename(m.neededBy)})`).join(", ")
      } in any of: ${dirs.join(", ") || "(no folder)"}. Install CUDA ${
        options.cuda ?? "13"
      }'s runtime libraries or name their folder with --cuda-libs DIR`,
    );
  }
  const gpu = gpuInfo(found.find((l) => l.soname === "libcuda.so.1")?.path);
  const manifest: CudaManifest = {
    ortVersion: core,
    cuda: options.cuda ?? "13",
    source: staged.source,
    libraries: Object.fromEntries(found.map((l) => [l.soname, l.path])),
  };
  writeFileSync(join(target, CUDA_MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
  log(`CUDA provider: ONNX Runtime ${version} (core ${core}), from ${staged.source}`);
  log(`installed in ${target}`);
  for (const l of found) log(`  ${l.soname.padEnd(22)} ${l.path}`);
  log(
    "name" in gpu
      ? `GPU: ${gpu.name} (${gpu.arch}, driver for CUDA ${gpu.driverCuda})`
      : `GPU: none (${gpu.reason})`,
  );
  return manifest;
}

/**
 * Finding the CUDA libraries ONNX Runtime's CUDA provider links
 * (`libcudart.so.13`, `libcublas.so.13`, ...) on a machine that may have
 * them in a toolkit folder, in pip's `nvidia-*` packages beside PyTorch, or
 * only in the loader's cache. Each found library's own needs are followed,
 * so the list comes out in an order that loads (dependencies first).
 *
 * @module
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { elfNeeded } from "./elf.ts";

/** Libraries every Linux has; never searched for or preloaded. */
const SYSTEM = /^(libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s|ld-linux[\w-]*)\.so/;

/** A CUDA library found on this machine. */
export interface FoundLibrary {
  readonly soname: string;
  readonly path: string;
}

/** What {@linkcode resolveLibraries} found and did not. */
export interface Resolution {
  /** Found libraries, dependencies before the libraries that need them. */
  readonly found: FoundLibrary[];
  /** Sonames found nowhere, with who needs them. */
  readonly missing: { soname: string; neededBy: string }[];
}

/**
 * Resolves the non-system libraries `library` needs, and theirs, in `dirs`
 * (first match wins).
 */
export async function resolveLibraries(
  library: string,
  dirs: readonly string[],
): Promise<Resolution> {
  const found: FoundLibrary[] = [];
  const missing: Resolution["missing"] = [];
  const seen = new Set<string>();
  const visit = async (path: string) => {
    for (const soname of await elfNeeded(path)) {
      if (SYSTEM.test(soname) || seen.has(soname)) continue;
      seen.add(soname);
      const dir = dirs.find((d) => existsSync(join(d, soname)));
      if (!dir) {
        missing.push({ soname, neededBy: path });
        continue;
      }
      const resolved = join(dir, soname);
      await visit(resolved);
      found.push({ soname, path: resolved });
    }
  };
  await visit(library);
  return { found, missing };
}

async function output(cmd: string, args: string[]): Promise<string> {
  try {
    const { success, stdout } = await new Deno.Command(cmd, { args, stderr: "null" }).output();
    return success ? new TextDecoder().decode(stdout) : "";
  } catch {
    return "";
  }
}

/** Folders holding `lib*.so*` under pip's `nvidia` namespace packages (PyTorch's CUDA). */
async function pipNvidiaDirs(): Promise<string[]> {
  const roots = (await output("python3", [
    "-c",
    "import nvidia, sys; print('\\n'.join(nvidia.__path__))",
  ])).split("\n").filter(Boolean);
  const dirs: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      return;
    }
    if (entries.some((e) => e.isFile && /^lib.*\.so/.test(e.name))) dirs.push(dir);
    if (depth > 0) {
      for (const e of entries) {
        if (e.isDirectory) walk(join(dir, e.name), depth - 1);
      }
    }
  };
  for (const root of roots) walk(root, 3);
  return dirs.sort();
}

/** Folders the loader's cache (`ldconfig -p`) knows libraries in. */
async function ldconfigDirs(): Promise<string[]> {
  const text = await output("ldconfig", ["-p"]);
  const dirs = new Set<string>();
  for (const m of text.matchAll(/=> (\S+)\/[^/\s]+$/gm)) dirs.add(m[1]);
  return [...dirs];
}

/**
 * Where to look, in order: the folders the user named, `LD_LIBRARY_PATH`,
 * CUDA toolkit folders, pip's nvidia packages, the NVIDIA driver's usual
 * folders and the loader's cache.
 */
export async function cudaSearchDirs(extra: readonly string[] = []): Promise<string[]> {
  const env = (name: string) => Deno.env.get(name) ?? "";
  const home = env("CUDA_HOME") || env("CUDA_PATH") || "/usr/local/cuda";
  const dirs = [
    ...extra,
    ...env("LD_LIBRARY_PATH").split(":"),
    join(home, "lib64"),
    join(home, "targets", "x86_64-linux", "lib"),
    ...await pipNvidiaDirs(),
    "/usr/local/nvidia/lib64",
    "/usr/local/nvidia/lib",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib64",
    ...await ldconfigDirs(),
  ].filter(Boolean);
  return [...new Set(dirs)].filter((d) => existsSync(d));
}

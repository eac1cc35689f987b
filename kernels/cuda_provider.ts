/**
 * Finding ONNX Runtime's CUDA provider at run time. `elmbench setup cuda`
 * puts the provider libraries beside `libonnxruntime.so.1` and writes a
 * manifest of the CUDA libraries it resolved; here those libraries are loaded
 * by absolute path before the first CUDA session, so the provider's own
 * `libcudart.so.13`, `libcublas.so.13`, ... resolve to them by soname with no
 * `LD_LIBRARY_PATH` (the provider carries no run path of its own).
 *
 * @module
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ortBinaryDir } from "./ort_capi.ts";

/** File name of the manifest `setup cuda` writes beside the provider. */
export const CUDA_MANIFEST = "elmbench-cuda.json";
/** The provider library ONNX Runtime loads for `--device cuda`. */
export const CUDA_PROVIDER = "libonnxruntime_providers_cuda.so";

/** What `setup cuda` found and installed. */
export interface CudaManifest {
  /** ONNX Runtime version of the core library and of the provider (they must match). */
  readonly ortVersion: string;
  /** CUDA major version the provider was built for. */
  readonly cuda: string;
  /** Where the provider came from (npm package, URL or folder). */
  readonly source: string;
  /** Every CUDA library the provider needs, soname -> absolute path, in load order. */
  readonly libraries: Readonly<Record<string, string>>;
  /** GPU architecture the provider was reduced to, if it was. */
  readonly arch?: string;
}

/** Reads the manifest in `dir`, if `setup cuda` wrote one. */
export function readCudaManifest(dir = ortBinaryDir()): CudaManifest | undefined {
  const path = join(dir, CUDA_MANIFEST);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as CudaManifest;
  } catch (e) {
    throw new Error(
      `Cannot read ${path}: ${(e as Error).message}; run "elmbench setup cuda" again`,
    );
  }
}

/** The advice every "CUDA cannot start" error ends with. */
export const SETUP_HINT = 'install it with "./elmbench setup cuda" (docs/gpu.md)';

/** Per provider folder: the CUDA runtime, and the loaded libraries (kept open). */
const loaded = new Map<
  string,
  { cudart: string; handles: Deno.DynamicLibrary<Record<string, never>>[] }
>();

/**
 * Makes the CUDA provider loadable: checks that it is installed and loads
 * the CUDA libraries of the manifest. Returns the CUDA runtime to open for
 * memory copies. Throws, naming `setup cuda`, when the provider is missing.
 */
export function prepareCuda(dir = ortBinaryDir()): { cudart: string } {
  const done = loaded.get(dir);
  if (done) return done;
  if (!existsSync(join(dir, CUDA_PROVIDER))) {
    throw new Error(`ONNX Runtime's CUDA provider is not in ${dir}; ${SETUP_HINT}`);
  }
  const manifest = readCudaManifest(dir);
  const handles: Deno.DynamicLibrary<Record<string, never>>[] = [];
  for (const [soname, path] of Object.entries(manifest?.libraries ?? {})) {
    try {
      handles.push(Deno.dlopen(path, {}));
    } catch (e) {
      throw new Error(
        `Cannot load ${soname} from ${path} (recorded by setup cuda): ${
          (e as Error).message
        }; ${SETUP_HINT}`,
      );
    }
  }
  const cudartName = Object.keys(manifest?.libraries ?? {}).find((s) => s.startsWith("libcudart"));
  const cudart = cudartName
    ? manifest!.libraries[cudartName]
    : `libcudart.so.${manifest?.cuda ?? 13}`;
  const result = { cudart, handles };
  loaded.set(dir, result);
  return result;
}

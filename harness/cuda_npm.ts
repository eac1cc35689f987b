/**
 * The CUDA 13 provider from npm: `com.github.asus4.onnxruntime.linux-x64-gpu`
 * repackages ONNX Runtime 1.29.0's own `libonnxruntime_providers_cuda.so`
 * (built against CUDA 13: cuBLAS 13, cuRAND 10, cudart 13). The tarball is
 * fetched from the npm registry, checked against its pinned sha512 and
 * cached, and the two provider libraries are taken out of it.
 *
 * @module
 */

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { CUDA_PROVIDER } from "../kernels/mod.ts";
import { readTar } from "./tar.ts";

/** The package, its integrity (from the registry) and where its libraries sit. */
export const NPM_PROVIDER = {
  name: "com.github.asus4.onnxruntime.linux-x64-gpu",
  version: "0.4.9",
  /** The ONNX Runtime version its libraries are. */
  ortVersion: "1.29.0",
  integrity:
    "sha512-FopIhNE/Ng+v2X65wVc9clPCBCvhvA53Hxo2U0Kf5fGdVsC7iCA+mZ0KLWggcQAj7TIZ6pNidR4AC10g74Xo6w==",
  folder: "package/Plugins/Linux/x64/",
} as const;

const SHARED = "libonnxruntime_providers_shared.so";

function registry(): string {
  const env = Deno.env.get("NPM_CONFIG_REGISTRY") ?? Deno.env.get("npm_config_registry");
  return (env ?? "https://registry.npmjs.org").replace(/\/$/, "");
}

async function sha512(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-512", bytes));
  return `sha512-${btoa(String.fromCharCode(...digest))}`;
}

/** The tarball, from the cache or the registry, verified. */
async function tarball(cacheDir: string, log: (s: string) => void): Promise<Uint8Array> {
  const { name, version, integrity } = NPM_PROVIDER;
  const file = join(cacheDir, `${name}-${version}.tgz`);
  if (existsSync(file)) {
    const cached = await Deno.readFile(file);
    if (await sha512(cached) === integrity) return cached;
    log(`${file} does not match the pinned sha512; fetching it again`);
  }
  const url = `${registry()}/${name}/-/${name}-${version}.tgz`;
  log(`fetching ${url} (about 180 MB)`);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(
      `Cannot fetch ${url}: ${
        (e as Error).message
      }. Offline, unpack that package elsewhere and use --from DIR`,
    );
  }
  if (!response.ok) throw new Error(`Cannot fetch ${url}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const got = await sha512(bytes);
  if (got !== integrity) {
    throw new Error(`${url} has ${got}, not the pinned ${integrity}: refusing to install it`);
  }
  mkdirSync(cacheDir, { recursive: true });
  await Deno.writeFile(file, bytes);
  return bytes;
}

/** Writes the package's two provider libraries under `cacheDir` and returns their paths. */
export async function fetchNpmProvider(
  cacheDir: string,
  log: (s: string) => void,
): Promise<{ cuda: string; shared: string }> {
  const dir = join(cacheDir, `${NPM_PROVIDER.name}-${NPM_PROVIDER.version}`);
  const cuda = join(dir, CUDA_PROVIDER), shared = join(dir, SHARED);
  if (existsSync(cuda) && existsSync(shared)) return { cuda, shared };
  const bytes = await tarball(cacheDir, log);
  mkdirSync(dir, { recursive: true });
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream("gzip"));
  const wanted = new Set([CUDA_PROVIDER, SHARED].map((f) => NPM_PROVIDER.folder + f));
  for await (const entry of readTar(stream, `${NPM_PROVIDER.name}-${NPM_PROVIDER.version}.tgz`)) {
    if (!wanted.has(entry.name)) continue;
    await Deno.writeFile(
      join(dir, entry.name.slice(NPM_PROVIDER.folder.length)),
      await entry.body(),
    );
  }
  if (!existsSync(cuda) || !existsSync(shared)) {
    throw new Error(`${NPM_PROVIDER.name}@${NPM_PROVIDER.version} holds no ${NPM_PROVIDER.folder}`);
  }
  return { cuda, shared };
}

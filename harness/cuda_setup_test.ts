/**
 * `setup cuda --from DIR` on stub libraries (tests/fixtures/cuda_setup):
 * what it installs, the order it records the CUDA libraries in, and its
 * refusals. Nothing here needs a GPU or a network.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CUDA_MANIFEST, prepareCuda } from "../kernels/cuda_provider.ts";
import { resolveLibraries } from "./cuda_libs.ts";
import { providerVersion, setupCuda } from "./cuda_setup.ts";
import { elfNeeded } from "./elf.ts";

const FIXTURES = new URL("../tests/fixtures/cuda_setup/", import.meta.url).pathname;
const CUDA_DIR = join(FIXTURES, "cuda");

Deno.test("elfNeeded reads a library's DT_NEEDED list in order", async () => {
  assert.deepEqual(
    await elfNeeded(join(FIXTURES, "provider", "libonnxruntime_providers_cuda.so")),
    ["libcudart.so.13", "libcublas.so.13", "libc.so.6"],
  );
  await assert.rejects(() => elfNeeded(join(FIXTURES, "README.md")), /not an ELF file/);
});

Deno.test("CUDA libraries resolve dependencies first, system libraries skipped", async () => {
  const { found, missing } = await resolveLibraries(
    join(FIXTURES, "provider", "libonnxruntime_providers_cuda.so"),
    [CUDA_DIR],
  );
  assert.deepEqual(found.map((l) => l.soname), [
    "libcudart.so.13",
    "libcublasLt.so.13",
    "libcublas.so.13",
  ]);
  assert.equal(found[2].path, join(CUDA_DIR, "libcublas.so.13"));
  assert.deepEqual(missing, []);
});

Deno.test("a provider's ONNX Runtime version is read from its bytes", async () => {
  assert.equal(
    await providerVersion(join(FIXTURES, "provider_old", "libonnxruntime_providers_cuda.so")),
    "1.28.0",
  );
});

Deno.test("setup cuda --from installs the provider and records its CUDA libraries", async () => {
  const target = await Deno.makeTempDir();
  const lines: string[] = [];
  const manifest = await setupCuda({
    from: join(FIXTURES, "provider"),
    libDirs: [CUDA_DIR],
    target,
    log: (l) => lines.push(l),
  });
  assert.ok(existsSync(join(target, "libonnxruntime_providers_cuda.so")));
  assert.ok(existsSync(join(target, "libonnxruntime_providers_shared.so")));
  assert.equal(manifest.ortVersion, "1.29.0");
  assert.deepEqual(Object.keys(manifest.libraries), [
    "libcudart.so.13",
    "libcublasLt.so.13",
    "libcublas.so.13",
  ]);
  assert.deepEqual(JSON.parse(readFileSync(join(target, CUDA_MANIFEST), "utf8")), manifest);
  const report = lines.join("\n");
  assert.match(report, /CUDA provider: ONNX Runtime 1\.29\.0 \(core 1\.29\.0\)/);
  assert.match(report, new RegExp(`libcublas\\.so\\.13 +${join(CUDA_DIR, "libcublas.so.13")}`));
  assert.match(report, /GPU: /);
  // The runtime side loads what the manifest lists, by path.
  assert.equal(prepareCuda(target).cudart, join(CUDA_DIR, "libcudart.so.13"));
});

Deno.test("setup cuda refuses a provider of another ONNX Runtime version", async () => {
  const target = await Deno.makeTempDir();
  await assert.rejects(
    () =>
      setupCuda({
        from: join(FIXTURES, "provider_old"),
        libDirs: [CUDA_DIR],
        target,
        log: () => {},
      }),
    /ONNX Runtime 1\.28\.0's CUDA provider, but onnxruntime-node loads ONNX Runtime 1\.29\.0/,
  );
  assert.ok(!existsSync(join(target, "libonnxruntime_providers_cuda.so")));
});

Deno.test("setup cuda names a CUDA library it cannot find, and where it looked", async () => {
  const target = await Deno.makeTempDir();
  await assert.rejects(
    () =>
      setupCuda({
        from: join(FIXTURES, "provider_missing"),
        libDirs: [CUDA_DIR],
        target,
        log: () => {},
      }),
    (e: Error) => {
      assert.match(
        e.message,
        /Cannot find libelmbench_missing\.so\.1 \(needed by libonnxruntime_providers_cuda\.so\)/,
      );
      assert.ok(e.message.includes(CUDA_DIR), e.message);
      assert.match(e.message, /--cuda-libs DIR/);
      return true;
    },
  );
});

Deno.test("setup cuda --from a folder without the provider says what it needs", async () => {
  await assert.rejects(
    () => setupCuda({ from: CUDA_DIR, log: () => {} }),
    /holds no libonnxruntime_providers_cuda\.so; --from names a folder with both/,
  );
});

Deno.test("setup cuda with no source keeps a provider already in place (an unpacked bundle)", async () => {
  const target = await Deno.makeTempDir();
  for (const f of ["libonnxruntime_providers_cuda.so", "libonnxruntime_providers_shared.so"]) {
    await Deno.copyFile(join(FIXTURES, "provider", f), join(target, f));
  }
  const manifest = await setupCuda({ libDirs: [CUDA_DIR], target, log: () => {} });
  assert.equal(manifest.source, `already in ${target}`);
  assert.equal(Object.keys(manifest.libraries).length, 3);
});

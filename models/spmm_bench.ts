/**
 * `deno bench` suite of the engine's sparse kernels on a user-item graph of
 * Beauty's size (22,363 users, 12,101 items, ~153k training interactions,
 * synthetic): the WebAssembly SIMD spmm on one and two threads against the
 * plain JS loop, at 64 and 512 dims.
 *
 * @module
 */

import { createRng, createSparseEngine, propagateMean, spmm } from "../kernels/mod.ts";
import { spmmJs } from "../kernels/spmm.ts";
import { normalizedAdjacency, syntheticTrain } from "./interaction_graph.ts";

const rng = createRng(1);
const a = normalizedAdjacency(22_363, 12_101, syntheticTrain(22_363, 12_101, 153_776, rng));
const pool = await createSparseEngine({ threads: 2 });
globalThis.addEventListener("unload", () => pool.close());

for (const d of [64, 512]) {
  const x = Float32Array.from({ length: a.nRows * d }, () => rng.normal());
  const out = new Float32Array(a.nRows * d);
  const group = `spmm d${d}`;
  Deno.bench(`wasm simd, 1 thread, d${d}`, { group, baseline: true }, () => {
    spmm(a, x, { out });
  });
  Deno.bench(`wasm simd, 2 threads, d${d}`, { group }, () => {
    pool.spmm(a, x, { out });
  });
  Deno.bench(`plain JS loop, d${d}`, { group, n: d === 512 ? 5 : 20 }, () => {
    spmmJs(a, x, { out });
  });
  Deno.bench(`propagateMean L=4, 1 thread, d${d}`, { group: `propagate d${d}`, n: 5 }, () => {
    propagateMean(a, x, { layers: 4, out });
  });
  Deno.bench(`propagateMean L=4, 2 threads, d${d}`, { group: `propagate d${d}`, n: 5 }, () => {
    pool.propagateMean(a, x, { layers: 4, out });
  });
}

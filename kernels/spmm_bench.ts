/**
 * `deno bench` suite of the sparse and selection kernels, on a synthetic
 * graph of Beauty's size (22,363 users, 12,101 items, ~153k training
 * interactions): the WebAssembly SIMD spmm on one and two threads against
 * the plain JS loop, at 64 and 512 dims; and top-k against a full sort.
 *
 * @module
 */

import { createRng } from "./rng.ts";
import { normalizedAdjacency, syntheticTrain } from "./adjacency.ts";
import { createSparseEngine, propagateMean, spmm, spmmJs } from "./spmm.ts";
import { topK, topKBySort } from "./topk.ts";

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

// Sequential recommendation scores every item for a batch of users.
const rows = 256, items = 12_102;
const scores = Float32Array.from({ length: rows * items }, () => rng.normal());
Deno.bench("topK heap, 256 x 12,102, k = 25", { group: "topk", baseline: true }, () => {
  topK(scores, 25, { rows });
});
Deno.bench("full sort, 256 x 12,102, k = 25", { group: "topk", n: 3 }, () => {
  topKBySort(scores, 25, { rows });
});

import assert from "node:assert/strict";
import { compileInference, createRng, Graph, ParamStore } from "../kernels/mod.ts";
import { createKmeans } from "./kmeans.ts";

Deno.test("ArgMax picks the first of the largest entries along an axis", async () => {
  const g = new Graph();
  const x = g.input("x", "float32", [2, 3]);
  const infer = await compileInference({ i: g.argMax(x, 1) }, new ParamStore());
  const { i } = await infer.run({ x: Float32Array.from([1, 5, 5, -1, -3, -2]) });
  assert.deepEqual(Array.from(i.data as BigInt64Array, Number), [1, 0]);
});

Deno.test("k-means finds well separated blobs and returns their means", async () => {
  const rng = createRng(5);
  const centres = [[0, 0], [10, 0], [0, 10]];
  const n = 60, d = 2;
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = centres[i % 3];
    x[i * d] = c[0] + 0.3 * rng.normal();
    x[i * d + 1] = c[1] + 0.3 * rng.normal();
  }
  const km = await createKmeans({ points: n, clusters: 3, dim: d, iterations: 10 });
  const { centroids, assignment } = await km.run(x, createRng(1));
  for (let i = 3; i < n; i++) assert.equal(assignment[i], assignment[i % 3], `point ${i}`);
  assert.equal(new Set(assignment).size, 3);
  for (let c = 0; c < 3; c++) {
    const j = assignment[c];
    let mx = 0, my = 0;
    for (let i = c; i < n; i += 3) {
      mx += x[i * d] / 20;
      my += x[i * d + 1] / 20;
    }
    assert.ok(Math.abs(centroids[j * d] - mx) < 1e-4 && Math.abs(centroids[j * d + 1] - my) < 1e-4);
  }
});

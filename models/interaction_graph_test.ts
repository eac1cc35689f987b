import assert from "node:assert/strict";
import { createRng, transpose } from "../kernels/mod.ts";
import { normalizedAdjacency, syntheticTrain } from "./interaction_graph.ts";

const ragged = (rows: number[][]) => {
  const offsets = new Uint32Array(rows.length + 1);
  rows.forEach((r, i) => offsets[i + 1] = offsets[i] + r.length);
  return { offsets, values: Int32Array.from(rows.flat()) };
};

Deno.test("normalizedAdjacency() matches a hand-computed 2-user, 3-item graph", () => {
  // user 1: items 1, 2 (item 2 listed twice); user 2: item 2, 3.
  // Nodes: 0 unused, users 1-2, items 3-5. Degrees: u1 2, u2 2, i1 1, i2 2, i3 1.
  const a = normalizedAdjacency(2, 3, ragged([[2, 1, 2], [3, 2]]));
  assert.equal(a.nRows, 6);
  assert.equal(a.symmetric, true);
  assert.deepEqual(Array.from(a.offsets), [0, 0, 2, 4, 5, 7, 8]);
  assert.deepEqual(Array.from(a.columns), [3, 4, 4, 5, 1, 1, 2, 2]);
  const s = Math.SQRT1_2, h = 0.5;
  const want = [s, h, h, s, s, h, h, s];
  a.values.forEach((v, k) => assert.ok(Math.abs(v - want[k]) < 1e-7, `value ${k}: ${v}`));
});

Deno.test("normalizedAdjacency() rejects out-of-range items and wrong offsets", () => {
  assert.throws(() => normalizedAdjacency(1, 2, ragged([[3]])), {
    name: "RangeError",
    message: "Expected item ids in [1, 2] but found 3 for user 1",
  });
  assert.throws(() => normalizedAdjacency(2, 2, ragged([[1]])), { name: "TypeError" });
});

Deno.test("normalizedAdjacency() merges a repeated edge and leaves node 0 isolated", () => {
  // user 1 lists item 1 twice: one edge of weight 1 / sqrt(1 * 1).
  const a = normalizedAdjacency(1, 1, ragged([[1, 1]]));
  assert.deepEqual(Array.from(a.offsets), [0, 0, 1, 2]);
  assert.deepEqual(Array.from(a.columns), [2, 1]);
  assert.deepEqual(Array.from(a.values), [1, 1]);
});

Deno.test("normalizedAdjacency() of a synthetic train set is symmetric", () => {
  const a = normalizedAdjacency(50, 30, syntheticTrain(50, 30, 400, createRng(1)));
  const t = transpose(a);
  assert.deepEqual(t.offsets, a.offsets);
  assert.deepEqual(t.columns, a.columns);
  assert.deepEqual(t.values, a.values);
});

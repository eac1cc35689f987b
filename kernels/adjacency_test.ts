import assert from "node:assert/strict";
import { fromCoo, normalizeSymmetric, transpose } from "./adjacency.ts";
import { createRng } from "./rng.ts";

Deno.test("transpose() of transpose() is the identity and rows stay sorted", () => {
  const rng = createRng(3);
  const rows = [], cols = [], vals = [];
  for (let k = 0; k < 200; k++) {
    rows.push(rng.int(17));
    cols.push(rng.int(11));
    vals.push(rng.normal());
  }
  const a = fromCoo(17, 11, rows, cols, vals);
  const t = transpose(a);
  assert.equal(t.nRows, 11);
  for (let r = 0; r < t.nRows; r++) {
    for (let k = t.offsets[r] + 1; k < t.offsets[r + 1]; k++) {
      assert.ok(t.columns[k - 1] < t.columns[k]);
    }
  }
  const back = transpose(t);
  assert.deepEqual(back.offsets, a.offsets);
  assert.deepEqual(back.columns, a.columns);
  assert.deepEqual(back.values, a.values);
});

Deno.test("normalizeSymmetric() divides by the square roots of both degrees and keeps the structure", () => {
  // A weighted triangle plus an isolated row 3: degrees 3, 3, 4, 0.
  const rows = [0, 0, 1, 1, 2, 2], cols = [1, 2, 0, 2, 0, 1], vals = [1, 2, 1, 2, 2, 2];
  const a = { ...fromCoo(4, 4, rows, cols, vals), symmetric: true };
  const n = normalizeSymmetric(a);
  assert.equal(n.symmetric, true);
  assert.deepEqual(n.offsets, a.offsets);
  assert.deepEqual(n.columns, a.columns);
  const want = [
    1 / 3,
    2 / Math.sqrt(12),
    1 / 3,
    2 / Math.sqrt(12),
    2 / Math.sqrt(12),
    2 / Math.sqrt(12),
  ];
  n.values.forEach((v, k) => assert.ok(Math.abs(v - want[k]) < 1e-7, `value ${k}: ${v}`));
  assert.equal(n.offsets[4] - n.offsets[3], 0);
  assert.throws(() => normalizeSymmetric(fromCoo(2, 3, [0], [1], [1])), {
    name: "TypeError",
    message: "Expected a square matrix but found 2 x 3",
  });
});

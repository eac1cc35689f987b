import assert from "node:assert/strict";
import { topK, topKBySort } from "./topk.ts";
import { createRng } from "./rng.ts";

Deno.test("topK() breaks ties by lower index and pads short rows", () => {
  const scores = new Float32Array([1, 5, 5, NaN, 2, 5]);
  const r = topK(scores, 4);
  assert.deepEqual(Array.from(r.indices), [1, 2, 5, 4]);
  const short = topK(new Float32Array([NaN, 3]), 3);
  assert.deepEqual(Array.from(short.indices), [1, -1, -1]);
  assert.ok(Number.isNaN(short.values[1]));
});

Deno.test("topK() skips excluded indices per row", () => {
  const scores = new Float32Array([9, 8, 7, 6, /**/ 9, 8, 7, 6]);
  const exclude = { offsets: new Uint32Array([0, 2, 3]), values: new Int32Array([0, 2, 1]) };
  const r = topK(scores, 2, { rows: 2, exclude });
  assert.deepEqual(Array.from(r.indices), [1, 3, 0, 2]);
  assert.deepEqual(Array.from(r.values), [8, 6, 9, 7]);
  assert.throws(
    () =>
      topK(scores, 2, {
        rows: 2,
        exclude: { offsets: exclude.offsets, values: new Int32Array([0, 9, 1]) },
      }),
    { name: "RangeError", message: "Expected excluded indices in [0, 4) but found 9 in row 0" },
  );
});

Deno.test("topK() matches a full sort on random rows with many ties", () => {
  const rng = createRng(7);
  for (const [rows, n, k] of [[5, 1000, 10], [3, 50, 50], [4, 20, 30], [2, 300, 0], [8, 257, 1]]) {
    // Few distinct values: ties everywhere.
    const scores = Float32Array.from({ length: rows * n }, () => rng.int(20) - 10);
    const offsets = new Uint32Array(rows + 1);
    const ex: number[] = [];
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < n; j += 1 + rng.int(7)) ex.push(j);
      offsets[r + 1] = ex.length;
    }
    const exclude = { offsets, values: Int32Array.from(ex) };
    for (const options of [{ rows }, { rows, exclude }]) {
      const got = topK(scores, k, options);
      const want = topKBySort(scores, k, options);
      assert.deepEqual(got.indices, want.indices, `rows ${rows} n ${n} k ${k}`);
      assert.deepEqual(got.values, want.values);
    }
  }
});

Deno.test("topK() rejects bad k and ragged score buffers", () => {
  assert.throws(() => topK(new Float32Array(4), -1), { name: "RangeError" });
  assert.throws(() => topK(new Float32Array(5), 1, { rows: 2 }), {
    name: "TypeError",
    message: "Expected scores to hold 2 equal rows but found 5 values",
  });
});

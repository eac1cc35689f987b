import assert from "node:assert/strict";
import {
  attentionMask,
  fillPositions,
  fillResets,
  fillSlots,
  lastSlots,
  packLayouts,
  rowsFor,
} from "./seq_batches.ts";

const order = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

Deno.test("packLayouts fills rows first fit, keeps the order and closes at maxUsers", () => {
  const lengths = [3, 4, 2, 0, 1, 3];
  const layouts = [...packLayouts(order(6), (u) => lengths[u], { rows: 2, len: 5, maxUsers: 3 })];
  // Batch 1: user 0 -> row 0 [0, 3), user 1 (4) -> row 1 [5, 9), user 2 (2) -> the rest of row 0.
  assert.deepEqual(Array.from(layouts[0].users), [0, 1, 2]);
  assert.deepEqual(Array.from(layouts[0].starts), [0, 5, 3]);
  // User 3 has no tokens and is skipped; batch 2 holds users 4 and 5.
  assert.deepEqual(Array.from(layouts[1].users), [4, 5]);
  assert.deepEqual(Array.from(layouts[1].starts), [0, 1]);
  assert.equal(layouts.length, 2);
  assert.deepEqual(Array.from(lastSlots(layouts[0])), [2, 8, 4]);
});

Deno.test("packLayouts rejects a user longer than a row", () => {
  assert.throws(() => [...packLayouts(order(1), () => 6, { rows: 1, len: 5 })], /at most 5 tokens/);
});

Deno.test("attention masks keep users apart, causal or not; empty slots see themselves", () => {
  const [layout] = packLayouts(order(2), (u) => [2, 1][u], { rows: 1, len: 4 });
  const allowed = (mask: Float32Array) =>
    Array.from(
      { length: 4 },
      (_, i) => Array.from({ length: 4 }, (_, j) => (mask[i * 4 + j] === 0 ? 1 : 0)).join(""),
    );
  assert.deepEqual(allowed(attentionMask(layout, true)), ["1000", "1100", "0010", "0001"]);
  assert.deepEqual(allowed(attentionMask(layout, false)), ["1100", "1100", "0010", "0001"]);
  assert.equal(attentionMask(layout, true)[1], -1e9);
});

Deno.test("slots, positions and resets follow the layout", () => {
  const [layout] = packLayouts(order(2), (u) => [2, 3][u], { rows: 1, len: 6 });
  const tokens = [Int32Array.from([7, 8, 9]), Int32Array.from([4, 5, 6])];
  // Each user takes its last `length` tokens.
  assert.deepEqual(Array.from(fillSlots(layout, (k) => tokens[k], new Int32Array(6))), [
    8,
    9,
    4,
    5,
    6,
    0,
  ]);
  assert.deepEqual(Array.from(fillPositions(layout, "fromEnd")), [4, 5, 3, 4, 5, 0]);
  assert.deepEqual(Array.from(fillPositions(layout, "fromStart")), [0, 1, 0, 1, 2, 0]);
  assert.deepEqual(Array.from(fillResets(layout)), [1, 0, 1, 0, 0, 0]);
});

Deno.test("rowsFor gives Beauty's 128 users of 5.7 positions 17 rows of 50", () => {
  assert.equal(rowsFor(128, 5.725, 50), 17);
  assert.equal(rowsFor(1, 0.1, 50), 1);
});

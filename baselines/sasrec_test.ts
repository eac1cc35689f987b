import assert from "node:assert/strict";
import { compileInference, createRng, Graph, ParamStore } from "../kernels/mod.ts";
import { type Layout } from "../models/seq_batches.ts";
import { SASREC_KEYS } from "./sasrec.ts";
import { encoderFeeds, encoderInputs, sasrecEncoder, type SasrecOptions } from "./sasrec_model.ts";

const OPTIONS = {
  ...Object.fromEntries(Object.entries(SASREC_KEYS).map(([k, v]) => [k, v.default])),
  dim: 8,
  dFf: 8,
  maxLen: 6,
  heads: 2,
} as unknown as SasrecOptions;
const N_ITEMS = 20;

/** An inference encoder over `rows x 6` slots with seeded random params. */
async function encoder(rows: number) {
  const g = new Graph();
  const { states } = sasrecEncoder(encoderInputs(g, rows, OPTIONS.maxLen), N_ITEMS, OPTIONS, false);
  const store = new ParamStore();
  store.init(g, createRng(3));
  const infer = await compileInference({ states }, store);
  const feeds = encoderFeeds(rows, OPTIONS.maxLen);
  return async (layout: Layout, tokens: Int32Array[]) =>
    (await infer.run(feeds.fill(layout, (k) => tokens[k]))).states.data as Float32Array;
}

const layoutOf = (rows: number, starts: number[], lengths: number[]): Layout => ({
  rows,
  len: OPTIONS.maxLen,
  users: Int32Array.from(starts.map((_, k) => k)),
  starts: Int32Array.from(starts),
  lengths: Int32Array.from(lengths),
});

const state = (all: Float32Array, slot: number) =>
  Array.from(all.subarray(slot * OPTIONS.dim, (slot + 1) * OPTIONS.dim));

Deno.test("sasrec: the state at t does not change when the item at t + 1 does (causal)", async () => {
  const run = await encoder(1);
  const layout = layoutOf(1, [0], [6]);
  const base = await run(layout, [Int32Array.from([3, 7, 1, 9, 4, 12])]);
  for (let t = 0; t < 5; t++) {
    const changed = Int32Array.from([3, 7, 1, 9, 4, 12]);
    changed[t + 1] = 15;
    const after = await run(layout, [changed]);
    for (let s = 0; s <= t; s++) assert.deepEqual(state(after, s), state(base, s), `slot ${s}`);
    assert.notDeepEqual(state(after, t + 1), state(base, t + 1));
  }
});

Deno.test("sasrec: users packed into one row get the states of one padded row each", async () => {
  const a = Int32Array.from([5, 2]), b = Int32Array.from([8, 1, 6, 11]);
  // Packed: a at slots 0-1, b at 2-5 of one row.
  const packed = await (await encoder(1))(layoutOf(1, [0, 2], [2, 4]), [a, b]);
  // Padded: one row each, tokens at the end of the row.
  const padded = await (await encoder(2))(layoutOf(2, [4, 8], [2, 4]), [a, b]);
  const close = (x: number[], y: number[]) => x.every((v, i) => Math.abs(v - y[i]) < 1e-5);
  for (let i = 0; i < 2; i++) assert.ok(close(state(packed, i), state(padded, 4 + i)), `a ${i}`);
  for (let i = 0; i < 4; i++) {
    assert.ok(close(state(packed, 2 + i), state(padded, 8 + i)), `b ${i}`);
  }
});

import assert from "node:assert/strict";
import { compileInference, createRng, Graph, ParamStore } from "../kernels/mod.ts";
import type { Layout } from "../models/seq_batches.ts";
import { BERT4REC_KEYS, encode, feedsOf, inputsOf } from "./bert4rec.ts";

const CONFIG = {
  ...Object.fromEntries(Object.entries(BERT4REC_KEYS).map(([k, v]) => [k, v.default])),
  dim: 8,
  dFf: 16,
  maxLen: 6,
} as unknown as Parameters<typeof encode>[2];

async function encoder() {
  const g = new Graph();
  const { states } = encode(inputsOf(g, 1, 6), 20, CONFIG, false);
  const store = new ParamStore();
  store.init(g, createRng(4));
  const infer = await compileInference({ states }, store);
  const fill = feedsOf(1, 6);
  return async (layout: Layout, tokens: Int32Array[]) =>
    (await infer.run(fill(layout, (k) => tokens[k]))).states.data as Float32Array;
}

const state = (all: Float32Array, slot: number) => Array.from(all.subarray(slot * 8, slot * 8 + 8));

Deno.test("bert4rec: a state sees both sides of its own user and nothing of another user", async () => {
  const run = await encoder();
  const layout: Layout = {
    rows: 1,
    len: 6,
    users: Int32Array.from([0, 1]),
    starts: Int32Array.from([0, 3]),
    lengths: Int32Array.from([3, 3]),
  };
  const a = Int32Array.from([3, 7, 21]), b = Int32Array.from([9, 4, 12]);
  const base = await run(layout, [a, b]);
  // The next item of user a moves its earlier states: attention is bidirectional.
  const a2 = Int32Array.from([3, 7, 5]);
  const later = await run(layout, [a2, b]);
  assert.notDeepEqual(state(later, 0), state(base, 0));
  // Another user's items in the same row move nothing of a.
  const other = await run(layout, [a, Int32Array.from([1, 2, 3])]);
  for (let s = 0; s < 3; s++) assert.deepEqual(state(other, s), state(base, s), `slot ${s}`);
});

import { strict as assert } from "node:assert";
import {
  expectedOverTies,
  expectedReciprocalRank,
  harmonic,
  hitAtK,
  listRankBlock,
  MetricAccumulator,
  ndcgAtK,
  rankBlock,
} from "./metrics.ts";

const close = (a: number, b: number, eps = 1e-12) =>
  assert.ok(Math.abs(a - b) <= eps, `expected ${b} but found ${a}`);

Deno.test("ndcgAtK() is 1 when the held-out item ranks first", () => {
  assert.equal(ndcgAtK(1, 10), 1);
  assert.equal(hitAtK(1, 1), 1);
});

Deno.test("ndcgAtK() is 1/log2(rank+1) inside the cut-off and 0 past it", () => {
  close(ndcgAtK(3, 5), 0.5); // 1 / log2(4)
  close(ndcgAtK(7, 10), 1 / 3); // 1 / log2(8)
  assert.equal(ndcgAtK(6, 5), 0);
  assert.equal(hitAtK(10, 10), 1);
  assert.equal(hitAtK(11, 10), 0);
});

Deno.test("rankBlock() counts strictly greater and tied candidates", () => {
  const scores = Float32Array.from([0.5, 0.9, 0.5, 0.1, 0.5, 0.7]);
  assert.deepEqual(rankBlock(scores, 0), { greater: 2, ties: 2 });
  assert.deepEqual(rankBlock(scores, 1), { greater: 0, ties: 0 });
  // A skipped candidate counts neither as greater nor as a tie.
  assert.deepEqual(rankBlock(scores, 0, (i) => i === 1 || i === 2), { greater: 1, ties: 1 });
});

Deno.test("rankBlock() rejects a NaN score instead of ranking it", () => {
  assert.throws(() => rankBlock(Float32Array.from([NaN, 1]), 0), RangeError);
  assert.throws(() => rankBlock(Float32Array.from([1, NaN]), 0), /NaN at index 1/);
});

Deno.test("a constant scorer over 100 candidates gets chance-level metrics, not HR@10 = 1", () => {
  const block = rankBlock(new Float32Array(100), 0);
  assert.deepEqual(block, { greater: 0, ties: 99 });
  close(expectedOverTies(block, (r) => hitAtK(r, 10), 10), 0.1);
  close(expectedOverTies(block, (r) => hitAtK(r, 1), 1), 0.01);
  // NDCG@10 by hand: (1/100) * sum_{r=1..10} 1/log2(r+1).
  let sum = 0;
  for (let r = 1; r <= 10; r++) sum += 1 / Math.log2(r + 1);
  close(expectedOverTies(block, (r) => ndcgAtK(r, 10), 10), sum / 100);
});

Deno.test("expectedOverTies() averages over the tied block by hand", () => {
  // Ranks 4, 5 or 6 equally likely: HR@5 = 2/3, NDCG@5 = (1/log2 5 + 1/log2 6) / 3.
  const block = { greater: 3, ties: 2 };
  close(expectedOverTies(block, (r) => hitAtK(r, 5), 5), 2 / 3);
  close(
    expectedOverTies(block, (r) => ndcgAtK(r, 5), 5),
    (1 / Math.log2(5) + 1 / Math.log2(6)) / 3,
  );
  close(expectedReciprocalRank(block), (1 / 4 + 1 / 5 + 1 / 6) / 3);
});

Deno.test("harmonic() is exact for small n and accurate for large n", () => {
  close(harmonic(4), 1 + 1 / 2 + 1 / 3 + 1 / 4);
  let h = 0;
  for (let i = 1; i <= 10000; i++) h += 1 / i;
  close(harmonic(10000), h, 1e-10);
});

Deno.test("listRankBlock() de-duplicates before ranking and spreads an absent item", () => {
  // Duplicates of 7 must not push 3 down (the released scorer double-counts them).
  assert.deepEqual(listRankBlock([7, 7, 3], 3, 100), { greater: 1, ties: 0 });
  assert.deepEqual(listRankBlock([7, 8, 9], 3, 100), { greater: 3, ties: 96 });
});

Deno.test("MetricAccumulator keeps per-user values and their means", () => {
  const acc = new MetricAccumulator(2, ["HR@1", "NDCG@5", "MRR"]);
  acc.add(0, { greater: 0, ties: 0 });
  acc.add(1, { greater: 2, ties: 0 });
  assert.deepEqual(Array.from(acc.values["HR@1"]), [1, 0]);
  close(acc.values["NDCG@5"][1], 0.5);
  const means = acc.means();
  close(means["HR@1"], 0.5);
  close(means["NDCG@5"], 0.75);
  close(means["MRR"], (1 + 1 / 3) / 2);
});

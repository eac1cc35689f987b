import assert from "node:assert/strict";
import { createRng } from "../kernels/mod.ts";
import { createEmbeddingScorer, gatherRows, normalizeRows } from "./embedding_scorer.ts";

function naive(users: Float32Array, items: Float32Array, d: number, cosine: boolean) {
  const u = cosine ? normalizeRows(users.slice(), d) : users;
  const it = cosine ? normalizeRows(items.slice(), d) : items;
  const nu = u.length / d, ni = it.length / d;
  const out = new Float64Array(nu * ni);
  for (let a = 0; a < nu; a++) {
    for (let b = 0; b < ni; b++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += u[a * d + k] * it[b * d + k];
      out[a * ni + b] = s;
    }
  }
  return out;
}

Deno.test("scoreAll (one MatMul per user block) and scoreCandidates agree with a naive loop", async () => {
  const rng = createRng(5);
  const d = 8, nItems = 37, nUsers = 11;
  const items = Float32Array.from({ length: (nItems + 1) * d }, () => rng.normal());
  const users = Float32Array.from({ length: nUsers * d }, () => rng.normal());
  for (const similarity of ["dot", "cosine"] as const) {
    // A block of 4 forces several blocks and a padded last one.
    const scorer = await createEmbeddingScorer(items, { dim: d, similarity, blockSize: 4 });
    const want = naive(users, items, d, similarity === "cosine");
    const all = await scorer.scoreAll(users);
    assert.equal(all.length, nUsers * (nItems + 1));
    all.forEach((v, k) => assert.ok(Math.abs(v - want[k]) < 1e-5, `${similarity} all[${k}]`));
    const candidates = Int32Array.from({ length: nUsers * 3 }, () => 1 + rng.int(nItems));
    const got = scorer.scoreCandidates(users, candidates, 3);
    got.forEach((v, k) => {
      const w = want[Math.floor(k / 3) * (nItems + 1) + candidates[k]];
      assert.ok(Math.abs(v - w) < 1e-5, `${similarity} candidate ${k}`);
    });
  }
});

Deno.test("setItems replaces the table the scorer reads", async () => {
  const scorer = await createEmbeddingScorer(new Float32Array(6), { dim: 2 });
  scorer.setItems(new Float32Array([0, 0, 1, 2, 3, 4]));
  assert.deepEqual(Array.from(await scorer.scoreAll(new Float32Array([1, 1]))), [0, 3, 7]);
  assert.deepEqual(Array.from(gatherRows(new Float32Array([5, 6, 7, 8]), new Int32Array([1]), 2)), [
    7,
    8,
  ]);
});

import assert from "node:assert/strict";
import { createRng } from "../kernels/mod.ts";
import { beamSearch, type StepFn, TokenTrie } from "./beam_search.ts";

const V = 4, EOS = 1;

/** A fixed random next-token distribution per prefix (log-probs). */
function model(seed: number): (prefix: readonly number[]) => number[] {
  return (prefix) => {
    const rng = createRng(seed).fork(prefix.join(","));
    const logits = Array.from({ length: V }, () => 2 * rng.normal());
    const z = Math.log(logits.reduce((s, x) => s + Math.exp(x), 0));
    return logits.map((x) => x - z);
  };
}

function stepOf(dist: (p: readonly number[]) => number[]): StepFn {
  return (prefixes) => Promise.resolve(Float32Array.from(prefixes.flatMap((p) => dist(p))));
}

/** Every sequence ending in eos within maxLength, plus the unfinished ones of maxLength. */
function exhaustive(dist: (p: readonly number[]) => number[], maxLength: number, lp: number) {
  const out: { tokens: number[]; score: number }[] = [];
  const walk = (prefix: number[], logp: number) => {
    const d = dist(prefix);
    for (let v = 0; v < V; v++) {
      const tokens = [...prefix, v], s = logp + Math.fround(d[v]);
      if (v === EOS || tokens.length === maxLength) {
        out.push({ tokens, score: s / tokens.length ** lp });
      } else walk(tokens, s);
    }
  };
  walk([], 0);
  return out.sort((a, b) => b.score - a.score);
}

for (const lp of [0, 1]) {
  Deno.test(`beamSearch() with a wide beam equals exhaustive search (lengthPenalty ${lp})`, async () => {
    for (const seed of [1, 2, 3]) {
      const dist = model(seed);
      const [found] = await beamSearch(1, stepOf(dist), {
        beams: V ** 3,
        returns: 5,
        maxLength: 3,
        eos: EOS,
        lengthPenalty: lp,
      });
      const best = exhaustive(dist, 3, lp).slice(0, 5);
      assert.deepEqual(found.map((h) => h.tokens), best.map((h) => h.tokens));
      found.forEach((h, i) => assert.ok(Math.abs(h.score - best[i].score) < 1e-5));
    }
  });
}

Deno.test("beamSearch() keeps rows independent in one batch", async () => {
  const d1 = model(1), d2 = model(2);
  const rowsOf = (prefixes: readonly (readonly number[])[]) =>
    Float32Array.from(prefixes.flatMap((p, i) => (i < 8 ? d1(p) : d2(p))));
  const both = await beamSearch(2, (p) => Promise.resolve(rowsOf(p)), { beams: 8, maxLength: 3 });
  const [one] = await beamSearch(1, stepOf(d2), { beams: 8, maxLength: 3 });
  assert.deepEqual(both[1], one);
});

Deno.test("a TokenTrie restricts beam search to valid sequences", async () => {
  const valid = [[2, 3, EOS], [3, EOS], [0, 0, EOS]];
  const trie = new TokenTrie(valid);
  const [found] = await beamSearch(1, stepOf(model(4)), {
    beams: 5,
    maxLength: 3,
    allowed: (_r, prefix) => trie.next(prefix),
  });
  assert.equal(found.length, 3);
  for (const h of found) assert.ok(valid.some((v) => v.join() === h.tokens.join()));
  assert.deepEqual(trie.next([2]), [3]);
  assert.deepEqual(trie.next([9]), []);
});

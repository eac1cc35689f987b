import assert from "node:assert/strict";
import { listRankBlock } from "../harness/metrics.ts";
import { createRng } from "../kernels/mod.ts";
import { PromptEncoder } from "./batch.ts";
import type { Hypothesis } from "./beam_search.ts";
import { type ListGenerator, listScorer } from "./list_scorer.ts";
import { type Sample, SampleMaker, templateWords } from "./prompts.ts";
import { testContext, tinySplit } from "./test_split.ts";
import { builtinTokenizer } from "./tokenizer.ts";

const split = await tinySplit();
const tokenizer = builtinTokenizer(templateWords());
const prompts = new PromptEncoder(tokenizer, split.nUsers, split.nItems);
const words = (...ws: string[]) => ws.flatMap((w) => tokenizer.encodeWord(w));

/**
 * Beam search as scripted: per user, in this order, a candidate, an item
 * that is not a candidate, garbage (`user_3`), another candidate, a number
 * past the catalogue, the first candidate again, garbage (`item`), a third
 * candidate, and two more non-candidates.
 */
function scripted(nonCandidates: (s: Sample) => number[]): ListGenerator {
  return {
    options: { prompts },
    generate: (_task, samples, options) =>
      Promise.resolve(samples.map((s) => {
        const [a, b, c] = s.items;
        const [x, y, z] = nonCandidates(s);
        const outs = [
          words(String(a)),
          words(String(x)),
          words("user_3"),
          words(String(b)),
          words(String(split.nItems + 7)),
          words(String(a)),
          words("item"),
          words(String(c)),
          words(String(y)),
          words(String(z)),
        ];
        return outs.slice(0, options.returns).map((tokens): Hypothesis => ({ tokens, score: 0 }));
      })),
  };
}

async function lists(directLists: "released" | "candidates", rows = [0, 1, 2]) {
  const ctx = testContext(split, "direct", createRng(4));
  const k = split.negativesPerUser;
  const userRows = Int32Array.from(rows);
  const candidates = new Int32Array(rows.length * (k + 1));
  rows.forEach((u, i) => {
    candidates[i * (k + 1)] = split.test[u];
    candidates.set(split.testNegatives.subarray(u * k, (u + 1) * k), i * (k + 1) + 1);
  });
  // Non-candidates: items of the catalogue outside the user's 100.
  const outside = (s: Sample) => {
    const pool = new Set(s.items);
    const out: number[] = [];
    for (let i = 1; out.length < 3; i++) if (!pool.has(i)) out.push(i);
    return out;
  };
  const scorer = listScorer(ctx, {
    model: scripted(outside),
    maker: new SampleMaker(split),
    config: { beams: 20, evalBatch: 2, decode: "free", padLists: true, directLists },
  });
  const out = await scorer.recommend({
    stage: "test",
    userRows,
    candidates,
    perUser: k + 1,
    k: 10,
  });
  return { out, slots: scorer.slots().test, candidates, ctx, outside };
}

Deno.test("released direct lists keep non-candidates as misses and replace garbage with catalogue ids", async () => {
  const { out, slots, candidates } = await lists("released");
  const maker = new SampleMaker(split);
  const eval0 = maker.evaluation(
    "direct",
    0,
    new Int32Array(),
    candidates.subarray(0, 100),
    0,
    createRng(4).fork("eval:test"),
  );
  const [a, b, c] = eval0.items;
  const pool = new Set(eval0.items);
  const list = [...out[0]];
  // In place: a, the non-candidate, a random id, b, the number past the
  // catalogue, (a again, dropped), a random id, c, two non-candidates.
  assert.equal(list.length, 9);
  assert.deepEqual([list[0], list[3], list[4], list[6]], [a, b, split.nItems + 7, c]);
  assert.ok(!pool.has(list[1]) && !pool.has(list[7]) && !pool.has(list[8]));
  for (const i of [2, 5]) assert.ok(list[i] >= 1 && list[i] <= split.nItems, `slot ${i}`);
  // Per user: 10 outputs, 2 garbage, 4 naming no candidate (a repeat dropped).
  assert.equal(slots.unparsable, 3 * 2);
  assert.equal(slots.nonCandidate, 3 * 4);
  assert.equal(slots.padded, 0);
  // Three candidates named per user (a random replacement that hits one is not named).
  assert.equal(slots.generated, 3 * 3);
  // The same seed draws the same replacements; another user draws others.
  assert.deepEqual((await lists("released")).out, out);
  assert.notDeepEqual([out[0][2], out[0][5]], [out[1][2], out[1][5]]);
  // A list of misses ranks a held-out item it does not name below all of them.
  assert.deepEqual(listRankBlock(out[0], -5, 100).greater, 9);
});

Deno.test("the candidates rule drops non-candidates and garbage and pads with unlisted candidates", async () => {
  const { out, slots, candidates } = await lists("candidates");
  for (let i = 0; i < 3; i++) {
    const pool = new Set(candidates.subarray(i * 100, (i + 1) * 100));
    assert.equal(out[i].length, 10);
    assert.equal(new Set(out[i]).size, 10);
    for (const item of out[i]) assert.ok(pool.has(item), `user ${i}: ${item}`);
  }
  // Three distinct candidates named per user, seven padded.
  assert.deepEqual(slots, { generated: 9, padded: 21, nonCandidate: 12, unparsable: 6 });
});

Deno.test("readReleasedId() reads what Python's int reads from the first word, and nothing else", () => {
  const read = (...ws: string[]) => prompts.readReleasedId(words(...ws));
  assert.equal(read("12"), 12);
  assert.equal(read("12", "user"), 12);
  assert.equal(read("0"), 0);
  assert.equal(read("00", "7"), 7);
  assert.equal(read("1_2"), 12); // int("1_2") == 12 in Python
  assert.equal(read("user_3"), undefined);
  assert.equal(read("item"), undefined);
  assert.equal(read("_", "5"), undefined);
  assert.equal(read(), undefined);
  // The whole-text reading of the candidates rule stays as it was.
  assert.equal(prompts.parseNumber(words("12", "user")), undefined);
  assert.equal(prompts.parse(words(String(split.nItems + 1))), 0);
});

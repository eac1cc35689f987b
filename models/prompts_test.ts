import assert from "node:assert/strict";
import { createRng } from "../kernels/mod.ts";
import {
  fillPrompt,
  ID_TEMPLATES,
  promptTemplates,
  RELEASED_ID_TEMPLATES,
  type Sample,
  SampleMaker,
  TEMPLATES,
  templateWords,
} from "./prompts.ts";
import { tinySplit } from "./test_split.ts";

const sample: Sample = {
  task: "direct",
  user: 4,
  items: Int32Array.of(7, 9, 3),
  target: 9,
  template: 0,
};

Deno.test("fillPrompt() writes ids as words and tags each with its node", () => {
  const p = fillPrompt(sample, 10);
  assert.deepEqual(
    p.words.join(" "),
    "Which item of the following to recommend for user_5 ? item_7 item_9 item_3",
  );
  assert.deepEqual(p.nodes.slice(-5), [5, 0, 17, 19, 13]);
});

Deno.test("promptTemplates('user') drops the candidate list from direct prompts only", () => {
  const p5 = promptTemplates("p5", "user");
  assert.equal(p5.sequential, TEMPLATES.sequential);
  assert.equal(fillPrompt(sample, 10, p5).words.join(" "), "Which item to recommend for user_5 ?");
  assert.deepEqual(fillPrompt(sample, 10, promptTemplates("ids", "user")).words, ["user_5"]);
  assert.deepEqual(
    fillPrompt(sample, 10, promptTemplates("ids", "candidates")).words,
    ["user_5", "item_7", "item_9", "item_3"],
  );
  // Same vocabulary: every word of the user-only templates is a template word.
  const words = new Set(templateWords());
  for (const t of p5.direct) {
    for (const w of t.split(" ")) if (!w.startsWith("{")) assert.ok(words.has(w), w);
  }
});

Deno.test("ids-only sequential prompts list the history as the releases do: user_5 item_7 item_9", () => {
  const seq: Sample = { ...sample, task: "sequential", items: Int32Array.of(7, 9) };
  assert.equal(fillPrompt(seq, 10, ID_TEMPLATES).words.join(" "), "user_5 item_7 item_9");
  // P5's templates keep their commas.
  assert.match(fillPrompt(seq, 10).words.join(" "), /user_5 : item_7 , item_9 ,/);
});

Deno.test("released training prompts: one of POD's 8 sequential and 5 direct templates per sample, seeded", async () => {
  const split = await tinySplit();
  const maker = new SampleMaker(split, promptTemplates("ids", "candidates", "released"));
  const draws = (task: "direct" | "sequential", seed: number) =>
    Array.from(
      { length: 800 },
      (_, k) => maker.train(task, k % split.nUsers, createRng(seed).fork(`s${k}`)).template,
    );
  for (const [task, n] of [["sequential", 8], ["direct", 5]] as const) {
    const picks = draws(task, 0);
    const counts = Array.from({ length: n }, (_, t) => picks.filter((p) => p === t).length);
    // Uniform: each template about 800 / n times (at least half and at most twice that).
    for (const c of counts) assert.ok(c > 400 / n && c < 1600 / n, `${task}: ${counts}`);
    assert.deepEqual(draws(task, 0), picks);
    assert.notDeepEqual(draws(task, 1), picks);
  }
  // A worded template, filled: the ids as the release writes them, punctuation as words.
  const seq: Sample = { ...sample, task: "sequential", items: Int32Array.of(7, 9), template: 3 };
  assert.equal(
    fillPrompt(seq, 10, RELEASED_ID_TEMPLATES).words.join(" "),
    "Here is the purchase history list of user_5 : item_7 item_9 . Try to recommend next item to the user .",
  );
});

Deno.test("released training prompts: validation and test samples use the ids-only prompt", async () => {
  const split = await tinySplit();
  const templates = promptTemplates("ids", "candidates", "released");
  const maker = new SampleMaker(split, templates);
  const rng = createRng(2);
  const seq = maker.evaluation("sequential", 4, Int32Array.of(7, 9), undefined, 0, rng);
  const direct = maker.evaluation("direct", 4, Int32Array.of(), Int32Array.of(3, 8), 0, rng);
  assert.equal(fillPrompt(seq, 10, templates).words.join(" "), "user_5 item_7 item_9");
  assert.match(fillPrompt(direct, 10, templates).words.join(" "), /^user_5 item_[38] item_[38]$/);
  // Their words join P5's vocabulary after P5's own, which keep their token ids.
  const p5 = templateWords(), pod = templateWords(templates);
  assert.deepEqual(pod.slice(0, p5.length), p5);
  for (const w of ["Based", "Try", "likely", "According"]) {
    assert.ok(pod.includes(w) && !p5.includes(w), w);
  }
  // The ids-only set adds no word: POD trained on ids only keeps P5's vocabulary.
  assert.deepEqual(templateWords(ID_TEMPLATES), p5);
});

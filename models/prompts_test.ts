import assert from "node:assert/strict";
import {
  fillPrompt,
  ID_TEMPLATES,
  promptTemplates,
  type Sample,
  TEMPLATES,
  templateWords,
} from "./prompts.ts";

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

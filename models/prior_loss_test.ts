import assert from "node:assert/strict";
import { popularityPriorLoss } from "./prior_loss.ts";

// Items 1, 2, 3 seen 2, 1, 0 times in training: add-one gives p = 3/6, 2/6, 1/6.
const train = { offsets: Uint32Array.of(0, 2, 3), values: Int32Array.of(1, 2, 1) };

Deno.test("the popularity prior's loss is -ln p(target) per target token", () => {
  // Targets 1 (2 tokens) and 3 (3 tokens): (ln 2 + ln 6) / 5.
  const tokens = (item: number) => (item === 3 ? 3 : 2);
  const expected = (Math.log(2) + Math.log(6)) / 5;
  assert.ok(Math.abs(popularityPriorLoss(train, 3, [1, 3], tokens) - expected) < 1e-12);
});

Deno.test("with padding counted, every target spans the decoder length", () => {
  const expected = (Math.log(2) + Math.log(6)) / 8;
  const loss = popularityPriorLoss(train, 3, [1, 3], () => 2, 4);
  assert.ok(Math.abs(loss - expected) < 1e-12);
});

Deno.test("a target outside the item range is an error naming it", () => {
  assert.throws(() => popularityPriorLoss(train, 3, [4], () => 2), /1\.\.3 but found 4/);
});

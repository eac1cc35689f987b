import { strict as assert } from "node:assert";
import { tinyDataset } from "../tests/_helpers.ts";
import { createRng } from "../kernels/mod.ts";
import { PairwiseSampler, trainInteractions, TrainMembership } from "./sampling.ts";
import { buildSplitRaw } from "./split.ts";

const split = {
  ...buildSplitRaw(tinyDataset([[1, 2, 3, 4, 5], [2, 6, 7, 8], [1, 9, 10, 11]], { nItems: 120 })),
  hash: "",
};

Deno.test("trainInteractions() lists the training pairs only (no validation or test item)", () => {
  const { users, items } = trainInteractions(split);
  assert.deepEqual(Array.from(users), [0, 0, 0, 1, 1, 2, 2]);
  assert.deepEqual(Array.from(items), [1, 2, 3, 2, 6, 1, 9]);
});

Deno.test("TrainMembership answers membership by binary search", () => {
  const m = new TrainMembership(split.train);
  assert.equal(m.has(0, 3), true);
  assert.equal(m.has(0, 4), false); // validation item
  assert.equal(m.has(2, 9), true);
  assert.equal(m.has(2, 11), false); // test item
});

Deno.test("PairwiseSampler covers every interaction once per epoch with non-training negatives", () => {
  const sampler = new PairwiseSampler(split, { batchSize: 3, negatives: 4 });
  assert.equal(sampler.batches, 3);
  const seen: string[] = [];
  const m = new TrainMembership(split.train);
  for (const batch of sampler.epoch(createRng(1))) {
    for (let i = 0; i < batch.size; i++) {
      seen.push(`${batch.users[i]}:${batch.positives[i]}`);
      for (let j = 0; j < 4; j++) {
        assert.equal(m.has(batch.users[i], batch.negatives[i * 4 + j]), false);
      }
    }
    assert.equal(batch.users.length, 3);
  }
  assert.deepEqual(seen.sort(), ["0:1", "0:2", "0:3", "1:2", "1:6", "2:1", "2:9"]);
  // The same seed draws the same epoch.
  const a = [...sampler.epoch(createRng(7))].map((b) => Array.from(b.negatives));
  const b = [...sampler.epoch(createRng(7))].map((b) => Array.from(b.negatives));
  assert.deepEqual(a, b);
});

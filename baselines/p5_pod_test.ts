/**
 * P5 and POD on the embedded synthetic data, direct task, tiny model with
 * trie-constrained decoding. At this budget (tiny model, 6 epochs of 40
 * users, seconds of training) neither reaches pop yet, nor did they with
 * minutes of training on all 600 default users (p5 HR@10 0.427-0.437 against
 * pop's 0.440; the issue 5 note has the budgets): their training loss stays
 * at the item marginal's (models/prior_loss.ts), so they rank by popularity.
 * The test pins what they do reach: above chance (HR@10 0.1 of 100
 * candidates), and the constrained row carries its variant label.
 */
import assert from "node:assert/strict";
import { generateSynthetic } from "../harness/synthetic.ts";
import { tinyCell } from "../tests/_helpers.ts";
import { p5 } from "./p5.ts";
import { pod } from "./pod.ts";

const data = await generateSynthetic({ users: 40, items: 150 });

for (const plugin of [p5, pod]) {
  Deno.test(`${plugin.name} learns the direct task of the synthetic data above chance`, async () => {
    const record = await tinyCell(data, "direct", plugin, {
      epochs: "6",
      patience: "100",
      lr: "1e-2",
      trainTasks: "task",
      decode: "constrained",
      trainUsers: "0",
    });
    assert.equal(record.variant, "decode=constrained, epochs=6");
    // Beams confined to the user's candidates fill every top-10 slot themselves.
    assert.deepEqual(record.info.list_slots, {
      test: { generated: 10 * record.n_users, padded: 0 },
    });
    // Measured with seed 0: p5 0.175, pod 0.125, pop about 0.26 (chance 0.1).
    assert.ok(record.metrics["HR@10"] > 0.11, `HR@10 ${record.metrics["HR@10"]}`);
  });
}

Deno.test("an epoch draws one sample per training interaction (samplesPerUser 0, as released) or n per user", async () => {
  const small = await generateSynthetic({ users: 30, items: 150 });
  const trainInteractions = small.sequences.values.length - 2 * small.nUsers;
  const cases: [string, number][] = [["0", 2 * trainInteractions], ["2", 2 * 2 * small.nUsers]];
  for (const [spu, expected] of cases) {
    const record = await tinyCell(small, "sequential", p5, {
      epochs: "1",
      trainUsers: "0",
      samplesPerUser: spu,
      trainTasks: "both",
    }, 4);
    const log = record.info.train_log as { samples: number }[];
    assert.equal(log[0].samples, expected, `samplesPerUser ${spu}`);
    // Free decoding after one epoch: every slot of the 4 lists is generated or padded.
    const slots = (record.info.list_slots as Record<string, { generated: number; padded: number }>)
      .test;
    assert.equal(slots.generated + slots.padded, 4 * 10);
  }
});

/**
 * P5 and POD on the embedded synthetic data, direct task, tiny model with
 * trie-constrained decoding. At this budget (tiny model, 6 epochs of 40
 * users, seconds of training) neither reaches pop yet (the issue 5 note has
 * the numbers), so the test pins what they do reach: above chance (HR@10
 * 0.1 of 100 candidates), and the constrained row carries its variant label.
 */
import assert from "node:assert/strict";
import { runCells } from "../harness/runner.ts";
import { generateSynthetic } from "../harness/synthetic.ts";
import { p5 } from "./p5.ts";
import { pod } from "./pod.ts";

const data = await generateSynthetic({ users: 40, items: 150 });

for (const plugin of [p5, pod]) {
  Deno.test(`${plugin.name} learns the direct task of the synthetic data above chance`, async () => {
    const overrides = [
      ["epochs", "6"],
      ["patience", "100"],
      ["lr", "1e-2"],
      ["trainTasks", "task"],
      ["decode", "constrained"],
      ["trainUsers", "0"],
    ].map(([key, raw]) => ({ key, raw }));
    const [record] = await runCells(data, {
      task: "direct",
      plugins: [plugin],
      preset: "tiny",
      overrides,
      resultsPath: null,
      cacheDir: null,
    });
    assert.equal(record.variant, "decode=constrained");
    // Measured with seed 0: p5 0.175, pod 0.125, pop about 0.26 (chance 0.1).
    assert.ok(record.metrics["HR@10"] > 0.11, `HR@10 ${record.metrics["HR@10"]}`);
  });
}

Deno.test("an epoch draws one sample per training interaction (samplesPerUser 0, as released) or n per user", async () => {
  const small = await generateSynthetic({ users: 30, items: 150 });
  const trainInteractions = small.sequences.values.length - 2 * small.nUsers;
  const cases: [string, number][] = [["0", 2 * trainInteractions], ["2", 2 * 2 * small.nUsers]];
  for (const [spu, expected] of cases) {
    const overrides = [
      ["epochs", "1"],
      ["trainUsers", "0"],
      ["samplesPerUser", spu],
      ["trainTasks", "both"],
    ].map(([key, raw]) => ({ key, raw }));
    const [record] = await runCells(small, {
      task: "sequential",
      plugins: [p5],
      preset: "tiny",
      overrides,
      resultsPath: null,
      cacheDir: null,
      evalUsers: 4,
    });
    const log = record.info.train_log as { samples: number }[];
    assert.equal(log[0].samples, expected, `samplesPerUser ${spu}`);
  }
});

/**
 * The T5 plugins train on both tasks by default, and the direct and the
 * sequential cell then share one checkpoint: whichever cell trains an epoch
 * must train the same model (samples, dropout, initialisation and
 * validation users alike), or a run's numbers would depend on which task
 * was run first.
 */
import assert from "node:assert/strict";
import { pod } from "../baselines/pod.ts";
import type { Plugin } from "../harness/plugin.ts";
import { generateSynthetic } from "../harness/synthetic.ts";
import type { Task } from "../harness/types.ts";
import { elmrec } from "../models/elmrec.ts";
import { tinyCell } from "./_helpers.ts";

const data = await generateSynthetic({ users: 24, items: 150 });

async function firstEpoch(plugin: Plugin, task: Task) {
  const settings = { epochs: "1", validUsers: "8", samplesPerUser: "1" };
  const record = await tinyCell(data, task, plugin, settings, 4);
  const [epoch] = record.info.train_log as { seconds: number }[];
  return { ...epoch, seconds: 0, prior: record.info.prior_valid_loss };
}

for (const plugin of [pod, elmrec] as Plugin[]) {
  Deno.test(`${plugin.name}: the direct and the sequential cell train the same model`, async () => {
    const direct = await firstEpoch(plugin, "direct");
    assert.deepEqual(await firstEpoch(plugin, "sequential"), direct);
    assert.ok((direct.prior as number) > 0);
  });
}

import { strict as assert } from "node:assert";
import { fitWithEarlyStopping } from "./early_stopping.ts";
import { silentProgress } from "./progress.ts";

Deno.test("fitWithEarlyStopping() stops after `patience` epochs without gain and restores the best", async () => {
  const curve = [0.1, 0.3, 0.5, 0.4, 0.45, 0.2, 0.9];
  let param = 0;
  const result = await fitWithEarlyStopping({
    label: "t",
    maxEpochs: 7,
    patience: 3,
    runEpoch: (e) => {
      param = e;
      return Promise.resolve(1 / e);
    },
    validate: () => Promise.resolve({ "NDCG@10": curve[param - 1] }),
    snapshot: () => param,
    restore: (p) => (param = p),
    progress: silentProgress,
  });
  assert.equal(result.bestEpoch, 3);
  assert.equal(result.epochsRun, 6);
  assert.equal(param, 3);
  assert.equal(result.bestMetrics["NDCG@10"], 0.5);
});

Deno.test("fitWithEarlyStopping() refuses a NaN loss with advice", async () => {
  await assert.rejects(
    () =>
      fitWithEarlyStopping({
        label: "t",
        maxEpochs: 3,
        patience: 1,
        runEpoch: () => Promise.resolve(NaN),
        validate: () => Promise.resolve({}),
        snapshot: () => 0,
        restore: () => {},
        progress: silentProgress,
      }),
    /loss became NaN in epoch 1/,
  );
});

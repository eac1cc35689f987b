/**
 * The first leak of the P5-layout data (spec, section 1), on the real data:
 * idleak reproduces the spec's figures with P5 ids and collapses to chance
 * once items are renumbered at random.
 */
import { strict as assert } from "node:assert";
import { idleak } from "../baselines/idleak.ts";
import { readDataset } from "../harness/dataset_reader.ts";
import { runCells } from "../harness/runner.ts";
import { explainSkip, realDataDir } from "./_helpers.ts";

const dataDir = realDataDir();
explainSkip("the idleak leak checks on ../shared/data");

const SPEC: Record<string, { hr1: number; ndcg10: number }> = {
  beauty: { hr1: 0.0441, ndcg10: 0.0450 },
  sports: { hr1: 0.0414, ndcg10: 0.0423 },
  toys: { hr1: 0.0654, ndcg10: 0.0660 },
};

for (const name of ["beauty", "toys"]) {
  Deno.test({
    name: `idleak on ${name} (sequential, P5 ids) gives the spec's HR@1 and NDCG@10 to 4 decimals`,
    ignore: !dataDir,
    fn: async () => {
      const data = await readDataset(`${dataDir}/${name}`);
      const [record] = await runCells(data, {
        task: "sequential",
        plugins: [idleak],
        resultsPath: null,
        cacheDir: null,
      });
      assert.equal(record.metrics["HR@1"].toFixed(4), SPEC[name].hr1.toFixed(4));
      assert.equal(record.metrics["NDCG@10"].toFixed(4), SPEC[name].ndcg10.toFixed(4));
    },
  });
}

Deno.test({
  name: "idleak on beauty with --reindex random falls below 0.005",
  ignore: !dataDir,
  fn: async () => {
    const data = await readDataset(`${dataDir}/beauty`);
    const [record] = await runCells(data, {
      task: "sequential",
      plugins: [idleak],
      reindex: "random",
      resultsPath: null,
      cacheDir: null,
    });
    assert.ok(record.metrics["HR@1"] < 0.005, `HR@1 ${record.metrics["HR@1"]}`);
    assert.ok(record.metrics["NDCG@10"] < 0.005, `NDCG@10 ${record.metrics["NDCG@10"]}`);
    assert.equal(record.reindex, "random");
  },
});

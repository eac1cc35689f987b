/**
 * Every registered plugin, end to end on tiny synthetic data, at the `tiny`
 * preset, on every task it supports: metrics exist, are finite and in [0, 1].
 */
import { strict as assert } from "node:assert";
import { BUILTIN_PLUGINS } from "../plugins.ts";
import { runCells } from "../harness/runner.ts";
import { generateSynthetic } from "../harness/synthetic.ts";

const data = await generateSynthetic({ users: 150, items: 200 });

for (const plugin of Object.values(BUILTIN_PLUGINS)) {
  for (const task of plugin.tasks) {
    Deno.test(`${plugin.name} runs end to end on the ${task} task (tiny preset)`, async () => {
      const [record] = await runCells(data, {
        task,
        plugins: [plugin],
        preset: "tiny",
        resultsPath: null,
        cacheDir: null,
      });
      for (const name of ["HR@1", "HR@5", "NDCG@5", "HR@10", "NDCG@10", "MRR"]) {
        const v = record.metrics[name];
        assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, `${name} = ${v}`);
      }
      assert.ok(record.metrics["HR@10"] >= record.metrics["HR@5"]);
      assert.ok(record.metrics["HR@5"] >= record.metrics["HR@1"]);
    });
  }
}

Deno.test("pop beats chance on the direct task of the synthetic data", async () => {
  const [record] = await runCells(data, {
    task: "direct",
    plugins: [BUILTIN_PLUGINS.pop],
    resultsPath: null,
    cacheDir: null,
  });
  // Chance over 100 candidates is HR@10 = 0.1.
  assert.ok(record.metrics["HR@10"] > 0.2, `HR@10 ${record.metrics["HR@10"]}`);
});

Deno.test("the example external plugin loads through --plugin and beats pop on synthetic data", async () => {
  const { withExternalPlugins } = await import("../harness/registry.ts");
  const record = await withExternalPlugins(BUILTIN_PLUGINS, ["examples/item_knn_plugin.ts"]);
  const records = await runCells(data, {
    task: "direct",
    plugins: [record.pop, record.itemcooc],
    resultsPath: null,
    cacheDir: null,
  });
  assert.ok(records[1].metrics["NDCG@10"] > records[0].metrics["NDCG@10"]);
});

/**
 * The regression guard: `check` passes on an unchanged rerun and fails, with
 * a table naming the cell, when a metric in the baseline is perturbed.
 */
import { strict as assert } from "node:assert";
import { BUILTIN_PLUGINS } from "../plugins.ts";
import { definePlugin } from "../harness/plugin.ts";
import { checkCommand, compareRecords } from "../harness/cmd_check.ts";
import { readResults } from "../harness/results.ts";
import { runCells } from "../harness/runner.ts";
import { generateSynthetic } from "../harness/synthetic.ts";

async function baselineFile(dir: string): Promise<string> {
  const data = await generateSynthetic({ users: 100, items: 150 });
  const path = `${dir}/baseline.jsonl`;
  for (const task of ["direct", "sequential"] as const) {
    await runCells(data, {
      task,
      plugins: [BUILTIN_PLUGINS.pop, BUILTIN_PLUGINS.idleak],
      preset: "tiny",
      resultsPath: path,
      cacheDir: null,
      dataSpec: "synthetic:users=100,items=150",
    });
  }
  return path;
}

Deno.test("check reruns a baseline and passes when nothing moved, fails when a metric is perturbed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = await baselineFile(dir);
    assert.equal(await checkCommand(["--baseline", path], BUILTIN_PLUGINS), 0);

    const records = await readResults(path);
    const perturbed = records.map((r, i) =>
      i === 1 ? { ...r, metrics: { ...r.metrics, "NDCG@10": r.metrics["NDCG@10"] + 0.01 } } : r
    );
    const bad = `${dir}/perturbed.jsonl`;
    await Deno.writeTextFile(bad, perturbed.map((r) => JSON.stringify(r)).join("\n") + "\n");
    assert.equal(await checkCommand(["--baseline", bad], BUILTIN_PLUGINS), 1);
    // A loose enough tolerance lets the same perturbation pass.
    assert.equal(
      await checkCommand(["--baseline", bad, "--tolerance", "0.02"], BUILTIN_PLUGINS),
      0,
    );

    const moved = compareRecords(perturbed, records, 1e-6);
    assert.equal(moved.length, 1);
    assert.equal(moved[0].metric, "NDCG@10");
    assert.match(moved[0].cell, /^idleak \/ synthetic \/ direct \/ seed 0 \/ test/);
    // A cell missing from the current results counts as moved.
    assert.equal(compareRecords(records, records.slice(1), 1e-6).length, 6);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check reruns a record made before a key was added at the key's addedAt value", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = await baselineFile(dir);
    const pop = BUILTIN_PLUGINS.pop;
    // A key whose default moved on from what the records ran at (as
    // directLists did): at "new" the scores are reversed.
    const grown = definePlugin({
      ...pop,
      keys: { rule: { default: "new", doc: "a key added later", addedAt: "old" } },
      fit: async (ctx, config) => {
        const inner = await pop.fit(ctx, {});
        if (config.rule === "old") return inner;
        return {
          scoreCandidates: async (r) => (await inner.scoreCandidates!(r)).map((x) => -x),
          scoreAll: async (r) => (await inner.scoreAll!(r)).map((x) => -x),
        };
      },
    });
    const plugins = { ...BUILTIN_PLUGINS, pop: grown };
    assert.equal(await checkCommand(["--baseline", path, "--plugins", "pop"], plugins), 0);
    // At the new default the same cells are other cells, with other metrics.
    const [now] = await runCells(await generateSynthetic({ users: 100, items: 150 }), {
      task: "direct",
      plugins: [grown],
      preset: "tiny",
      resultsPath: null,
      cacheDir: null,
    });
    const [before] = (await readResults(path)).filter((r) => r.plugin === "pop");
    assert.notEqual(now.id, before.id);
    assert.ok(now.metrics["HR@10"] < before.metrics["HR@10"] - 0.1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

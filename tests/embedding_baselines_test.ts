/**
 * The embedding baselines (bprmf, lightgcn, simplex) end to end on the
 * embedded synthetic data: each beats popularity on the direct protocol,
 * a saved checkpoint scores exactly as the fitted model, and the sparse
 * update rule is a row of its own.
 */
import assert from "node:assert/strict";
import { BUILTIN_PLUGINS } from "../plugins.ts";
import { runCells } from "../harness/runner.ts";
import { generateSynthetic } from "../harness/synthetic.ts";
import { assertSaveLoadRoundTrip } from "./_helpers.ts";

const MODELS = ["bprmf", "lightgcn", "simplex"];

Deno.test("bprmf, lightgcn and simplex beat pop on the synthetic direct task (tiny preset)", async () => {
  const data = await generateSynthetic();
  const records = await runCells(data, {
    task: "direct",
    plugins: ["pop", ...MODELS].map((m) => BUILTIN_PLUGINS[m]),
    preset: "tiny",
    resultsPath: null,
    cacheDir: null,
  });
  const pop = records[0].metrics["NDCG@10"];
  for (const r of records.slice(1)) {
    assert.ok(
      r.metrics["NDCG@10"] > pop,
      `${r.plugin} NDCG@10 ${r.metrics["NDCG@10"]} <= pop ${pop}`,
    );
    assert.ok((r.info.best_epoch as number) >= 1, `${r.plugin} recorded its best epoch`);
  }
});

Deno.test("a saved checkpoint scores exactly as the fitted model (--save / --load)", async () => {
  await assertSaveLoadRoundTrip(MODELS.map((m) => BUILTIN_PLUGINS[m]));
});

Deno.test("adamRows=sparse trains bprmf and simplex above pop, labelled as a row of its own", async () => {
  const data = await generateSynthetic();
  const plugins = ["pop", "bprmf", "simplex"].map((m) => BUILTIN_PLUGINS[m]);
  const common = { task: "direct" as const, plugins, preset: "tiny" as const, resultsPath: null };
  const dense = await runCells(data, { ...common, cacheDir: null });
  const sparse = await runCells(data, {
    ...common,
    cacheDir: null,
    overrides: [{ key: "adamRows", raw: "sparse" }],
  });
  const pop = sparse[0].metrics["NDCG@10"];
  for (const [i, r] of sparse.entries()) {
    if (i === 0) continue;
    assert.equal(r.variant, "adamRows=sparse", r.plugin);
    assert.notEqual(r.id, dense[i].id, `${r.plugin}: another cell than the dense default`);
    assert.ok(r.metrics["NDCG@10"] > pop, `${r.plugin} ${r.metrics["NDCG@10"]} <= pop ${pop}`);
    assert.notDeepEqual(r.metrics, dense[i].metrics, `${r.plugin}: the update rule changed`);
  }
  await assert.rejects(
    runCells(data, { ...common, cacheDir: null, overrides: [{ key: "adamRows", raw: "lazy" }] }),
    {
      name: "RangeError",
      message: /bprmf.adamRows .* to be one of "dense", "sparse" but found "lazy"/,
    },
  );
});

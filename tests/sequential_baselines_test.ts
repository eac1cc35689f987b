/**
 * The sequential baselines (sasrec with both losses, bert4rec, gru4rec,
 * caser) and ncl end to end on the embedded synthetic data, whose users
 * follow item-to-successor habits: each sequence model beats popularity on
 * the sequential task, ncl beats it on the direct task, and a saved
 * checkpoint scores exactly as the fitted model.
 */
import assert from "node:assert/strict";
import { BUILTIN_PLUGINS } from "../plugins.ts";
import { runCells } from "../harness/runner.ts";
import { generateSynthetic } from "../harness/synthetic.ts";
import { assertSaveLoadRoundTrip } from "./_helpers.ts";

const SEQUENTIAL = ["sasrec", "bert4rec", "gru4rec", "caser"];

async function tinyRecords(task: "direct" | "sequential", models: string[], set: string[] = []) {
  return await runCells(await generateSynthetic(), {
    task,
    plugins: models.map((m) => BUILTIN_PLUGINS[m]),
    preset: "tiny",
    resultsPath: null,
    cacheDir: null,
    overrides: set.map((s) => {
      const [scoped, raw] = s.split("=");
      const [scope, key] = scoped.split(".");
      return { scope, key, raw };
    }),
  });
}

Deno.test("sasrec, bert4rec, gru4rec and caser beat pop on the synthetic sequential task (tiny preset)", async () => {
  const records = await tinyRecords("sequential", ["pop", ...SEQUENTIAL]);
  const [bce] = await tinyRecords("sequential", ["sasrec"], ["sasrec.loss=bce"]);
  const pop = records[0].metrics["NDCG@10"];
  for (const r of [...records.slice(1), bce]) {
    const label = `${r.plugin}${r.variant ? ` (${r.variant})` : ""}`;
    assert.ok(r.metrics["NDCG@10"] > pop, `${label} NDCG@10 ${r.metrics["NDCG@10"]} <= pop ${pop}`);
    assert.ok((r.info.best_epoch as number) >= 1, `${label} recorded its best epoch`);
  }
  assert.equal(bce.variant, "loss=bce");
});

Deno.test("ncl beats pop on the synthetic direct task (tiny preset)", async () => {
  const [pop, ncl] = await tinyRecords("direct", ["pop", "ncl"]);
  assert.ok(ncl.metrics["NDCG@10"] > pop.metrics["NDCG@10"]);
});

Deno.test("a saved sequence model or ncl scores exactly as the fitted one (--save / --load)", async () => {
  await assertSaveLoadRoundTrip([...SEQUENTIAL, "ncl"].map((m) => BUILTIN_PLUGINS[m]));
});

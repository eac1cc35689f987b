import assert from "node:assert/strict";
import { join } from "node:path";
import { readResults, type ResultRecord, writePerUser } from "./results.ts";
import type { SourcedRecord } from "./significance.ts";
import { leakPairs } from "./site_leaks.ts";
import { pairedTTest } from "./stats.ts";

const ROOT = new URL("../", import.meta.url).pathname;

async function sources(...paths: string[]): Promise<SourcedRecord[]> {
  const out: SourcedRecord[] = [];
  for (const path of paths) {
    for (const record of await readResults(`${ROOT}${path}`)) out.push({ record, path });
  }
  return out;
}

Deno.test("leakPairs() puts each cell on P5 ids beside the same cell on random ids", async () => {
  const all = await sources("results/tiny_synthetic.jsonl", "tests/fixtures/report/leaks.jsonl");
  const pairs = await leakPairs(all);
  const ids = pairs.filter((p) => p.key === "reindex");
  assert.deepEqual(
    ids.map((p) => `${p.method} ${p.task}`).sort(),
    ["bprmf", "idleak", "lightgcn", "p5", "pop"].flatMap((m) => [`${m} direct`, `${m} sequential`])
      .sort(),
  );
  const idleak = ids.find((p) => p.method === "idleak" && p.task === "sequential")!;
  assert.equal(idleak.leaky.label, "P5 ids");
  assert.equal(idleak.clean.label, "random ids");
  const byPlugin = (reindex: string) =>
    all.find((s) =>
      s.record.plugin === "idleak" && s.record.task === "sequential" && s.record.reindex === reindex
    )!.record.metrics["NDCG@10"];
  assert.equal(idleak.leaky.metrics["NDCG@10"].mean, byPlugin("none"));
  assert.equal(idleak.clean.metrics["NDCG@10"].mean, byPlugin("random"));
  // No per-user files in committed results: no test.
  assert.equal(idleak.p["NDCG@10"], null);
});

Deno.test("leakPairs() puts a leak variant beside the config that differs in that key only", async () => {
  const all = await sources("results/tiny_synthetic.jsonl", "tests/fixtures/report/leaks.jsonl");
  const graph = (await leakPairs(all)).filter((p) => p.key === "graphEdges");
  assert.deepEqual(graph.map((p) => [p.method, p.task, p.clean.label, p.leaky.label]), [
    ["elmrec", "direct", "graphEdges=train", "graphEdges=leaky"],
    ["elmrec", "sequential", "graphEdges=train", "graphEdges=leaky"],
  ]);
  assert.equal(graph[0].clean.records.length, 1);
  assert.equal(all[graph[0].clean.records[0]].record.variant, undefined);
  assert.equal(all[graph[0].leaky.records[0]].record.variant, "graphEdges=leaky");
});

Deno.test("leakPairs() runs the paired t-test over users where per-user files exist", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "results.jsonl");
  const base = (await readResults(`${ROOT}results/tiny_synthetic.jsonl`))
    .find((r) => r.plugin === "pop" && r.task === "direct")!;
  const users = Int32Array.from([0, 1, 2, 3, 4]);
  const leaky = Float64Array.from([1, 0, 1, 1, 0]);
  const clean = Float64Array.from([0, 0, 1, 0, 0]);
  const records: SourcedRecord[] = [];
  for (const [reindex, values] of [["none", leaky], ["random", clean]] as const) {
    const id = `${base.id}-${reindex}`;
    const perUser = await writePerUser(path, id, users, { "HR@10": values });
    const record: ResultRecord = { ...base, id, reindex, per_user: perUser };
    records.push({ record, path });
  }
  const [pair] = await leakPairs(records);
  assert.equal(pair.p["HR@10"], pairedTTest(leaky, clean).p);
  assert.ok(pair.p["HR@10"]! > 0 && pair.p["HR@10"]! < 1);
  assert.equal(pair.p["NDCG@10"], null);
  await Deno.remove(dir, { recursive: true });
});

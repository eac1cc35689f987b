import assert from "node:assert/strict";
import { countMarks, toSvg } from "./figures.ts";
import { readResults } from "./results.ts";
import type { SourcedRecord } from "./significance.ts";
import { findSweeps, sweepSpec } from "./site_sweeps.ts";

const ROOT = new URL("../", import.meta.url).pathname;

async function sources(...paths: string[]): Promise<SourcedRecord[]> {
  const out: SourcedRecord[] = [];
  for (const path of paths) {
    for (const record of await readResults(`${ROOT}${path}`)) out.push({ record, path });
  }
  return out;
}

Deno.test("findSweeps() finds a sweep's values among other records, with the records' metrics", async () => {
  const all = await sources(
    "results/tiny_synthetic.jsonl",
    "tests/fixtures/report/sweep_bprmf_dim.jsonl",
  );
  const sweeps = findSweeps(all);
  assert.equal(sweeps.length, 1);
  const [s] = sweeps;
  assert.deepEqual([s.plugin, s.dataset, s.task, s.key], ["bprmf", "synthetic", "direct", "dim"]);
  assert.deepEqual(s.points.map((p) => p.value), [8, 16, 32]);
  assert.deepEqual(s.points.map((p) => p.metrics["NDCG@10"]), [0.29895067, 0.31001624, 0.29447992]);
  assert.deepEqual(s.points.map((p) => p.seeds), [1, 1, 1]);
  assert.equal(s.protocol, "preset tiny");
  // dim=16 is the tiny default: the sweep's record and the plain bprmf cell are one cell id.
  assert.equal(
    all[s.points[1].records[0]].record.id,
    all.find((x) => x.record.plugin === "bprmf")!.record.id,
  );
});

Deno.test("findSweeps() tells two sweeps of one key apart by what they hold fixed", async () => {
  const all = await sources(
    "results/cpu_sweep_beauty_layers.jsonl",
    "results/cpu_sweep_beauty_layers_3ep.jsonl",
    "results/cpu_sweep_beauty_sigma.jsonl",
    "results/cpu_sweep_beauty_sigma_3ep.jsonl",
  );
  const sweeps = findSweeps(all);
  assert.deepEqual(
    sweeps.map((s) =>
      `${s.key}: ${s.points.map((p) => p.value).join(",")} (${s.fixed.join(", ")})`
    ),
    [
      "layers: 1,2,3,4 (epochs=1, decode=constrained)",
      "layers: 1,2,3,4 (epochs=3, decode=constrained)",
      "sigma: 1,2,6,10 (epochs=1, decode=constrained)",
      "sigma: 1,2,6 (epochs=3, decode=constrained)",
    ],
  );
  // Two values of a key are not a sweep: epochs 1 and 3 at L = 4, sigma 6 stay in the tables.
  assert.ok(!sweeps.some((s) => s.key === "epochs"));
  const layers3 = sweeps[1];
  assert.deepEqual(layers3.points.map((p) => p.metrics["NDCG@10"].toFixed(4)), [
    "0.0826",
    "0.0823",
    "0.0818",
    "0.0819",
  ]);
});

Deno.test("sweepSpec() draws one line per metric with a point per value", async () => {
  const all = await sources("tests/fixtures/report/sweep_bprmf_dim.jsonl");
  const svg = await toSvg(sweepSpec(findSweeps(all)[0], ["HR@10", "NDCG@10"]));
  assert.equal(countMarks(svg, "line"), 2);
  assert.equal(countMarks(svg, "symbol"), 6);
});

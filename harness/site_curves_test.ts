import assert from "node:assert/strict";
import { countMarks, toSvg } from "./figures.ts";
import { readResults, type ResultRecord } from "./results.ts";
import type { SourcedRecord } from "./significance.ts";
import { curveSpec, learningCurves, logPoints } from "./site_curves.ts";

const FIXTURES = new URL("../tests/fixtures/report/", import.meta.url).pathname;
const TINY = new URL("../results/tiny_synthetic.jsonl", import.meta.url).pathname;

async function sources(...paths: string[]): Promise<SourcedRecord[]> {
  const out: SourcedRecord[] = [];
  for (const path of paths) {
    for (const record of await readResults(path)) out.push({ record, path });
  }
  return out;
}

Deno.test("logPoints() reads the T5 loop's log: a train loss per task and the validation loss", () => {
  const points = logPoints([
    { epoch: 1, train: { direct: 4.5, sequential: 4.25 }, valid: 3.5, samples: 10, seconds: 2 },
    { epoch: 2, train: { direct: 4, sequential: 3.75 }, valid: 3.25, samples: 10, seconds: 2 },
  ]);
  assert.deepEqual(points, [
    { epoch: 1, series: "train loss (direct)", value: 4.5, axis: "loss" },
    { epoch: 1, series: "train loss (sequential)", value: 4.25, axis: "loss" },
    { epoch: 1, series: "validation loss", value: 3.5, axis: "loss" },
    { epoch: 2, series: "train loss (direct)", value: 4, axis: "loss" },
    { epoch: 2, series: "train loss (sequential)", value: 3.75, axis: "loss" },
    { epoch: 2, series: "validation loss", value: 3.25, axis: "loss" },
  ]);
});

Deno.test("logPoints() reads the pairwise loop's log: loss, and NDCG@10 and HR@10 of validation", () => {
  const points = logPoints([
    { epoch: 1, loss: 0.69, metrics: { "HR@1": 0.01, "HR@10": 0.2, "NDCG@10": 0.1 }, seconds: 1 },
    { epoch: 2, loss: 0.5, metrics: {}, seconds: 1 },
  ]);
  assert.deepEqual(points, [
    { epoch: 1, series: "train loss", value: 0.69, axis: "loss" },
    { epoch: 1, series: "validation NDCG@10", value: 0.1, axis: "metric" },
    { epoch: 1, series: "validation HR@10", value: 0.2, axis: "metric" },
    { epoch: 2, series: "train loss", value: 0.5, axis: "loss" },
  ]);
  assert.equal(logPoints([{ step: 1 }]), null);
  assert.equal(logPoints("3 epochs"), null);
  assert.equal(logPoints([]), null);
});

Deno.test("learningCurves() draws one curve per training: cells of one model share it", async () => {
  const all = await sources(TINY, `${FIXTURES}sweep_bprmf_dim.jsonl`, `${FIXTURES}leaks.jsonl`);
  const { curves, skipped } = learningCurves(all);
  assert.deepEqual(skipped, []);
  // T5 models: direct and sequential cells log the same losses (one training each), so
  // p5, pod, elmrec and the leaky elmrec and renumbered p5 are five curves, not ten.
  const t5 = curves.filter((c) => ["p5", "pod", "elmrec"].includes(c.plugin));
  assert.equal(t5.length, 5);
  for (const c of t5) assert.equal(c.records.length, 2);
  const elmrec = t5.find((c) => c.labels[0] === "elmrec · direct")!;
  assert.deepEqual(elmrec.labels, ["elmrec · direct", "elmrec · sequential"]);
  assert.equal(elmrec.epochs, 3);
  assert.equal(elmrec.bestEpoch, 3);
  assert.equal(elmrec.prior, 2.8802674554806384);
  assert.equal(elmrec.points.filter((p) => p.series === "validation loss").length, 3);
  // Pairwise fits: one per cell (each cell trains its own). The sweep's dim=16 cell is the
  // tiny file's direct cell (the same id), so it is one curve, labelled as the tiny row.
  const bprmf = curves.filter((c) => c.plugin === "bprmf");
  assert.deepEqual(bprmf.map((c) => c.labels[0]).sort(), [
    "bprmf (dim=32) · direct",
    "bprmf (dim=8) · direct",
    "bprmf (reindex=random) · direct",
    "bprmf (reindex=random) · sequential",
    "bprmf · direct",
    "bprmf · sequential",
  ]);
});

Deno.test("learningCurves() folds a log that is the prefix of a longer one into it", () => {
  const entry = (epoch: number, seconds: number) => ({
    epoch,
    train: { direct: 5 - epoch },
    valid: 4 - epoch / 10,
    samples: 8,
    seconds,
  });
  const rec = (id: string, log: unknown[], best: number) =>
    ({
      id,
      plugin: "t5",
      dataset: "d",
      task: "direct",
      stage: "test",
      reindex: "none",
      mask: "none",
      variant: `epochs=${log.length}`,
      info: { train_log: log, best_epoch: best },
    }) as unknown as ResultRecord;
  const { curves } = learningCurves([
    { record: rec("a", [entry(1, 9), entry(2, 9)], 2), path: "x" },
    { record: rec("b", [entry(1, 7), entry(2, 7), entry(3, 7)], 3), path: "x" },
    { record: rec("c", [entry(1, 9), { ...entry(2, 9), valid: 0.5 }], 2), path: "x" },
  ]);
  assert.equal(curves.length, 2);
  assert.deepEqual(curves[0].labels, [
    "t5 (epochs=3) · direct",
    "t5 (epochs=2) · direct (at epoch 2)",
  ]);
  assert.equal(curves[0].bestEpoch, 3);
  assert.deepEqual(curves[1].labels, ["t5 (epochs=2) · direct"]);
});

Deno.test("curveSpec() compiles: loss and metric lines, the prior and the best epoch as rules", async () => {
  const all = await sources(TINY, `${FIXTURES}sweep_bprmf_dim.jsonl`);
  const { curves } = learningCurves(all);
  const t5 = curves.find((c) => c.prior !== null)!;
  const svg = await toSvg(curveSpec(t5));
  assert.equal(countMarks(svg, "line"), 3);
  assert.match(svg, /popularity prior \(validation loss\)/);
  assert.match(svg, /best epoch 3/);
  const pairwise = curves.find((c) => c.plugin === "bprmf")!;
  const svg2 = await toSvg(curveSpec(pairwise));
  assert.equal(countMarks(svg2, "line"), 3);
  assert.match(svg2, /validation metric/);
  assert.match(svg2, new RegExp(`best epoch ${pairwise.bestEpoch}`));
});

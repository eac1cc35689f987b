import { strict as assert } from "node:assert";
import { cellArgs, cellSlug, expandCells, type Experiment, shellQuote } from "./cells.ts";

const experiment: Experiment = {
  name: "x",
  description: "test",
  tasks: ["sequential"],
  plugins: ["pop", "elmrec", "missing"],
  variants: [
    { name: "w/o rerank", set: ["elmrec.rerank=false"], plugins: ["elmrec"] },
    { name: "reindexed", set: [], reindex: "random" },
  ],
};

Deno.test("expandCells() crosses plugins, datasets, seeds and variants, skipping unregistered plugins", () => {
  const cells = expandCells(experiment, {
    datasets: ["beauty", "synthetic"],
    seeds: [0, 1],
    preset: "tiny",
    dataRoot: "/data",
    available: ["pop", "elmrec"],
  });
  // Per dataset: plain (2 plugins) + w/o rerank (elmrec only) + reindexed (2 plugins) = 5, x 2 seeds.
  assert.equal(cells.length, 20);
  assert.equal(cells[0].data, "/data/beauty");
  assert.equal(cells.at(-1)!.data, "synthetic");
  const rerank = cells.filter((c) => c.variant === "w/o rerank");
  assert.equal(rerank.length, 4);
  assert.deepEqual(rerank[0].set, ["elmrec.rerank=false"]);
  const reindexed = cells.filter((c) => c.reindex === "random");
  assert.equal(reindexed.length, 8);
  assert.equal(reindexed[0].variant, undefined); // labelled by its reindex tag alone
});

Deno.test("cellArgs() and cellSlug() describe one run with its own results file", () => {
  const [cell] = expandCells(
    {
      ...experiment,
      variants: [{ name: "w/o rerank", set: ["elmrec.rerank=false"] }],
      variantsOnly: true,
    },
    { datasets: ["toys"], seeds: [3], preset: "cpu", dataRoot: "/d", available: ["elmrec"] },
  );
  assert.equal(cellSlug(cell), "toys_sequential_elmrec_s3_cpu_w-o-rerank");
  const args = cellArgs(cell, "/out/cells");
  assert.deepEqual(args.slice(0, 10), [
    "run",
    "--data",
    "/d/toys",
    "--task",
    "sequential",
    "--models",
    "elmrec",
    "--seed",
    "3",
    "--preset",
  ]);
  assert.ok(args.includes("/out/cells/toys_sequential_elmrec_s3_cpu_w-o-rerank.jsonl"));
  assert.deepEqual(args.slice(-4), ["--set", "elmrec.rerank=false", "--variant", "w/o rerank"]);
  assert.equal(shellQuote("w/o rerank"), "'w/o rerank'");
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});

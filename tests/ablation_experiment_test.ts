/**
 * The ablation experiment as data: which cells `elmbench ablate` /
 * `elmbench reproduce ablation` run, and what each arm sets.
 */
import assert from "node:assert/strict";
import { BUILTIN_PLUGINS, EXPERIMENTS } from "../plugins.ts";
import { cellArgs, expandCells } from "../harness/cells.ts";
import { ablateCommand } from "../harness/cmd_ablate.ts";
import { UsageError } from "../harness/cli_args.ts";

Deno.test("the ablation expands into POD, full ELMRec and one ELMRec row per arm on the task it acts on", () => {
  const cells = expandCells(EXPERIMENTS.ablation, {
    datasets: ["synthetic"],
    seeds: [0],
    preset: "tiny",
    dataRoot: ".",
    available: Object.keys(BUILTIN_PLUGINS),
  });
  const rows = (task: string) =>
    cells.filter((c) => c.task === task).map((c) =>
      `${c.plugin}${c.variant ? ` ${c.variant}` : ""}`
    );
  assert.deepEqual(rows("direct"), [
    "pod",
    "elmrec",
    "elmrec w/o graph-aware",
    "elmrec leaky graph",
  ]);
  assert.deepEqual(rows("sequential"), [
    "pod",
    "elmrec",
    "elmrec w/o incremental",
    "elmrec w/o reranking",
    "elmrec leaky graph",
  ]);
  const sets = Object.fromEntries(cells.filter((c) => c.variant).map((c) => [c.variant, c.set]));
  assert.deepEqual(sets["w/o graph-aware"], ["elmrec.directWholeWord=incremental"]);
  assert.deepEqual(sets["w/o incremental"], ["elmrec.seqWholeWord=graph"]);
  assert.deepEqual(sets["w/o reranking"], ["elmrec.rerank=false"]);
  assert.deepEqual(sets["leaky graph"], ["elmrec.graphEdges=leaky"]);
  // Every arm's key exists in elmrec's config (a misspelt key would fail the cell).
  for (const c of cells) {
    for (const s of c.set) {
      assert.ok(s.split("=")[0].split(".")[1] in BUILTIN_PLUGINS.elmrec.defaults);
    }
    assert.ok(cellArgs(c, "out").includes("--models"));
  }
});

Deno.test("elmbench ablate needs --data", async () => {
  await assert.rejects(() => ablateCommand([], BUILTIN_PLUGINS, EXPERIMENTS.ablation), UsageError);
});

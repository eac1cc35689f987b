/**
 * The paper's experiments as data: which plugins make Table 2, Table 3 and
 * the ablation, and which row is the method under test. `elmbench
 * reproduce` and `elmbench plan` expand these into cells; plugins that are
 * not registered yet are skipped.
 *
 * @module
 */
import type { Experiment } from "../harness/cells.ts";

const ROWS = ["pop", "idleak", "bprmf", "lightgcn", "simplex", "p5", "pod", "elmrec"];

/** Every experiment by name. */
export const EXPERIMENTS: Readonly<Record<string, Experiment>> = {
  table2: {
    name: "table2",
    description: "Table 2: direct recommendation (100 candidates)",
    tasks: ["direct"],
    plugins: ROWS,
    ours: "elmrec",
  },
  table3: {
    name: "table3",
    description: "Table 3: sequential recommendation (all items), with P5 ids and renumbered ids",
    tasks: ["sequential"],
    plugins: ROWS,
    ours: "elmrec",
    variants: [{ name: "reindexed", set: [], reindex: "random" }],
  },
  ablation: {
    name: "ablation",
    description:
      "ELMRec ablation: without graph-aware or incremental embeddings, without reranking, leaky graph; POD for reference",
    tasks: ["direct", "sequential"],
    plugins: ["pod", "elmrec"],
    ours: "elmrec",
    variants: [
      // Each arm swaps one component for what it replaced, on the task it acts on.
      {
        name: "w/o graph-aware",
        set: ["elmrec.directWholeWord=incremental"],
        plugins: ["elmrec"],
        tasks: ["direct"],
      },
      {
        name: "w/o incremental",
        set: ["elmrec.seqWholeWord=graph"],
        plugins: ["elmrec"],
        tasks: ["sequential"],
      },
      {
        name: "w/o reranking",
        set: ["elmrec.rerank=false"],
        plugins: ["elmrec"],
        tasks: ["sequential"],
      },
      { name: "leaky graph", set: ["elmrec.graphEdges=leaky"], plugins: ["elmrec"] },
    ],
  },
};

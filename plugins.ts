/**
 * The built-in plugins, in one static record, and the paper's experiments
 * over them. This is the one registration list: a new plugin is one file in
 * `baselines/` (ELMRec's is in `models/`) plus one line here, and nothing in
 * `harness/` knows a name. `cli.ts` hands both to the harness's commands;
 * scripts that want the built-ins import them from here (`mod.ts`, the API
 * for plugin authors, loads none of them).
 *
 * `elmbench reproduce` and `elmbench plan` expand the experiments into
 * cells; plugins that are not registered are skipped.
 *
 * @module
 */
import { bert4rec } from "./baselines/bert4rec.ts";
import { bprmf } from "./baselines/bprmf.ts";
import { caser } from "./baselines/caser.ts";
import { gru4rec } from "./baselines/gru4rec.ts";
import { idleak } from "./baselines/idleak.ts";
import { lightgcn } from "./baselines/lightgcn.ts";
import { ncl } from "./baselines/ncl.ts";
import { p5 } from "./baselines/p5.ts";
import { pod } from "./baselines/pod.ts";
import { pop } from "./baselines/pop.ts";
import { sasrec } from "./baselines/sasrec.ts";
import { simplex } from "./baselines/simplex.ts";
import type { Experiment } from "./harness/cells.ts";
import type { Plugin, PluginConfig } from "./harness/plugin.ts";
import type { TableDefaults } from "./harness/report_model.ts";
import { elmrec } from "./models/elmrec.ts";

/** Every built-in plugin by name. */
export const BUILTIN_PLUGINS: Readonly<Record<string, Plugin<PluginConfig>>> = {
  pop,
  idleak,
  bprmf,
  lightgcn,
  ncl,
  simplex,
  sasrec,
  bert4rec,
  gru4rec,
  caser,
  p5,
  pod,
  elmrec,
};

/**
 * How tables show the built-ins: rows in the order above, the improvement
 * row for ELMRec (the method the paper proposes), records made under a
 * key's old name labelled as newer ones.
 */
export const TABLE_DEFAULTS: TableDefaults = {
  order: Object.keys(BUILTIN_PLUGINS),
  ours: "elmrec",
  plugins: BUILTIN_PLUGINS,
};

const ROWS = ["pop", "idleak", "bprmf", "lightgcn", "ncl", "simplex", "p5", "pod", "elmrec"];
/** Table 3's classic sequential rows (the P5 paper's), after the rows both tables share. */
const SEQUENTIAL_ROWS = ["sasrec", "bert4rec", "gru4rec", "caser"];

/** The paper's experiments (Table 2, Table 3, the ablation) by name. */
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
    plugins: [...ROWS, ...SEQUENTIAL_ROWS],
    ours: "elmrec",
    variants: [
      { name: "reindexed", set: [], reindex: "random" },
      // SASRec with the paper's loss beside the default cross-entropy over all items.
      { name: "loss=bce", set: ["sasrec.loss=bce"], plugins: ["sasrec"] },
    ],
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

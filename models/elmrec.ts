/**
 * `elmrec` (Wang et al., EMNLP 2024), as methods.md section 4 describes it:
 * POD's backbone (T5, 3 learned prompt vectors per task, trained on POD's
 * templates drawn per sample and tested on the ids-only prompt, as
 * released; `trainPrompts`) whose encoder input gets, per token, alpha
 * times a whole-word vector:
 *
 * - direct prompts: graph-aware vectors, `mean(E0, Â E0, ..., Â^L E0)` of
 *   a trainable table drawn from N(0, sigma^2), recomputed at every train
 *   step, gradients flowing back into `E0` through the sparse graph;
 * - sequential prompts: incremental vectors (user = 1, history items 2, 3,
 *   ... oldest first) from a learned table; the graph does not enter;
 * - sequential lists are reranked: generate K + N, drop history items, keep
 *   order, pad, keep K (K = 10).
 *
 * Per-dataset defaults (alpha direct / sequential, sigma, L, N) follow the
 * release's README for `beauty`, `sports` and `toys` (the dataset's name);
 * other datasets (synthetic) get their own; each is declared with its key
 * in {@linkcode ELMREC_KEYS} (`elmbench plugins` lists them). A key set to
 * a value other than -1 overrides them.
 *
 * Alpha, as released, is one per run (`alphaPer: "run"`): the direct cell's
 * model trains both tasks at alpha direct and the sequential cell's at alpha
 * sequential, so the two cells train a model each when the alphas differ
 * (Beauty: 9 and 6) and share one when they agree. `alphaPer: "batch"`
 * trains one model whose batches take their own task's alpha.
 *
 * Ablation switches (each a variant key, so a changed value is its own row):
 * `directWholeWord` (`graph`; `incremental` = POD's scheme, `none`),
 * `seqWholeWord` (`incremental`; `graph`, `none`), `rerank`, and
 * `graphEdges` (`train`; `leaky` = a seeded 80% of all interactions, test
 * and validation items included, as the released code effectively does).
 *
 * Not trained: the explanation task (no review text in the data).
 *
 * @module
 */

import { ANY_DATASET, defaultsOf, valueForDataset } from "../harness/config_keys.ts";
import { type DefaultsOf, definePlugin, type FitContext, type Scorer } from "../harness/plugin.ts";
import { createRng, createSparseEngine, type Rng, type SparseEngine } from "../kernels/mod.ts";
import type { Task } from "../harness/types.ts";
import {
  elmrecGraph,
  ElmrecTables,
  INCREMENTAL_TABLE,
  LOCAL_PROPAGATOR,
  type Propagator,
  WHOLE_WORD_SCHEMES,
  type WholeWordScheme,
} from "./elmrec_embeddings.ts";
import { fitSeq2Seq } from "./recommender.ts";
import { fitRngOf, SEQ2SEQ_KEYS, SEQ2SEQ_PRESETS, TRAIN_PROMPTS_KEYS } from "./seq2seq_config.ts";

/** Hyper-parameters that depend on the dataset. */
export interface DatasetDefaults {
  readonly sigma: number;
  readonly layers: number;
  readonly alphaDirect: number;
  readonly alphaSeq: number;
  readonly rerankN: number;
}

/** List length the harness scores (K). */
export const RERANK_K = 10;

/**
 * ELMRec's keys: the T5 keys plus its own. Five default to -1, "from the
 * dataset": `beauty`, `sports` and `toys` take the release's README values
 * (methods.md, section 4, item 4), any other dataset (synthetic) the `*`
 * entry. *(choice)* The paper's alphas and sigmas are tuned against
 * pretrained t5-small token embeddings; our backbone starts from random
 * N(0, 1) embeddings, so vectors of that scale (sigma 1, alpha 1) keep the
 * token identity visible elsewhere; L = 4 and N = 10 as in the paper.
 */
export const ELMREC_KEYS = {
  ...SEQ2SEQ_KEYS,
  ...TRAIN_PROMPTS_KEYS,
  // ELMRec's records were labelled with `epochs` first, P5's and POD's last.
  epochs: { ...SEQ2SEQ_KEYS.epochs, variant: 0 },
  beams: { ...SEQ2SEQ_KEYS.beams, doc: "beam width of direct generation (sequential: seqBeams)" },
  sigma: {
    default: -1,
    doc: "std of the graph table E0 ~ N(0, sigma^2)",
    byDataset: { beauty: 6, sports: 5, toys: 5, [ANY_DATASET]: 1 },
  },
  layers: {
    default: -1,
    doc: "propagation layers L of the graph-aware vectors",
    byDataset: { beauty: 4, sports: 4, toys: 4, [ANY_DATASET]: 4 },
  },
  alphaDirect: {
    default: -1,
    doc: "alpha: weight of the whole-word vectors added to direct prompts",
    byDataset: { beauty: 9, sports: 5, toys: 11, [ANY_DATASET]: 1 },
  },
  alphaSeq: {
    default: -1,
    doc: "alpha: weight of the whole-word vectors added to sequential prompts",
    byDataset: { beauty: 6, sports: 1, toys: 9, [ANY_DATASET]: 1 },
  },
  rerankN: {
    default: -1,
    doc: "extra items N generated for reranking",
    untrained: true,
    byDataset: { beauty: 15, sports: 10, toys: 10, [ANY_DATASET]: 10 },
  },
  directWholeWord: {
    default: "graph",
    doc: "graph (ELMRec), incremental (POD's scheme) or none, for direct prompts",
    variant: 6,
    values: ["graph", "incremental", "none"],
  },
  seqWholeWord: {
    default: "incremental",
    doc: "incremental (ELMRec), graph or none, for sequential prompts",
    variant: 7,
    values: ["incremental", "graph", "none"],
  },
  rerank: {
    default: true,
    doc: "sequential: generate K + N, drop history items, keep K",
    untrained: true,
    variant: 8,
  },
  graphEdges: {
    default: "train",
    doc: "train (training split) or leaky (seeded leakyFraction of ALL interactions, as released)",
    variant: 5,
    values: ["train", "leaky"],
  },
  leakyFraction: {
    default: 0.8,
    doc: "share of all interactions kept as edges with graphEdges=leaky",
  },
  seqBeams: {
    default: 30,
    doc: "beam width of sequential generation (ELMRec: 30)",
    untrained: true,
  },
  alphaPer: {
    default: "run" as "run" | "batch",
    doc:
      "run (as released: a run trains both tasks with its cell's alpha, so the tasks get a model each when their alphas differ) or batch (one model, each batch with its task's alpha)",
    // Every record made before this key trained one model per batch's alpha.
    addedAt: "batch" as const,
    variant: 10,
  },
};

/** The config type of `elmrec`. */
export type ElmrecConfig = DefaultsOf<typeof ELMREC_KEYS>;

/** ELMRec's defaults (the `cpu` preset; -1 = from the dataset). */
export const ELMREC_DEFAULTS: ElmrecConfig = defaultsOf(ELMREC_KEYS);

/** The values in force for a dataset: keys at -1 take the dataset's values. */
export function resolveDatasetDefaults(config: ElmrecConfig, dataset: string): DatasetDefaults {
  const pick = (key: keyof DatasetDefaults) => {
    const v = valueForDataset(ELMREC_KEYS[key], config[key], dataset);
    if (!(Number.isFinite(v) && v >= 0)) {
      throw new RangeError(`Expected ${key} to be -1 (dataset default) or >= 0 but found ${v}`);
    }
    return v;
  };
  const out = {
    sigma: pick("sigma"),
    layers: pick("layers"),
    alphaDirect: pick("alphaDirect"),
    alphaSeq: pick("alphaSeq"),
    rerankN: pick("rerankN"),
  };
  for (const key of ["layers", "rerankN"] as const) {
    if (!Number.isInteger(out[key])) {
      throw new RangeError(`Expected ${key} to be an integer but found ${out[key]}`);
    }
  }
  return out;
}

function scheme(key: string, value: string): WholeWordScheme {
  if (!WHOLE_WORD_SCHEMES.includes(value as WholeWordScheme)) {
    throw new RangeError(
      `Expected ${key} to be one of ${WHOLE_WORD_SCHEMES.join(", ")} but found "${value}"`,
    );
  }
  return value as WholeWordScheme;
}

/**
 * ELMRec's reranking: drops history items and repeats from `list`, keeps
 * the order, takes the first `k`, and pads with `pad()` draws that are
 * neither history nor listed (up to `100 * k` tries).
 *
 * @example
 * ```ts
 * import { rerank } from "./elmrec.ts";
 * console.log(rerank(Int32Array.of(4, 7, 4, 9, 2), Int32Array.of(7, 2), 2)); // Int32Array [4, 9]
 * ```
 */
export function rerank(
  list: Int32Array,
  history: Int32Array,
  k: number,
  pad?: () => number,
): Int32Array {
  const seen = new Set(history);
  const out: number[] = [];
  for (const item of list) {
    if (out.length >= k) break;
    if (!seen.has(item)) {
      seen.add(item);
      out.push(item);
    }
  }
  for (let guard = 0; pad && out.length < k && guard < 100 * k; guard++) {
    const item = pad();
    if (!seen.has(item)) {
      seen.add(item);
      out.push(item);
    }
  }
  return Int32Array.from(out);
}

async function propagatorFor(
  ctx: FitContext,
  size: number,
): Promise<{ propagator: Propagator; engine?: SparseEngine }> {
  // Worker threads pay off on real graphs only (Beauty: 34k nodes x 64).
  if (ctx.threads < 2 || size < 1 << 20) return { propagator: LOCAL_PROPAGATOR };
  const engine = await createSparseEngine({ threads: Math.min(ctx.threads, 2) });
  return {
    engine,
    propagator: {
      mean: (a, x, layers) => engine.propagateMean(a, x, { layers }),
      back: (a, g, layers) => engine.propagateMeanBackward(a, g, { layers }),
    },
  };
}

async function fitElmrec(ctx: FitContext, config: ElmrecConfig): Promise<Scorer> {
  const { split } = ctx;
  const hyper = resolveDatasetDefaults(config, split.dataset.name);
  const schemes: Record<Task, WholeWordScheme> = {
    direct: scheme("directWholeWord", config.directWholeWord),
    sequential: scheme("seqWholeWord", config.seqWholeWord),
  };
  if (config.graphEdges !== "train" && config.graphEdges !== "leaky") {
    throw new RangeError(
      `Expected graphEdges to be "train" or "leaky" but found "${config.graphEdges}"`,
    );
  }
  const graph = elmrecGraph(
    split,
    config.graphEdges,
    createRng(ctx.seed).fork("elmrec:leaky-edges"),
    config.leakyFraction,
  );
  if (config.alphaPer !== "run" && config.alphaPer !== "batch") {
    throw new RangeError(`Expected alphaPer to be "run" or "batch" but found "${config.alphaPer}"`);
  }
  const alpha = alphaInTraining(config.alphaPer, ctx.task, hyper);
  const beams = ctx.task === "sequential" ? config.seqBeams : config.beams;
  let tables: ElmrecTables | undefined;
  let engine: SparseEngine | undefined;
  try {
    let propagator = LOCAL_PROPAGATOR;
    if (Object.values(schemes).includes("graph")) {
      // Only decides whether worker threads pay; a checkpoint's width may differ.
      const dModel = config.hfModel ? 512 : config.dModel;
      ({ propagator, engine } = await propagatorFor(ctx, graph.nRows * dModel));
    }
    const inner = await fitSeq2Seq(ctx, { ...config, beams }, {
      name: "elmrec",
      wholeWord: "none",
      templates: "ids",
      promptLength: 3,
      // ELMRec's release left POD's uniform draw commented out: torch's N(0, 1).
      promptInit: "normal",
      external: true,
      keys: ELMREC_KEYS,
      // A run's alpha names its checkpoint: equal alphas share one model.
      run: config.alphaPer === "run" ? { alpha: alpha.direct } : undefined,
      hooks: ({ cfg, store, prompts }) => {
        const t = tables = new ElmrecTables(store, {
          graph,
          layers: hyper.layers,
          dModel: cfg.dModel,
          wholeWordRows: config.wholeWordRows,
          scheme: schemes,
          alpha,
          startTokens: new Set([prompts.word("user_1")[0], prompts.word("item_1")[0]]),
          lr: config.lr,
          weightDecay: config.weightDecay,
          threads: ctx.threads,
          device: ctx.device,
        });
        t.propagator = propagator;
        // The incremental table is drawn exactly as the backbone draws its
        // params (Seq2SeqRecommender: rng "dropout" -> "init" -> name), so
        // with alpha 1 on both tasks ELMRec's incremental scheme is POD's.
        const rng = fitRngOf(ctx, config);
        t.init(
          hyper.sigma,
          rng.fork("elmrec:graph-init"),
          rng.fork("dropout").fork("init").fork(INCREMENTAL_TABLE),
        );
        return {
          feeds: (task, batch) => ({
            extra_embeds: {
              data: t.extra(task, batch),
              shape: [batch.rows, batch.nodes.length / batch.rows, cfg.dModel],
            },
          }),
          wrt: ["extra_embeds"],
          onGradients: (task, batch, grads) =>
            t.backward(task, batch, grads.extra_embeds.data as Float32Array),
        };
      },
    });
    // Propagate the final table once while the engine runs; scoring reuses it.
    if (Object.values(schemes).includes("graph")) tables?.propagated();
    if (tables) tables.propagator = LOCAL_PROPAGATOR;
    // Added to the backbone's own info object, which keeps counting list slots as lists are made.
    const info = Object.assign(inner.info!, {
      ...hyper,
      alpha_in_training: alpha,
      graph_edges: config.graphEdges,
      graph_nnz: graph.offsets[graph.nRows],
      rerank: ctx.task === "sequential" && config.rerank,
      table_updates: { ...tables?.updateCounts },
    });
    if (ctx.task !== "sequential" || !config.rerank) return { ...inner, info };
    return { ...inner, info, recommend: reranked(ctx, inner, hyper.rerankN) };
  } finally {
    engine?.close();
  }
}

/**
 * The alpha each task's batches get while training. `run`, as released: one
 * alpha per run, the cell's task's, on the batches of both tasks (the
 * release's direct numbers come from a run at alpha direct, its sequential
 * numbers from another at alpha sequential). `batch`: each batch its own
 * task's alpha, one model for both.
 *
 * @example
 * ```ts
 * import { alphaInTraining } from "./elmrec.ts";
 * const beauty = { alphaDirect: 9, alphaSeq: 6 };
 * console.log(alphaInTraining("run", "sequential", beauty)); // { direct: 6, sequential: 6 }
 * console.log(alphaInTraining("batch", "sequential", beauty)); // { direct: 9, sequential: 6 }
 * ```
 */
export function alphaInTraining(
  per: "run" | "batch",
  task: Task,
  hyper: Pick<DatasetDefaults, "alphaDirect" | "alphaSeq">,
): Record<Task, number> {
  if (per === "batch") return { direct: hyper.alphaDirect, sequential: hyper.alphaSeq };
  const a = task === "direct" ? hyper.alphaDirect : hyper.alphaSeq;
  return { direct: a, sequential: a };
}

function reranked(ctx: FitContext, inner: Scorer, n: number): Scorer["recommend"] {
  const nItems = ctx.split.nItems;
  return async (request) => {
    const lists = await inner.recommend!({ ...request, k: request.k + n });
    return lists.map((list, i) => {
      const u = request.userRows[i];
      const rng: Rng = ctx.rng.fork(`rerank-pad:${request.stage}:${u}`);
      return rerank(list, ctx.history(u, request.stage), request.k, () => 1 + rng.int(nItems));
    });
  };
}

/** ELMRec: graph-aware and incremental whole-word embeddings, reranking. */
export const elmrec = definePlugin({
  name: "elmrec",
  description:
    "ELMRec: POD's T5 with graph-aware (direct) and incremental (sequential) whole-word embeddings, reranking",
  tasks: ["direct", "sequential"],
  keys: ELMREC_KEYS,
  presets: {
    tiny: { ...SEQ2SEQ_PRESETS.tiny, seqBeams: 20 },
    cpu: { ...SEQ2SEQ_PRESETS.cpu },
    paper: { ...SEQ2SEQ_PRESETS.paper },
  },
  requires: ["train-sequences", "train-graph", "item-ids", "prompts"],
  fit: fitElmrec,
});

/**
 * `lightgcn`: LightGCN (He et al., SIGIR 2020) on the engine. Layer-0
 * embeddings `E0` (one row per node: node 0 unused, user u = node u, item i =
 * node nUsers + i) are propagated over the normalized training graph
 * `Â = D^-1/2 A D^-1/2` and averaged over layers 0..L; score = dot product;
 * BPR loss plus an L2 penalty on the batch's layer-0 rows.
 *
 * Each step is split at the sparse boundary (kernels/mod.ts): the engine's
 * kernels compute `P = mean_l Â^l E0` (`propagateMean`); one ONNX Runtime
 * session takes the batch's rows of `P` and of `E0` as `wrt` inputs and
 * returns the loss with its gradients for those rows; JS scatters them into
 * `dLoss/dP`, the kernels map that back (`propagateMeanBackward`), JS adds
 * the penalty's rows, and the kernels apply Adam to the whole of `E0`, as
 * RecBole's `torch.optim.Adam` does (`createTableAdam`). `E0`, its moments,
 * `P` and both gradients stay in the engine's heap, so no product copies
 * anything. Sessions and buffers are made once per fit.
 *
 * The penalty follows RecBole's `EmbLoss` (the reference implementation):
 * with `regPow = false` (RecBole's `require_pow: False` default) it is
 * `reg * (‖U‖ + ‖I+‖ + ‖I-‖) / B`, the Frobenius norms of the batch's
 * `B x d` layer-0 row blocks, not squared; with `regPow = true` it is
 * `reg * (‖U‖² + ‖I+‖² + ‖I-‖²) / (2 B)` (the paper's squared L2).
 *
 * @module
 */
import { fitInfo, fitPairwise, PAIRWISE_FIT_KEYS } from "../harness/pairwise_fit.ts";
import { type DefaultsOf, definePlugin, type FitContext, type Scorer } from "../harness/plugin.ts";
import type { Split } from "../harness/types.ts";
import {
  compileTrainStep,
  createOnnxTableAdam,
  createSparseEngine,
  createTableAdam,
  type CsrMatrix,
  type Device,
  Graph,
  loadCheckpoint,
  ParamStore,
  propagateMean,
  saveCheckpoint,
  type SparseEngine,
  type Tensor,
} from "../kernels/mod.ts";
import { graphSize, normalizedAdjacency } from "../models/interaction_graph.ts";
import { checkConfigMatches, embeddingCheckpointConfig } from "../models/embedding_checkpoint.ts";
import { createEmbeddingScorer, gatherRows, vectorScorer } from "../models/embedding_scorer.ts";
import { embLoss, weightedBprLoss } from "../models/rec_losses.ts";

/**
 * Every key: the LightGCN paper's settings (= RecBole's reference run).
 * `batchSize` and `regPow` were `batch_size` and `reg_pow`.
 */
export const LIGHTGCN_KEYS = {
  dim: { default: 64, doc: "embedding width d" },
  layers: { default: 3, doc: "propagation layers L (final = mean of layers 0..L)" },
  lr: { default: 1e-3, doc: "Adam learning rate" },
  batchSize: {
    default: 2048,
    doc: "(user, positive, negative) triples per step",
    legacy: "batch_size",
  },
  reg: { default: 1e-4, doc: "weight of the L2 penalty on the batch's layer-0 rows" },
  regPow: {
    default: false,
    doc: "false: RecBole's EmbLoss (sum of Frobenius norms / B); true: squared norms / 2B",
    legacy: "reg_pow",
  },
  ...PAIRWISE_FIT_KEYS,
};
type LightGcnConfig = DefaultsOf<typeof LIGHTGCN_KEYS>;

/** Name of the layer-0 table in the store and in checkpoints. */
export const EMBEDDING = "embedding.weight";

/** Options of {@linkcode lightgcnLoss}. */
export interface LightGcnLossOptions {
  reg: number;
  regPow: boolean;
}

/** A batch's `[B, d]` rows of users, positive items and negative items. */
export interface TripleRows {
  users: Tensor;
  pos: Tensor;
  neg: Tensor;
}

/**
 * BPR loss on the batch's propagated rows `p` plus RecBole's `EmbLoss` on
 * its layer-0 rows `ego`, over samples weighted by `weights` (1 = real,
 * 0 = padding).
 */
export function lightgcnLoss(
  p: TripleRows,
  ego: TripleRows | undefined,
  weights: Tensor,
  options: LightGcnLossOptions,
): Tensor {
  const g = weights.graph;
  const sPos = g.reduceSum(g.mul(p.users, p.pos), [-1], false);
  const sNeg = g.reduceSum(g.mul(p.users, p.neg), [-1], false);
  const bpr = weightedBprLoss(sPos, sNeg, weights);
  if (options.reg === 0 || !ego) return bpr;
  const penalty = embLoss([ego.users, ego.pos, ego.neg], weights, { pow: options.regPow });
  return g.add(bpr, g.mul(penalty, options.reg));
}

/** One split train step over a fixed graph, compiled once; buffers reused. */
export interface LightGcnTrainer {
  /** Runs a step on node ids; returns the loss. */
  step(users: Int32Array, pos: Int32Array, neg: Int32Array, weights: Float32Array): Promise<number>;
  /** The final embeddings `mean_l Â^l E0` of the current `E0` (a new array). */
  propagate(): Float32Array;
}

/** Where LightGCN's Adam runs. */
export type LightGcnUpdate = "dense" | "onnx";

/** Options of {@linkcode createLightGcnTrainer}. */
export interface LightGcnTrainerOptions {
  dim: number;
  layers: number;
  lr: number;
  batchSize: number;
  reg: number;
  regPow: boolean;
  /** ONNX Runtime intra-op threads. @default 1 */
  threads?: number;
  /** Execution provider of the dense step (and of an `onnx` update). @default "cpu" */
  device?: Device;
  /** Sparse products and the update's kernels; a one-thread engine of its own when absent. */
  engine?: SparseEngine;
  /**
   * `dense`: Adam over the whole table in the engine's kernels, with `E0`,
   * its moments, `P` and both gradients in the engine's heap (nothing is
   * copied per product), and the last layer of `P` computed at the batch's
   * nodes only; `onnx`: the path before that, kept for comparison (same
   * numbers): Adam as an ONNX Runtime update session, over arrays outside
   * the heap that every product copies in and out, and all of `P`.
   * @default "dense"
   */
  update?: LightGcnUpdate;
  /** When given, milliseconds per phase are added to it (profiling). */
  profile?: Record<string, number>;
}

const PARTS = ["users", "pos", "neg"] as const;

/**
 * Compiles the split step for adjacency `a` over `store`'s
 * {@linkcode EMBEDDING}. The session's boundary inputs are the batch's
 * propagated rows (and layer-0 rows for the penalty), not whole matrices:
 * returning dense `nodes x d` gradients from ONNX Runtime cost more than the
 * loss itself (measured: 37 ms of a 190 ms Beauty step). With the `dense`
 * update the store's entry is a view of the engine's heap that each step
 * updates in place; an entry the caller replaces (a restored snapshot) is
 * copied in before the next step.
 */
export async function createLightGcnTrainer(
  a: CsrMatrix,
  store: ParamStore,
  options: LightGcnTrainerOptions,
): Promise<LightGcnTrainer> {
  const { dim: d, layers, batchSize: b } = options;
  const n = a.nRows;
  const g = new Graph();
  const rowsOf = (prefix: string) =>
    Object.fromEntries(PARTS.map((k) => [k, g.input(`${prefix}.${k}`, "float32", [b, d])])) as
      & TripleRows
      & Record<string, Tensor>;
  const p = rowsOf("p");
  const ego = options.reg === 0 ? undefined : rowsOf("e");
  const weights = g.input("weights", "float32", [b]);
  const loss = lightgcnLoss(p, ego, weights, { reg: options.reg, regPow: options.regPow });
  const runtime = { intraOpThreads: options.threads ?? 1, device: options.device };
  const wrt = [...PARTS.map((k) => p[k]), ...(ego ? PARTS.map((k) => ego[k]) : [])];
  const step = await compileTrainStep(loss, store, { ...runtime, params: [], wrt });
  const engine = options.engine ?? await createSparseEngine({ threads: 1 });
  const onnx = options.update === "onnx";
  if (!onnx && options.update !== undefined && options.update !== "dense") {
    throw new RangeError(`Expected update "dense" or "onnx" but found "${options.update}"`);
  }
  const table = { name: EMBEDDING, rows: n, dim: d, gradient: "whole" as const };
  const adam = onnx
    ? await createOnnxTableAdam(store, [table], { lr: options.lr, ...runtime })
    : createTableAdam(engine, [{ ...table, init: store.get(EMBEDDING)!.data }], { lr: options.lr });
  /** E0 as the store holds it: the optimizer's, after copying in a value the caller set. */
  const e0 = (): Float32Array => {
    adam.syncStore(store);
    return adam.values(EMBEDDING);
  };
  const buffer = (floats: number) => onnx ? new Float32Array(floats) : engine.alloc(floats);
  // Per batch: distinct nodes (stamped), whose rows of dLoss/dP are reset after use.
  const stamp = new Int32Array(n);
  const distinct = new Int32Array(3 * b);
  const propagated = buffer(n * d), gradP = buffer(n * d);
  const feeds: Record<string, Float32Array> = { weights: new Float32Array(b) };
  for (const k of PARTS) {
    feeds[`p.${k}`] = new Float32Array(b * d);
    if (ego) feeds[`e.${k}`] = new Float32Array(b * d);
  }
  let mark = 0;
  const prof = options.profile;
  let clock = 0;
  const lap = (phase: string) => {
    if (!prof) return;
    const now = performance.now();
    prof[phase] = (prof[phase] ?? 0) + now - clock;
    clock = now;
  };
  return {
    async step(users, pos, neg, w) {
      if (prof) clock = performance.now();
      const x0 = e0();
      const ids = [users, pos, neg];
      mark++;
      let count = 0;
      for (let t = 0; t < 3; t++) {
        for (let k = 0; k < b; k++) {
          const node = ids[t][k];
          if (stamp[node] !== mark) {
            stamp[node] = mark;
            distinct[count++] = node;
          }
        }
      }
      lap("gather");
      // The session reads P at the batch's nodes only (the old path computed all of it).
      const rows = onnx ? undefined : distinct.subarray(0, count);
      engine.propagateMean(a, x0, { layers, out: propagated, rows });
      lap("forward");
      PARTS.forEach((part, t) => {
        engine.gatherRows(propagated, ids[t], feeds[`p.${part}`]);
        if (ego) engine.gatherRows(x0, ids[t], feeds[`e.${part}`]);
      });
      feeds.weights.set(w);
      lap("gather");
      const { loss, grads } = await step.run(feeds);
      lap("ort_step");
      PARTS.forEach((part, t) => {
        engine.addRows(gradP, ids[t], grads[`p.${part}`].data as Float32Array);
      });
      lap("scatter");
      // dLoss/dP is zero outside the batch's nodes: the first product reads those rows only.
      const inputRows = onnx ? undefined : distinct.subarray(0, count);
      engine.propagateMeanBackward(a, gradP, { layers, out: adam.grad(EMBEDDING), inputRows });
      lap("backward");
      for (let c = 0; c < count; c++) gradP.fill(0, distinct[c] * d, distinct[c] * d + d);
      if (ego) {
        for (const [t, part] of PARTS.entries()) {
          adam.addRows(EMBEDDING, ids[t], grads[`e.${part}`].data as Float32Array);
        }
      }
      lap("scatter");
      await adam.step();
      lap("adam_update");
      return loss;
    },
    propagate: () => engine.propagateMean(a, e0(), { layers }),
  };
}

/** `Â` of the training interactions. */
export function trainGraph(split: Split): CsrMatrix {
  return normalizedAdjacency(split.nUsers, split.nItems, split.train);
}

/** RecBole's init: xavier-uniform per table (users, items), node 0 zero. */
export function initEmbeddings(ctx: FitContext, d: number): Float32Array {
  const { nUsers, nItems } = ctx.split;
  const e = new Float32Array(graphSize(nUsers, nItems) * d);
  const rng = ctx.rng.fork("init");
  // RecBole's tables have a padding row each: fan_out = count + 1.
  const ub = Math.sqrt(6 / (nUsers + 1 + d)), ib = Math.sqrt(6 / (nItems + 1 + d));
  for (let k = d; k < e.length; k++) {
    const bound = k < (nUsers + 1) * d ? ub : ib;
    e[k] = (2 * rng.next() - 1) * bound;
  }
  return e;
}

/** A scorer over final embeddings `p` (`nodes x d`). */
export async function scorerOver(
  split: Split,
  p: Float32Array,
  d: number,
  rt: Pick<FitContext, "threads" | "device">,
) {
  const { nUsers, nItems } = split;
  // Item i is node nUsers + i, so the rows from node nUsers on form the
  // item table with item 0 = the last user's row (column 0 is ignored).
  const items = p.subarray(nUsers * d, (nUsers + nItems + 1) * d);
  const es = await createEmbeddingScorer(items, { dim: d, threads: rt.threads, device: rt.device });
  let table = p;
  const scorer = vectorScorer(es, ({ userRows }) => gatherRows(table, userRows, d, 1));
  return {
    scorer,
    /** Points the scorer at new final embeddings. */
    update(next: Float32Array) {
      table = next;
      es.setItems(next.subarray(nUsers * d, (nUsers + nItems + 1) * d));
    },
  };
}

function withSave(
  scorer: Scorer,
  store: ParamStore,
  config: LightGcnConfig,
  split: Split,
  info: Record<string, unknown>,
): Scorer {
  return {
    ...scorer,
    info,
    save: (dir) => saveCheckpoint(dir, store, embeddingCheckpointConfig("lightgcn", config, split)),
  };
}

/** LightGCN with BPR loss, trained at the sparse boundary. */
export const lightgcn = definePlugin({
  name: "lightgcn",
  description: "LightGCN: mean of L propagation layers over the training graph, BPR loss",
  tasks: ["direct", "sequential"],
  keys: LIGHTGCN_KEYS,
  presets: {
    tiny: { dim: 16, layers: 2, batchSize: 256, epochs: 12, patience: 4, lr: 1e-2 },
    cpu: {},
    // The paper stops when recall@20 has not improved for 50 epochs.
    paper: { epochs: 1000, patience: 50 },
  },
  requires: ["train-graph"],
  async fit(ctx: FitContext, config: LightGcnConfig): Promise<Scorer> {
    const { split } = ctx;
    const d = config.dim;
    const a = trainGraph(split);
    const store = new ParamStore();
    store.set(EMBEDDING, initEmbeddings(ctx, d), [a.nRows, d]);
    const engine = ctx.threads > 1 ? await createSparseEngine({ threads: ctx.threads }) : undefined;
    try {
      const trainer = await createLightGcnTrainer(a, store, {
        dim: d,
        layers: config.layers,
        lr: config.lr,
        batchSize: config.batchSize,
        reg: config.reg,
        regPow: config.regPow,
        threads: ctx.threads,
        device: ctx.device,
        engine,
      });
      const nodes = {
        users: new Int32Array(config.batchSize),
        pos: new Int32Array(config.batchSize),
        neg: new Int32Array(config.batchSize),
      };
      const view = await scorerOver(split, trainer.propagate(), d, ctx);
      const result = await fitPairwise(ctx, {
        label: "lightgcn",
        batchSize: config.batchSize,
        maxEpochs: config.epochs,
        patience: config.patience,
        validProtocol: config.validProtocol,
        validUsers: config.validUsers,
        step: (batch, weights) => {
          for (let k = 0; k < batch.users.length; k++) {
            nodes.users[k] = batch.users[k] + 1;
            nodes.pos[k] = split.nUsers + batch.positives[k];
            nodes.neg[k] = split.nUsers + batch.negatives[k];
          }
          return trainer.step(nodes.users, nodes.pos, nodes.neg, weights);
        },
        scorer: () => {
          view.update(trainer.propagate());
          return Promise.resolve(view.scorer);
        },
        snapshot: () => store.get(EMBEDDING)!.data.slice(),
        restore: (e0) => store.set(EMBEDDING, e0, [a.nRows, d]),
      });
      view.update(trainer.propagate());
      return withSave(view.scorer, store, config, split, fitInfo(result));
    } finally {
      engine?.close();
    }
  },
  async load(ctx: FitContext, config: LightGcnConfig, dir: string): Promise<Scorer> {
    const { split } = ctx;
    const { store, config: saved } = await loadCheckpoint(dir);
    checkConfigMatches(dir, saved, { ...config, n_users: split.nUsers, n_items: split.nItems }, [
      "dim",
      "layers",
      "n_users",
      "n_items",
    ]);
    const a = trainGraph(split);
    const p = propagateMean(a, store.get(EMBEDDING)!.data, { layers: config.layers });
    const view = await scorerOver(split, p, config.dim, ctx);
    return withSave(view.scorer, store, config, split, { loaded_from: dir });
  },
});

/**
 * `bprmf`: matrix factorisation with Bayesian personalised ranking (Rendle
 * et al., UAI 2009), as RecBole's `BPR` reference: free user and item
 * embeddings (xavier-normal), score = dot product, BPR loss on (user,
 * positive, uniform negative), Adam; no penalty unless `reg` is set (same
 * `EmbLoss` convention as `lightgcn`). A step is split at the tables' rows:
 * JS gathers the batch's rows, one ONNX Runtime session returns the loss
 * and the rows' gradients, and the engine's kernels apply Adam to both
 * tables in place (every row, as RecBole's `torch.optim.Adam`, or only the
 * touched rows with `adamRows=sparse`). Adam over the whole tables inside
 * the session cost about two thirds of a Beauty step.
 *
 * @module
 */
import {
  ADAM_ROWS_KEY,
  adamRows,
  fitInfo,
  fitPairwise,
  PAIRWISE_FIT_KEYS,
} from "../harness/pairwise_fit.ts";
import { type DefaultsOf, definePlugin, type FitContext, type Scorer } from "../harness/plugin.ts";
import type { Split } from "../harness/types.ts";
import {
  adam,
  compileTrainStep,
  createSparseEngine,
  createTableAdam,
  type Device,
  Graph,
  loadCheckpoint,
  normal,
  ParamStore,
  saveCheckpoint,
  type SparseEngine,
  type Tensor,
} from "../kernels/mod.ts";
import { checkConfigMatches, embeddingCheckpointConfig } from "../models/embedding_checkpoint.ts";
import { createEmbeddingScorer, gatherRows, vectorScorer } from "../models/embedding_scorer.ts";
import { embLoss, weightedBprLoss } from "../models/rec_losses.ts";

/**
 * Every key: RecBole's BPR settings on these data (its reference run).
 * `batchSize` and `regPow` were `batch_size` and `reg_pow`.
 */
export const BPRMF_KEYS = {
  dim: { default: 64, doc: "embedding width d" },
  lr: { default: 1e-3, doc: "Adam learning rate" },
  batchSize: {
    default: 2048,
    doc: "(user, positive, negative) triples per step",
    legacy: "batch_size",
  },
  reg: { default: 0, doc: "weight of the L2 penalty on the batch's rows (RecBole's BPR has none)" },
  regPow: {
    default: false,
    doc: "false: sum of Frobenius norms / B (RecBole's EmbLoss); true: squared / 2B",
    legacy: "reg_pow",
  },
  adamRows: ADAM_ROWS_KEY,
  ...PAIRWISE_FIT_KEYS,
};
type BprMfConfig = DefaultsOf<typeof BPRMF_KEYS>;

/** Param names, as RecBole names them. */
export const USERS = "user_embedding.weight";
export const ITEMS = "item_embedding.weight";

/** Options of {@linkcode bprmfLoss}. */
export interface BprMfLossOptions {
  reg: number;
  regPow: boolean;
}

/**
 * Weighted BPR loss of dot-product scores from tables `users` (`[nUsers, d]`,
 * by user row) and `items` (`[nItems + 1, d]`, by item id), plus `EmbLoss`.
 */
export function bprmfLoss(
  users: Tensor,
  items: Tensor,
  ids: { users: Tensor; pos: Tensor; neg: Tensor; weights: Tensor },
  options: BprMfLossOptions,
): Tensor {
  const g = users.graph;
  const rows = {
    u: g.gather(users, ids.users),
    i: g.gather(items, ids.pos),
    j: g.gather(items, ids.neg),
  };
  return bprmfRowLoss(rows, ids.weights, options);
}

/** {@linkcode bprmfLoss} on the batch's gathered `[B, d]` rows of users, positives and negatives. */
export function bprmfRowLoss(
  rows: { u: Tensor; i: Tensor; j: Tensor },
  weights: Tensor,
  options: BprMfLossOptions,
): Tensor {
  const { u, i, j } = rows;
  const g = u.graph;
  const sPos = g.reduceSum(g.mul(u, i), [-1], false);
  const sNeg = g.reduceSum(g.mul(u, j), [-1], false);
  const bpr = weightedBprLoss(sPos, sNeg, weights);
  if (options.reg === 0) return bpr;
  return g.add(bpr, g.mul(embLoss([u, i, j], weights, { pow: options.regPow }), options.reg));
}

/** Where BPR-MF's Adam runs, and over which rows. */
export type BprMfUpdate = "onnx" | "dense" | "sparse";

/** Options of {@linkcode createBprMfTrainer}. */
export interface BprMfTrainerOptions extends BprMfLossOptions {
  nUsers: number;
  nItems: number;
  dim: number;
  lr: number;
  batchSize: number;
  /** ONNX Runtime intra-op threads. @default 1 */
  threads?: number;
  /** Execution provider of the session. @default "cpu" */
  device?: Device;
  /**
   * `onnx`: the whole step (gathers, loss, Adam over both tables) as one
   * ONNX Runtime session, the path before the kernels took the update;
   * `dense` or `sparse`: the session computes the loss and its gradients
   * for the batch's rows, and the engine's kernels apply Adam to every row
   * of both tables (the same numbers as `onnx`) or to the rows the batch
   * touched (`createTableAdam`). @default "dense"
   */
  update?: BprMfUpdate;
  /** The kernels' engine (heap and threads); a one-thread engine of its own when absent. */
  engine?: SparseEngine;
}

/** One BPR-MF train step on user rows and item ids; returns the loss. */
export type BprMfStep = (
  users: Int32Array,
  pos: Int32Array,
  neg: Int32Array,
  weights: Float32Array,
) => Promise<number>;

/**
 * Compiles BPR-MF's step over `store`'s {@linkcode USERS} and {@linkcode ITEMS}
 * (their initial values). With a kernels' update the store's entries become
 * the optimizer's arrays, updated in place; an entry the caller replaces (a
 * restored snapshot) is copied in before the next step.
 */
export async function createBprMfTrainer(
  store: ParamStore,
  options: BprMfTrainerOptions,
): Promise<BprMfStep> {
  const { dim: d, batchSize: b, update = "dense" } = options;
  const runtime = { intraOpThreads: options.threads ?? 1, device: options.device };
  const loss = { reg: options.reg, regPow: options.regPow };
  const g = new Graph();
  const w = g.input("weights", "float32", [b]);
  if (update === "onnx") {
    const ids = Object.fromEntries(
      ["users", "pos", "neg"].map((k) => [k, g.input(k, "int32", [b])]),
    );
    const users = g.param(USERS, [options.nUsers, d]),
      items = g.param(ITEMS, [options.nItems + 1, d]);
    const total = bprmfLoss(users, items, {
      users: ids.users,
      pos: ids.pos,
      neg: ids.neg,
      weights: w,
    }, loss);
    const step = await compileTrainStep(total, store, {
      ...runtime,
      optimizer: adam({ lr: options.lr }),
    });
    return async (users, pos, neg, weights) => (await step.run({ users, pos, neg, weights })).loss;
  }
  if (update !== "dense" && update !== "sparse") {
    throw new RangeError(`Expected update "onnx", "dense" or "sparse" but found "${update}"`);
  }
  const rows = {
    u: g.input("u", "float32", [b, d]),
    i: g.input("i", "float32", [b, d]),
    j: g.input("j", "float32", [b, d]),
  };
  const step = await compileTrainStep(bprmfRowLoss(rows, w, loss), store, {
    ...runtime,
    params: [],
    wrt: [rows.u, rows.i, rows.j],
  });
  const engine = options.engine ?? await createSparseEngine({ threads: 1 });
  const table = (name: string, n: number) => ({
    name,
    rows: n,
    dim: d,
    init: store.get(name)!.data,
  });
  const opt = createTableAdam(engine, [
    table(USERS, options.nUsers),
    table(ITEMS, options.nItems + 1),
  ], {
    lr: options.lr,
    rows: update,
  });
  const feeds = {
    u: new Float32Array(b * d),
    i: new Float32Array(b * d),
    j: new Float32Array(b * d),
  };
  // ONNX Runtime sums a row's gradients from the positives and from the
  // negatives apart, then adds the two; summing the negatives' here first
  // keeps the dense update equal to the one-session step to the last bit.
  const negGrad = new Float32Array((options.nItems + 1) * d);
  const negRows = new Int32Array(b), seen = new Int32Array(options.nItems + 1);
  let mark = 0;
  return async (users, pos, neg, weights) => {
    opt.syncStore(store);
    const ut = opt.values(USERS), it = opt.values(ITEMS);
    engine.gatherRows(ut, users, feeds.u);
    engine.gatherRows(it, pos, feeds.i);
    engine.gatherRows(it, neg, feeds.j);
    const { loss, grads } = await step.run({ ...feeds, weights });
    opt.addRows(USERS, users, grads.u.data as Float32Array);
    opt.addRows(ITEMS, pos, grads.i.data as Float32Array);
    const gj = grads.j.data as Float32Array, gi = opt.grad(ITEMS);
    mark++;
    let count = 0;
    for (let k = 0; k < b; k++) {
      const r = neg[k];
      if (seen[r] !== mark) seen[r] = mark, negRows[count++] = r;
      for (let c = 0; c < d; c++) negGrad[r * d + c] += gj[k * d + c];
    }
    for (let k = 0; k < count; k++) {
      const o = negRows[k] * d;
      for (let c = 0; c < d; c++) gi[o + c] += negGrad[o + c];
      negGrad.fill(0, o, o + d);
    }
    opt.touch(ITEMS, negRows, count);
    await opt.step();
    return loss;
  };
}

/** RecBole's xavier-normal init; its tables have one padding row each. */
function xavierNormalStd(count: number, d: number): number {
  return Math.sqrt(2 / (count + 1 + d));
}

async function scorerOf(
  store: ParamStore,
  split: Split,
  d: number,
  rt: Pick<FitContext, "threads" | "device">,
) {
  const es = await createEmbeddingScorer(store.get(ITEMS)!.data, {
    dim: d,
    threads: rt.threads,
    device: rt.device,
  });
  const scorer = vectorScorer(
    es,
    ({ userRows }) => gatherRows(store.get(USERS)!.data, userRows, d),
  );
  return {
    scorer,
    /** Re-reads the item table (after training steps replaced it). */
    refresh: () => es.setItems(store.get(ITEMS)!.data),
    save: (dir: string, config: BprMfConfig) =>
      saveCheckpoint(dir, store, embeddingCheckpointConfig("bprmf", config, split)),
  };
}

/** BPR-MF: free embeddings, dot product, BPR loss. */
export const bprmf = definePlugin({
  name: "bprmf",
  description: "BPR-MF: free user and item embeddings, dot product, BPR loss",
  tasks: ["direct", "sequential"],
  keys: BPRMF_KEYS,
  presets: {
    tiny: { dim: 16, batchSize: 256, epochs: 15, patience: 4, lr: 1e-2 },
    cpu: {},
    paper: {},
  },
  requires: ["train-interactions"],
  async fit(ctx: FitContext, config: BprMfConfig): Promise<Scorer> {
    const { split } = ctx;
    const d = config.dim, b = config.batchSize;
    const g = new Graph();
    g.param(USERS, [split.nUsers, d], { init: normal({ std: xavierNormalStd(split.nUsers, d) }) });
    g.param(ITEMS, [split.nItems + 1, d], {
      init: normal({ std: xavierNormalStd(split.nItems, d) }),
    });
    const store = new ParamStore();
    store.init(g, ctx.rng.fork("init"));
    const engine = await createSparseEngine({ threads: ctx.threads });
    try {
      const step = await createBprMfTrainer(store, {
        nUsers: split.nUsers,
        nItems: split.nItems,
        dim: d,
        lr: config.lr,
        batchSize: b,
        reg: config.reg,
        regPow: config.regPow,
        threads: ctx.threads,
        device: ctx.device,
        update: adamRows(config.adamRows),
        engine,
      });
      const view = await scorerOf(store, split, d, ctx);
      const result = await fitPairwise(ctx, {
        label: "bprmf",
        batchSize: b,
        maxEpochs: config.epochs,
        patience: config.patience,
        validProtocol: config.validProtocol,
        validUsers: config.validUsers,
        step: (batch, weights) => step(batch.users, batch.positives, batch.negatives, weights),
        scorer: () => {
          view.refresh();
          return Promise.resolve(view.scorer);
        },
        snapshot: () => [store.get(USERS)!.data.slice(), store.get(ITEMS)!.data.slice()],
        restore: ([u, i]) => {
          store.set(USERS, u, [split.nUsers, d]);
          store.set(ITEMS, i, [split.nItems + 1, d]);
        },
      });
      view.refresh();
      return { ...view.scorer, info: fitInfo(result), save: (dir) => view.save(dir, config) };
    } finally {
      engine.close();
    }
  },
  async load(ctx: FitContext, config: BprMfConfig, dir: string): Promise<Scorer> {
    const { split } = ctx;
    const { store, config: saved } = await loadCheckpoint(dir);
    checkConfigMatches(dir, saved, { ...config, n_users: split.nUsers, n_items: split.nItems }, [
      "dim",
      "n_users",
      "n_items",
    ]);
    const view = await scorerOf(store, split, config.dim, ctx);
    return { ...view.scorer, info: { loaded_from: dir }, save: (dir) => view.save(dir, config) };
  },
});

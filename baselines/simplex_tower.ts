/**
 * The SimpleX model on the engine, apart from its plugin (`simplex.ts`):
 * the user tower `g * e_u + (1 - g) * W * mean(history)`, the cosine
 * contrastive loss over the rows a batch touches, and the split training
 * step (gather rows in JS, loss and row gradients in one session, Adam on
 * the tables in the engine's kernels). Kept apart so that the plugin file reads as
 * config -> fit -> score.
 *
 * @module
 */
import {
  adam,
  compileTrainStep,
  createOnnxTableAdam,
  createSparseEngine,
  createTableAdam,
  type Device,
  dropout,
  Graph,
  linear,
  normal,
  ParamStore,
  type Rng,
  type SparseEngine,
  type Tensor,
} from "../kernels/mod.ts";
import { cclLoss, type CclOptions, embLoss } from "../models/rec_losses.ts";

/** Param names, as RecBole names them. */
export const USERS = "user_emb.weight";
export const ITEMS = "item_emb.weight";

/** The tower's inputs: user rows `[B]`, history item ids `[B, H]` (0 = padding) and their mask. */
export interface TowerInputs {
  users: Tensor;
  history: Tensor;
  mask: Tensor;
}

/** Options of {@linkcode userTower}. */
export interface TowerOptions {
  nUsers: number;
  nItems: number;
  dim: number;
  gamma: number;
  /** Dropout on the user vector; 0 or absent at scoring time. */
  dropout?: number;
  /** Param dtype (float64 for gradient checks). @default "float32" */
  dtype?: "float32" | "float64";
}

/** xavier-normal as RecBole: std = sqrt(2 / (fan_in + fan_out)), tables with a padding row. */
function tableInit(rows: number, d: number) {
  return normal({ std: Math.sqrt(2 / (rows + 1 + d)) });
}

/** `g * e_u + (1 - g) * W mean` with `W` = `ui_map.weight`, then dropout while training. */
export function combine(ue: Tensor, mean: Tensor, options: TowerOptions): Tensor {
  const g = ue.graph;
  const mapped = linear(mean, "ui_map", {
    outFeatures: options.dim,
    bias: false,
    init: normal({ std: Math.sqrt(1 / options.dim) }),
  });
  const v = g.add(g.mul(ue, options.gamma), g.mul(mapped, 1 - options.gamma));
  return options.dropout ? dropout(v, "user.dropout", { p: options.dropout }) : v;
}

/**
 * The SimpleX user vector from ids, all in one graph (scoring, and the
 * reference of the split step in tests); declares `user_emb`, `item_emb`
 * and `ui_map`.
 */
export function userTower(x: TowerInputs, options: TowerOptions) {
  const g = x.users.graph;
  const d = options.dim, dtype = options.dtype ?? "float32";
  const userTable = g.param(USERS, [options.nUsers, d], {
    init: tableInit(options.nUsers, d),
    dtype,
  });
  const itemTable = g.param(ITEMS, [options.nItems + 1, d], {
    init: tableInit(options.nItems, d),
    dtype,
  });
  const ue = g.gather(userTable, x.users);
  // Masking the padded rows keeps item 0 at zero and out of the gradient.
  const he = g.mul(g.gather(itemTable, x.history), g.unsqueeze(x.mask, [2]));
  const len = g.reduceSum(x.mask, [1], true);
  const mean = g.div(g.reduceSum(he, [1], false), g.add(len, 1e-10));
  return { v: combine(ue, mean, options), ue, he, itemTable };
}

/** Options of {@linkcode simplexRowLoss}. */
export interface SimplexLossOptions extends CclOptions {
  reg: number;
  regPow: boolean;
}

/** A batch's rows, gathered outside the session (the split step's boundary). */
export interface SimplexRows {
  /** User rows `[B, d]`, positive rows `[B, d]`, negative rows `[B, K, d]`. */
  ue: Tensor;
  pe: Tensor;
  ne: Tensor;
  /** Masked mean of each sample's history rows `[B, d]`. */
  hmean: Tensor;
  /** Masked sum of the squared norms of each sample's history rows `[B]` (for `EmbLoss`). */
  hsq?: Tensor;
}

/**
 * SimpleX's loss on gathered rows: CCL of the combined user vector plus
 * RecBole's `EmbLoss` over the user, positive, history and negative blocks
 * (the history block's norm from its per-sample squared norms `hsq`).
 */
export function simplexRowLoss(
  rows: SimplexRows,
  weights: Tensor,
  tower: TowerOptions,
  options: SimplexLossOptions,
): Tensor {
  const g = weights.graph;
  const ccl = cclLoss(combine(rows.ue, rows.hmean, tower), rows.pe, rows.ne, weights, options);
  if (options.reg === 0 || !rows.hsq) return ccl;
  const sq = g.reduceSum(g.mul(rows.hsq, weights), undefined, false);
  const history = options.regPow ? g.mul(sq, 0.5) : g.sqrt(sq);
  const penalty = g.add(
    embLoss([rows.ue, rows.pe, rows.ne], weights, { pow: options.regPow }),
    g.div(history, g.reduceSum(weights, undefined, false)),
  );
  return g.add(ccl, g.mul(penalty, options.reg));
}

/** Options of {@linkcode createSimplexTrainer}. */
export interface SimplexTrainerOptions extends TowerOptions, SimplexLossOptions {
  batchSize: number;
  negatives: number;
  historyLen: number;
  lr: number;
  /** ONNX Runtime intra-op threads. @default 1 */
  threads?: number;
  /** Execution provider of the step and update. @default "cpu" */
  device?: Device;
  /** Draws the dropout masks. */
  rng?: Rng;
  /**
   * Adam on the two tables: `dense` (every row, as RecBole's
   * `torch.optim.Adam`) or `sparse` (the rows the batch touched) in the
   * engine's kernels, or `onnx`: dense, as an ONNX Runtime update session
   * (the path before the kernels took the update; same numbers as `dense`).
   * @default "dense"
   */
  update?: "onnx" | "dense" | "sparse";
  /** The kernels' engine (heap and threads); a one-thread engine of its own when absent. */
  engine?: SparseEngine;
}

/** One SimpleX step on user rows, items and histories; returns the loss. */
export type SimplexStep = (
  batch: {
    users: Int32Array;
    pos: Int32Array;
    neg: Int32Array;
    history: Int32Array;
    mask: Float32Array;
  },
  weights: Float32Array,
) => Promise<number>;

/**
 * Compiles SimpleX's step split at the rows of the two tables: JS gathers
 * the batch's rows (and each history's masked mean and squared norms), one
 * session returns the loss, its gradients for those rows and updates
 * `ui_map`, JS scatters the row gradients into the tables' gradients, and
 * the engine's kernels apply Adam to both tables in place
 * (`createTableAdam`). Gathering `B x H` history
 * rows inside ONNX Runtime cost ~0.8 s per Beauty step: its gradient is a
 * sequential ScatterElements over `B x H x d` expanded indices.
 */
export async function createSimplexTrainer(
  store: ParamStore,
  options: SimplexTrainerOptions,
): Promise<SimplexStep> {
  const { batchSize: b, negatives: k, historyLen: h, dim: d } = options;
  const g = new Graph();
  const rows: SimplexRows = {
    ue: g.input("ue", "float32", [b, d]),
    pe: g.input("pe", "float32", [b, d]),
    ne: g.input("ne", "float32", [b, k, d]),
    hmean: g.input("hmean", "float32", [b, d]),
    hsq: options.reg === 0 ? undefined : g.input("hsq", "float32", [b]),
  };
  const loss = simplexRowLoss(rows, g.input("weights", "float32", [b]), options, options);
  const wrt = [rows.ue, rows.pe, rows.ne, rows.hmean, ...(rows.hsq ? [rows.hsq] : [])];
  const runtime = { intraOpThreads: options.threads ?? 1, device: options.device };
  const step = await compileTrainStep(loss, store, {
    ...runtime,
    optimizer: adam({ lr: options.lr }),
    params: [g.byName("ui_map.weight")!],
    wrt,
    rng: options.rng,
  });
  const update = options.update ?? "dense";
  const tables = [{ name: USERS, rows: options.nUsers }, { name: ITEMS, rows: options.nItems + 1 }]
    .map((t) => ({ ...t, dim: d }));
  const engine = options.engine ?? await createSparseEngine({ threads: 1 });
  const opt = update === "onnx"
    ? await createOnnxTableAdam(store, tables, { lr: options.lr, ...runtime })
    : createTableAdam(engine, tables.map((t) => ({ ...t, init: store.get(t.name)!.data })), {
      lr: options.lr,
      rows: update,
    });
  const gather = engine.gatherRows.bind(engine);
  const feeds: Record<string, Float32Array> = {
    ue: new Float32Array(b * d),
    pe: new Float32Array(b * d),
    ne: new Float32Array(b * k * d),
    hmean: new Float32Array(b * d),
    hsq: new Float32Array(b),
  };
  const len = new Float32Array(b);
  const touched = new Int32Array(b * h);
  const add = (to: Float32Array, row: number, from: Float32Array, at: number, scale: number) => {
    for (let j = 0; j < d; j++) to[row * d + j] += scale * from[at * d + j];
  };
  return async (batch, weights) => {
    opt.syncStore(store);
    const users = opt.values(USERS), items = opt.values(ITEMS);
    const { hmean, hsq } = feeds;
    hmean.fill(0);
    hsq.fill(0);
    gather(users, batch.users, feeds.ue);
    gather(items, batch.pos, feeds.pe);
    gather(items, batch.neg, feeds.ne);
    for (let i = 0; i < b; i++) {
      let n = 0;
      for (let t = i * h; t < (i + 1) * h; t++) {
        const m = batch.mask[t], o = batch.history[t] * d;
        if (m === 0) continue;
        n += m;
        let sq = 0;
        for (let j = 0; j < d; j++) {
          hmean[i * d + j] += m * items[o + j];
          sq += items[o + j] * items[o + j];
        }
        hsq[i] += m * sq;
      }
      len[i] = n + 1e-10; // RecBole divides by (length + 1e-10)
      for (let j = 0; j < d; j++) hmean[i * d + j] /= len[i];
    }
    const { loss, grads } = await step.run({ ...feeds, weights });
    const gue = grads.ue.data as Float32Array, gpe = grads.pe.data as Float32Array;
    const gne = grads.ne.data as Float32Array, gmean = grads.hmean.data as Float32Array;
    const gsq = grads.hsq?.data as Float32Array | undefined;
    // One pass in sample order, as the order of float additions was before
    // the update moved: the dense update stays equal to the ONNX one.
    const gradUsers = opt.grad(USERS), gradItems = opt.grad(ITEMS);
    let seen = 0;
    for (let i = 0; i < b; i++) {
      add(gradUsers, batch.users[i], gue, i, 1);
      add(gradItems, batch.pos[i], gpe, i, 1);
      for (let j = 0; j < k; j++) add(gradItems, batch.neg[i * k + j], gne, i * k + j, 1);
      for (let t = i * h; t < (i + 1) * h; t++) {
        const m = batch.mask[t], item = batch.history[t];
        if (m === 0) continue;
        touched[seen++] = item;
        add(gradItems, item, gmean, i, m / len[i]);
        if (gsq) add(gradItems, item, items, item, 2 * m * gsq[i]);
      }
    }
    opt.touch(USERS, batch.users);
    opt.touch(ITEMS, batch.pos);
    opt.touch(ITEMS, batch.neg);
    opt.touch(ITEMS, touched, seen);
    await opt.step();
    return loss;
  };
}

/** Last `h` items of each row of `items` as `[rows, h]` ids (left-aligned, 0-padded) and mask. */
export function fillHistory(
  histories: (i: number) => Int32Array,
  n: number,
  h: number,
  ids: Int32Array,
  mask: Float32Array,
): void {
  ids.fill(0);
  mask.fill(0);
  for (let i = 0; i < n; i++) {
    const items = histories(i);
    const recent = items.subarray(Math.max(0, items.length - h));
    ids.set(recent, i * h);
    mask.fill(1, i * h, i * h + recent.length);
  }
}

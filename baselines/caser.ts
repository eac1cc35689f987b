/**
 * `caser`: Caser (Tang & Wang, WSDM 2018) as RecBole implements it: the last
 * `window` items (left-padded) as an image `[window, d]`, `nv` vertical
 * filters (a weighted sum over the window per filter) and `nh` horizontal
 * filters of every height 1..window spanning the embedding width
 * (`temporalConv` in `kernels/nn_seq.ts`), ReLU and max-pooling over time;
 * dropout, a dense layer with ReLU, the user embedding concatenated, a
 * second dense layer with ReLU, and cross-entropy over all items against the
 * item embeddings. Every position of a user's training sequence is a
 * sample (T = 1, as RecBole), plus RecBole's `RegLoss`: `reg` times the sum
 * of the L2 norms of the embedding tables and the dense and vertical
 * weights.
 *
 * @module
 */
import { fitInfo, PAIRWISE_FIT_KEYS } from "../harness/pairwise_fit.ts";
import { type DefaultsOf, definePlugin, type FitContext, type Scorer } from "../harness/plugin.ts";
import type { Split } from "../harness/types.ts";
import {
  adam,
  compileInference,
  compileTrainStep,
  dropout,
  Graph,
  linear,
  loadCheckpoint,
  normal,
  ParamStore,
  type Rng,
  row,
  temporalConv,
  type Tensor,
  xavier,
} from "../kernels/mod.ts";
import { checkConfigMatches } from "../models/embedding_checkpoint.ts";
import { fitSequence } from "../models/seq_fit.ts";
import { softmaxLoss } from "../models/seq_losses.ts";
import { bestEpochHooks, loaded, saver, sequenceScorer } from "../models/seq_model.ts";

/** Every key: RecBole's Caser settings, with the paper's window of 5 items. */
export const CASER_KEYS = {
  dim: { default: 64, doc: "embedding width d" },
  window: { default: 5, doc: "most recent items read (the paper's L)" },
  nv: { default: 8, doc: "vertical filters" },
  nh: { default: 16, doc: "horizontal filters per height 1..window" },
  dropout: { default: 0.4, doc: "dropout on the concatenated filter outputs" },
  reg: { default: 1e-4, doc: "weight of the L2 norms of the tables and dense weights (RegLoss)" },
  lr: { default: 1e-3, doc: "Adam learning rate" },
  batchSize: { default: 2048, doc: "positions (samples) per step" },
  ...PAIRWISE_FIT_KEYS,
};
type CaserConfig = DefaultsOf<typeof CASER_KEYS>;

const ITEMS = "item_embedding.weight";
const USERS = "user_embedding.weight";

/** Caser's output vectors `[P, d]` for user rows `[P]` and windows `[P, L]`. */
function encode(users: Tensor, windows: Tensor, split: Split, config: CaserConfig, p: number) {
  const g = users.graph;
  const [n, l] = windows.shape, d = config.dim;
  // RecBole draws embeddings from N(0, 1/d) (its std argument is 1/d).
  const embInit = normal({ std: 1 / d });
  const itemTable = g.param(ITEMS, [split.nItems + 1, d], { init: embInit });
  const userTable = g.param(USERS, [split.nUsers, d], { init: embInit });
  const e = g.gather(itemTable, windows);
  const wv = g.param("conv_v.weight", [config.nv, 1, l, 1], { init: xavier() });
  const bv = g.param("conv_v.bias", [config.nv, 1]);
  const vertical = g.reshape(g.add(g.matMul(g.reshape(wv, [config.nv, l]), e), bv), [
    n,
    config.nv * d,
  ]);
  const horizontal = Array.from({ length: l }, (_, k) => {
    const c = g.relu(temporalConv(e, `conv_h.${k}`, { kernel: k + 1, outChannels: config.nh }));
    return g.reduceMax(c, [1], false);
  });
  const features = dropout(g.concat([vertical, ...horizontal], 1), "dropout", {
    p,
    training: p > 0,
  });
  const z = g.relu(linear(features, "fc1", { outFeatures: d }));
  const out = g.relu(
    linear(g.concat([z, g.gather(userTable, users)], 1), "fc2", { outFeatures: d }),
  );
  const norm = (t: Tensor) => g.sqrt(g.reduceSum(g.mul(t, t), undefined, false));
  const weights = [userTable, itemTable, wv, g.byName("fc1.weight")!, g.byName("fc2.weight")!];
  const regLoss = weights.map(norm).reduce((a, b) => g.add(a, b));
  return { out, itemTable, regLoss };
}

/** Every training position as (user row, index in its training sequence), index >= 1. */
function positionsOf(split: Split) {
  const users: number[] = [], at: number[] = [];
  for (let u = 0; u < split.nUsers; u++) {
    const n = row(split.train, u).length;
    for (let t = 1; t < n; t++) {
      users.push(u);
      at.push(t);
    }
  }
  return { users: Int32Array.from(users), at: Int32Array.from(at) };
}

/** `out[i * l ..]` = the `l` items before index `t` of `items`, left-padded with 0. */
function fillWindow(items: Int32Array, t: number, l: number, out: Int32Array, i: number) {
  for (let k = 0; k < l; k++) {
    const j = t - l + k;
    out[i * l + k] = j >= 0 ? items[j] : 0;
  }
}

function inputs(g: Graph, n: number, l: number) {
  return { users: g.input("users", "int32", [n]), windows: g.input("windows", "int32", [n, l]) };
}

const SCORE_BLOCK = 256;

async function caserScorer(ctx: FitContext, store: ParamStore, config: CaserConfig) {
  const l = config.window, d = config.dim;
  const g = new Graph();
  const x = inputs(g, SCORE_BLOCK, l);
  const { out } = encode(x.users, x.windows, ctx.split, config, 0);
  const infer = await compileInference({ out }, store, {
    intraOpThreads: ctx.threads,
    device: ctx.device,
  });
  const users = new Int32Array(SCORE_BLOCK), windows = new Int32Array(SCORE_BLOCK * l);
  return sequenceScorer(ctx, {
    dim: d,
    items: () => store.get(ITEMS)!.data,
    userVectors: async ({ userRows, stage }) => {
      const vectors = new Float32Array(userRows.length * d);
      for (let s = 0; s < userRows.length; s += SCORE_BLOCK) {
        const n = Math.min(SCORE_BLOCK, userRows.length - s);
        users.fill(0).set(userRows.subarray(s, s + n));
        windows.fill(0);
        for (let i = 0; i < n; i++) {
          const h = ctx.history(userRows[s + i], stage);
          fillWindow(h, h.length, l, windows, i);
        }
        const v = (await infer.run({ users, windows })).out.data as Float32Array;
        vectors.set(v.subarray(0, n * d), s * d);
      }
      return vectors;
    },
  });
}

/** Caser with cross-entropy over all items. */
export const caser = definePlugin({
  name: "caser",
  description: "Caser: horizontal and vertical convolutions over the recent items, user embedding",
  tasks: ["direct", "sequential"],
  keys: CASER_KEYS,
  presets: {
    tiny: { dim: 32, nv: 4, nh: 8, batchSize: 256, epochs: 40, patience: 5, lr: 5e-3 },
    cpu: {},
    // The Caser paper's settings (its T = 3 targets and sampled negatives aside).
    paper: { nv: 4, dropout: 0.5, batchSize: 512 },
  },
  requires: ["train-sequences"],
  async fit(ctx: FitContext, config: CaserConfig): Promise<Scorer> {
    const { split } = ctx;
    const b = config.batchSize, l = config.window;
    const g = new Graph();
    const x = inputs(g, b, l);
    const { out, itemTable, regLoss } = encode(x.users, x.windows, split, config, config.dropout);
    const ce = softmaxLoss(
      g.matMul(out, g.transpose(itemTable)),
      g.input("targets", "int32", [b]),
      g.input("weights", "float32", [b]),
    );
    const loss = config.reg ? g.add(ce, g.mul(regLoss, config.reg)) : ce;
    const store = new ParamStore();
    store.init(g, ctx.rng.fork("init"));
    const step = await compileTrainStep(loss, store, {
      optimizer: adam({ lr: config.lr }),
      intraOpThreads: ctx.threads,
      device: ctx.device,
      rng: ctx.rng.fork("dropout"),
    });
    const all = positionsOf(split);
    const feeds = {
      users: new Int32Array(b),
      windows: new Int32Array(b * l),
      targets: new Int32Array(b),
      weights: new Float32Array(b),
    };
    const view = await caserScorer(ctx, store, config);
    const result = await fitSequence(ctx, {
      label: "caser",
      maxEpochs: config.epochs,
      patience: config.patience,
      validProtocol: config.validProtocol,
      validUsers: config.validUsers,
      batches: (rng: Rng) => {
        const order = rng.shuffle(Int32Array.from({ length: all.users.length }, (_, i) => i));
        return Array.from(
          { length: Math.ceil(order.length / b) },
          (_, k) => order.subarray(k * b, (k + 1) * b),
        );
      },
      step: async (batch) => {
        feeds.windows.fill(0);
        feeds.targets.fill(0);
        feeds.weights.fill(0);
        batch.forEach((p, i) => {
          const items = row(split.train, all.users[p]);
          feeds.users[i] = all.users[p];
          fillWindow(items, all.at[p], l, feeds.windows, i);
          feeds.targets[i] = items[all.at[p]];
          feeds.weights[i] = 1;
        });
        return { loss: (await step.run(feeds)).loss, positions: batch.length };
      },
      ...bestEpochHooks(store, view),
    });
    view.refresh();
    return { ...view.scorer, info: fitInfo(result), save: saver("caser", store, config, split) };
  },
  async load(ctx: FitContext, config: CaserConfig, dir: string): Promise<Scorer> {
    const { split } = ctx;
    const { store, config: saved } = await loadCheckpoint(dir);
    const sizes = { ...config, n_users: split.nUsers, n_items: split.nItems };
    checkConfigMatches(dir, saved, sizes, ["dim", "window", "nv", "nh", "n_users", "n_items"]);
    const view = await caserScorer(ctx, store, config);
    return loaded(view.scorer, dir, saver("caser", store, config, split));
  },
});

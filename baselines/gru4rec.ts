/**
 * `gru4rec`: GRU4Rec (Hidasi et al., ICLR 2016) as RecBole implements it for
 * next-item prediction: item embeddings (dropout), a one-layer GRU
 * (`kernels/nn_seq.ts`), a dense layer from the hidden state back to the
 * embedding width, and cross-entropy over all items against the same item
 * embeddings. Trained on every position of each user's training sequence:
 * the state after `items[..t]` predicts `items[t + 1]`, which is what
 * RecBole's prefix samples ask of the state at their last item. Users are
 * packed whole into rows (`models/seq_batches.ts`); the state restarts at
 * each user's first item.
 *
 * @module
 */
import { fitInfo, PAIRWISE_FIT_KEYS } from "../harness/pairwise_fit.ts";
import { type DefaultsOf, definePlugin, type FitContext, type Scorer } from "../harness/plugin.ts";
import type { Split } from "../harness/types.ts";
import {
  adam,
  compileTrainStep,
  dropout,
  Graph,
  gru,
  linear,
  loadCheckpoint,
  ParamStore,
  type Tensor,
  xavier,
} from "../kernels/mod.ts";
import { checkConfigMatches } from "../models/embedding_checkpoint.ts";
import {
  fillResets,
  fillSlots,
  type Layout,
  nextItemPairs,
  packLayouts,
  rowsFor,
  shuffledUsers,
} from "../models/seq_batches.ts";
import { fitSequence } from "../models/seq_fit.ts";
import { softmaxLoss } from "../models/seq_losses.ts";
import { bestEpochHooks, lastStateScorer, loaded, saver } from "../models/seq_model.ts";

/** Every key: RecBole's GRU4Rec settings. */
export const GRU4REC_KEYS = {
  dim: { default: 64, doc: "item embedding width" },
  hidden: { default: 128, doc: "GRU hidden width" },
  maxLen: { default: 50, doc: "most recent items of a sequence the model reads" },
  dropout: { default: 0.3, doc: "dropout on the item embeddings" },
  lr: { default: 1e-3, doc: "Adam learning rate" },
  batchSize: {
    default: 256,
    doc: "users per step, packed whole into rows (about RecBole's 2048 prefixes on Beauty)",
  },
  ...PAIRWISE_FIT_KEYS,
};
type Gru4recConfig = DefaultsOf<typeof GRU4REC_KEYS>;

const ITEMS = "item_emb.weight";
const SCORE_ROWS = 64;

/** Output vectors `[R * L, dim]` for packed `items` `[R, L]` with state `resets`. */
function encode(items: Tensor, resets: Tensor, nItems: number, config: Gru4recConfig, p: number) {
  const g = items.graph;
  const [r, l] = items.shape;
  const table = g.param(ITEMS, [nItems + 1, config.dim], { init: xavier() });
  const emb = dropout(g.gather(table, items), "emb.dropout", { p, training: p > 0 });
  const states = gru(emb, "gru_layers", { hidden: config.hidden, resets });
  const out = linear(g.reshape(states, [r * l, config.hidden]), "dense", {
    outFeatures: config.dim,
  });
  return { out, table };
}

function feedsOf(rows: number, len: number) {
  const items = new Int32Array(rows * len), resets = new Float32Array(rows * len);
  return (layout: Layout, tokens: (k: number) => ArrayLike<number>) => ({
    items: fillSlots(layout, tokens, items),
    resets: fillResets(layout, resets),
  });
}

function inputs(g: Graph, rows: number, len: number) {
  return {
    items: g.input("items", "int32", [rows, len]),
    resets: g.input("resets", "float32", [rows, len]),
  };
}

function gru4recScorer(ctx: FitContext, store: ParamStore, config: Gru4recConfig) {
  const len = config.maxLen;
  const x = inputs(new Graph(), SCORE_ROWS, len);
  const { out } = encode(x.items, x.resets, ctx.split.nItems, config, 0);
  return lastStateScorer(ctx, store, {
    states: out,
    rows: SCORE_ROWS,
    len,
    dim: config.dim,
    itemsName: ITEMS,
    fill: feedsOf(SCORE_ROWS, len),
  });
}

function epochBatches(split: Split, config: Gru4recConfig, rows: number) {
  const len = config.maxLen;
  return (rng: Parameters<typeof shuffledUsers>[1]) => {
    const order = shuffledUsers(split.nUsers, rng);
    const tokens = (u: number) => nextItemPairs(split.train, u, len).inputs.length;
    return [...packLayouts(order, tokens, { rows, len, maxUsers: config.batchSize })];
  };
}

/** GRU4Rec with cross-entropy over all items. */
export const gru4rec = definePlugin({
  name: "gru4rec",
  description: "GRU4Rec: a GRU over the item sequence, cross-entropy over all items",
  tasks: ["direct", "sequential"],
  keys: GRU4REC_KEYS,
  presets: {
    tiny: { dim: 32, hidden: 32, maxLen: 20, batchSize: 64, epochs: 40, patience: 5, lr: 5e-3 },
    cpu: {},
    // GRU4Rec's paper uses 100 hidden units with its own session losses; RecBole's setting stands.
    paper: {},
  },
  requires: ["train-sequences"],
  async fit(ctx: FitContext, config: Gru4recConfig): Promise<Scorer> {
    const { split } = ctx;
    const len = config.maxLen;
    const pairs = (u: number) => nextItemPairs(split.train, u, len);
    let tokens = 0;
    for (let u = 0; u < split.nUsers; u++) tokens += pairs(u).inputs.length;
    const rows = rowsFor(config.batchSize, tokens / split.nUsers, len);
    const g = new Graph();
    const x = inputs(g, rows, len);
    const { out, table } = encode(x.items, x.resets, split.nItems, config, config.dropout);
    const targets = g.input("targets", "int32", [rows * len]);
    const weights = g.input("weights", "float32", [rows * len]);
    const loss = softmaxLoss(g.matMul(out, g.transpose(table)), targets, weights);
    const store = new ParamStore();
    store.init(g, ctx.rng.fork("init"));
    const step = await compileTrainStep(loss, store, {
      optimizer: adam({ lr: config.lr }),
      intraOpThreads: ctx.threads,
      device: ctx.device,
      rng: ctx.rng.fork("dropout"),
    });
    const fill = feedsOf(rows, len);
    const target = new Int32Array(rows * len), weight = new Float32Array(rows * len);
    const view = await gru4recScorer(ctx, store, config);
    const result = await fitSequence(ctx, {
      label: "gru4rec",
      maxEpochs: config.epochs,
      patience: config.patience,
      validProtocol: config.validProtocol,
      validUsers: config.validUsers,
      batches: epochBatches(split, config, rows),
      step: async (layout) => {
        fillSlots(layout, (k) => pairs(layout.users[k]).targets, target);
        for (let s = 0; s < target.length; s++) weight[s] = target[s] === 0 ? 0 : 1;
        const fed = fill(layout, (k) => pairs(layout.users[k]).inputs);
        const run = await step.run({ ...fed, targets: target, weights: weight });
        return { loss: run.loss, positions: layout.lengths.reduce((a, b) => a + b, 0) };
      },
      ...bestEpochHooks(store, view),
    });
    view.refresh();
    const info = { ...fitInfo(result), rows_per_batch: rows };
    return { ...view.scorer, info, save: saver("gru4rec", store, config, split) };
  },
  async load(ctx: FitContext, config: Gru4recConfig, dir: string): Promise<Scorer> {
    const { split } = ctx;
    const { store, config: saved } = await loadCheckpoint(dir);
    const sizes = { ...config, n_users: split.nUsers, n_items: split.nItems };
    checkConfigMatches(dir, saved, sizes, ["dim", "hidden", "maxLen", "n_items"]);
    const view = await gru4recScorer(ctx, store, config);
    return loaded(view.scorer, dir, saver("gru4rec", store, config, split));
  },
});

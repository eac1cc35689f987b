/**
 * `bert4rec`: BERT4Rec (Sun et al., CIKM 2019) as RecBole implements it: a
 * bidirectional post-norm transformer (`models/seq_transformer.ts`, layout
 * `post`, GELU) over item embeddings plus learned positions (layer norm,
 * then dropout), trained by cloze: a batch either masks each item of every
 * user's training sequence with probability `maskRatio`, or, with
 * probability `ftRatio`, only each sequence's last item (RecBole's
 * fine-tuning samples), and predicts the masked items with cross-entropy
 * over all items. Masked items are replaced by a mask token of their own
 * (`nItems + 1`). The head is RecBole's: dense, GELU, layer norm, then the
 * item table plus a per-item bias. To score, the mask token is appended to
 * the visible history and its state is the user vector.
 *
 * Attention sees both sides, but only within a user: the masks of the
 * packed rows (`models/seq_batches.ts`) keep users apart.
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
  gelu,
  Graph,
  layerNorm,
  linear,
  loadCheckpoint,
  normal,
  ParamStore,
  type Rng,
  row,
  type Tensor,
} from "../kernels/mod.ts";
import { checkConfigMatches } from "../models/embedding_checkpoint.ts";
import {
  attentionMask,
  fillPositions,
  fillSlots,
  type Layout,
  packLayouts,
  rowsFor,
  shuffledUsers,
} from "../models/seq_batches.ts";
import { fitSequence } from "../models/seq_fit.ts";
import { softmaxLoss } from "../models/seq_losses.ts";
import {
  bestEpochHooks,
  loaded,
  packedUserVectors,
  saver,
  sequenceScorer,
} from "../models/seq_model.ts";
import { transformerStack } from "../models/seq_transformer.ts";

/** Every key: RecBole's BERT4Rec settings. */
export const BERT4REC_KEYS = {
  dim: { default: 64, doc: "embedding and hidden width d" },
  blocks: { default: 2, doc: "transformer blocks" },
  heads: { default: 2, doc: "attention heads" },
  dFf: { default: 256, doc: "inner width of the GELU feed-forward" },
  maxLen: { default: 50, doc: "most recent items of a sequence the model reads" },
  dropout: { default: 0.2, doc: "dropout on hidden states and attention probabilities" },
  maskRatio: { default: 0.2, doc: "probability that an item is masked in a cloze batch" },
  ftRatio: { default: 0.5, doc: "probability that a batch masks only each sequence's last item" },
  initStd: {
    default: 0.02,
    doc: "std of the normal init of weights and embeddings (initializer_range)",
  },
  lr: { default: 1e-3, doc: "Adam learning rate" },
  batchSize: { default: 256, doc: "users per step, packed whole into rows of maxLen slots" },
  ...PAIRWISE_FIT_KEYS,
};
type Bert4recConfig = DefaultsOf<typeof BERT4REC_KEYS>;

const ITEMS = "item_emb.weight";
const SCORE_ROWS = 64;

interface Inputs {
  items: Tensor;
  positions: Tensor;
  mask: Tensor;
}

/** States `[R * L, d]`; declares the item table (`nItems + 2` rows: padding, items, mask). */
export function encode(x: Inputs, nItems: number, config: Bert4recConfig, training: boolean) {
  const g = x.items.graph;
  const [r, l] = x.items.shape, d = config.dim;
  const init = normal({ std: config.initStd });
  const items = g.param(ITEMS, [nItems + 2, d], { init });
  const positions = g.param("pos_emb.weight", [config.maxLen, d], { init });
  const p = training ? config.dropout : 0;
  const emb = layerNorm(
    g.add(g.gather(items, x.items), g.gather(positions, x.positions)),
    "emb_ln",
  );
  const h = transformerStack(
    dropout(emb, "emb.dropout", { p, training: p > 0 }),
    x.mask,
    "blocks",
    {
      layout: "post",
      blocks: config.blocks,
      heads: config.heads,
      dFf: config.dFf,
      dropout: p,
      attnDropout: p,
      eps: 1e-12,
      init,
    },
  );
  return { states: g.reshape(h, [r * l, d]), items };
}

/** RecBole's output transform of selected states `[P, d]`. */
function head(states: Tensor, config: Bert4recConfig): Tensor {
  const d = states.shape[1];
  const init = normal({ std: config.initStd });
  const dense = linear(states, "output_ffn", { outFeatures: d, init });
  return layerNorm(gelu(dense), "output_ln");
}

export function inputsOf(g: Graph, rows: number, len: number): Inputs {
  return {
    items: g.input("items", "int32", [rows, len]),
    positions: g.input("positions", "int32", [rows, len]),
    mask: g.input("mask", "float32", [rows, 1, len, len]),
  };
}

export function feedsOf(rows: number, len: number) {
  const items = new Int32Array(rows * len), positions = new Int32Array(rows * len);
  const mask = new Float32Array(rows * len * len);
  /** `tokens`: each user's tokens, or every slot's (already laid out). */
  return (layout: Layout, tokens: ((k: number) => ArrayLike<number>) | Int32Array) => {
    if (tokens instanceof Int32Array) items.set(tokens);
    else fillSlots(layout, tokens, items);
    fillPositions(layout, "fromStart", positions);
    attentionMask(layout, false, mask);
    return { items, positions, mask };
  };
}

/** The last `maxLen` items of user row `u`'s training sequence. */
const recent = (split: Split, u: number, len: number) => {
  const s = row(split.train, u);
  return s.subarray(Math.max(0, s.length - len));
};

/** The cloze batches of one epoch; `masked` slots hold the mask token, `targets` the item. */
function clozeBatches(split: Split, config: Bert4recConfig, rows: number, cap: number) {
  const len = config.maxLen, maskToken = split.nItems + 1;
  return (rng: Rng) => {
    const order = shuffledUsers(split.nUsers, rng);
    const packing = { rows, len, maxUsers: config.batchSize };
    return [...packLayouts(order, (u) => recent(split, u, len).length, packing)].map((layout) => {
      const tokens = fillSlots(
        layout,
        (k) => recent(split, layout.users[k], len),
        new Int32Array(rows * len),
      );
      const picked: number[] = [];
      if (rng.next() < config.ftRatio) {
        layout.users.forEach((_, k) => picked.push(layout.starts[k] + layout.lengths[k] - 1));
      } else {
        for (let s = 0; s < tokens.length; s++) {
          if (tokens[s] !== 0 && rng.next() < config.maskRatio) picked.push(s);
        }
      }
      // A batch holds at most `cap` masked items; the rest stay unmasked.
      const at = Int32Array.from(picked.slice(0, cap));
      const targets = new Int32Array(cap), weights = new Float32Array(cap);
      const slotsOut = new Int32Array(cap);
      at.forEach((s, i) => {
        targets[i] = tokens[s];
        weights[i] = 1;
        slotsOut[i] = s;
        tokens[s] = maskToken;
      });
      return { layout, tokens, targets, weights, slots: slotsOut, count: at.length };
    });
  };
}

async function bert4recScorer(ctx: FitContext, store: ParamStore, config: Bert4recConfig) {
  const len = config.maxLen, d = config.dim, n = ctx.split.nItems;
  const g = new Graph();
  const { states } = encode(inputsOf(g, SCORE_ROWS, len), n, config, false);
  const infer = await compileInference({ states: head(states, config) }, store, {
    intraOpThreads: ctx.threads,
    device: ctx.device,
  });
  const fill = feedsOf(SCORE_ROWS, len);
  // Scores are u . e_i + b_i: user vectors [u, 1] against item rows [e_i, b_i].
  const items = () => {
    const e = store.get(ITEMS)!.data, b = store.get("output_bias")!.data;
    const out = new Float32Array((n + 1) * (d + 1));
    for (let i = 0; i <= n; i++) {
      out.set(e.subarray(i * d, (i + 1) * d), i * (d + 1));
      out[i * (d + 1) + d] = b[i];
    }
    return out;
  };
  return sequenceScorer(ctx, {
    dim: d + 1,
    items,
    userVectors: async (request) => {
      const tokensOf = (i: number) => {
        const h = ctx.history(request.userRows[i], request.stage);
        const out = new Int32Array(Math.min(len, h.length + 1));
        out.set(h.subarray(h.length - (out.length - 1)));
        out[out.length - 1] = n + 1;
        return out;
      };
      const states = await packedUserVectors(request.userRows.length, {
        rows: SCORE_ROWS,
        len,
        dim: d,
        tokensOf,
        encode: async (layout, tokens) =>
          (await infer.run(fill(layout, tokens))).states.data as Float32Array,
      });
      const out = new Float32Array(request.userRows.length * (d + 1)).fill(1);
      for (let i = 0; i < request.userRows.length; i++) {
        out.set(states.subarray(i * d, (i + 1) * d), i * (d + 1));
      }
      return out;
    },
  });
}

/** BERT4Rec with cloze training over all items. */
export const bert4rec = definePlugin({
  name: "bert4rec",
  description: "BERT4Rec: bidirectional transformer trained by cloze, cross-entropy over items",
  tasks: ["direct", "sequential"],
  keys: BERT4REC_KEYS,
  presets: {
    // Cloze learns slowly from 600 users; a wider init and no last-item batches
    // (which the tiny data lets it memorise) get it past popularity in seconds.
    tiny: {
      dim: 32,
      dFf: 64,
      maxLen: 20,
      batchSize: 32,
      dropout: 0.1,
      ftRatio: 0,
      initStd: 0.1,
      epochs: 60,
      patience: 60,
      lr: 2e-3,
    },
    cpu: {},
    // The BERT4Rec paper's Amazon Beauty settings.
    paper: { maxLen: 50, maskRatio: 0.6, dropout: 0.1, lr: 1e-4 },
  },
  requires: ["train-sequences"],
  async fit(ctx: FitContext, config: Bert4recConfig): Promise<Scorer> {
    const { split } = ctx;
    const len = config.maxLen;
    let tokens = 0;
    for (let u = 0; u < split.nUsers; u++) tokens += recent(split, u, len).length;
    const rows = rowsFor(config.batchSize, tokens / split.nUsers, len);
    const cap = Math.max(config.batchSize, Math.ceil(1.25 * config.maskRatio * rows * len));
    const g = new Graph();
    const { states, items } = encode(inputsOf(g, rows, len), split.nItems, config, true);
    const at = g.input("slots", "int32", [cap]);
    const out = head(g.gather(states, at), config);
    const table = g.slice(items, [0], [split.nItems + 1], [0]);
    const bias = g.param("output_bias", [split.nItems + 1]);
    const logits = g.add(g.matMul(out, g.transpose(table)), bias);
    const loss = softmaxLoss(
      logits,
      g.input("targets", "int32", [cap]),
      g.input("weights", "float32", [cap]),
    );
    const store = new ParamStore();
    store.init(g, ctx.rng.fork("init"));
    const step = await compileTrainStep(loss, store, {
      optimizer: adam({ lr: config.lr }),
      intraOpThreads: ctx.threads,
      device: ctx.device,
      rng: ctx.rng.fork("dropout"),
    });
    const fill = feedsOf(rows, len);
    const view = await bert4recScorer(ctx, store, config);
    const result = await fitSequence(ctx, {
      label: "bert4rec",
      maxEpochs: config.epochs,
      patience: config.patience,
      validProtocol: config.validProtocol,
      validUsers: config.validUsers,
      batches: clozeBatches(split, config, rows, cap),
      step: async (b) => {
        const fed = fill(b.layout, b.tokens);
        const run = await step.run({
          ...fed,
          slots: b.slots,
          targets: b.targets,
          weights: b.weights,
        });
        return { loss: run.loss, positions: b.count };
      },
      ...bestEpochHooks(store, view),
    });
    view.refresh();
    const info = { ...fitInfo(result), rows_per_batch: rows, masked_per_batch: cap };
    return { ...view.scorer, info, save: saver("bert4rec", store, config, split) };
  },
  async load(ctx: FitContext, config: Bert4recConfig, dir: string): Promise<Scorer> {
    const { split } = ctx;
    const { store, config: saved } = await loadCheckpoint(dir);
    const sizes = { ...config, n_users: split.nUsers, n_items: split.nItems };
    checkConfigMatches(dir, saved, sizes, ["dim", "blocks", "heads", "dFf", "maxLen", "n_items"]);
    const view = await bert4recScorer(ctx, store, config);
    return loaded(view.scorer, dir, saver("bert4rec", store, config, split));
  },
});

/**
 * The SASRec model on the engine, apart from its plugin (`sasrec.ts`): the
 * encoder over packed rows, the compiled train step with its epoch of
 * batches (used by the plugin and by `sasrec_bench.ts`), and the scorer.
 *
 * @module
 */
import type { FitContext } from "../harness/plugin.ts";
import { TrainMembership } from "../harness/sampling.ts";
import type { Split } from "../harness/types.ts";
import {
  adam,
  compileTrainStep,
  type Device,
  dropout,
  Graph,
  type ParamStore,
  type Rng,
  type Tensor,
  xavier,
} from "../kernels/mod.ts";
import {
  attentionMask,
  fillPositions,
  fillSlots,
  type Layout,
  nextItemPairs,
  packLayouts,
  rowsFor,
  shuffledUsers,
  slots,
} from "../models/seq_batches.ts";
import type { StepLoss } from "../models/seq_fit.ts";
import { sampledBceLoss, softmaxLoss } from "../models/seq_losses.ts";
import { lastStateScorer } from "../models/seq_model.ts";
import { transformerStack } from "../models/seq_transformer.ts";

/** What the model reads of the plugin's config. */
export interface SasrecOptions {
  readonly loss: string;
  readonly dim: number;
  readonly blocks: number;
  readonly heads: number;
  readonly dFf: number;
  readonly maxLen: number;
  readonly dropout: number;
  readonly lr: number;
  readonly batchSize: number;
}

/** Param name of the item table (input and output). */
export const ITEMS = "item_emb.weight";
const POSITIONS = "pos_emb.weight";
/** Rows of the scoring session. */
const SCORE_ROWS = 64;

/** The inputs of one packed batch. */
export interface EncoderInputs {
  items: Tensor;
  positions: Tensor;
  mask: Tensor;
}

/**
 * SASRec's states `[R * L, d]` for packed `items` `[R, L]`; declares the
 * item table (`nItems + 1` rows, row 0 = padding), positions and blocks.
 */
export function sasrecEncoder(
  x: EncoderInputs,
  nItems: number,
  options: SasrecOptions,
  training: boolean,
): { states: Tensor; items: Tensor } {
  const g = x.items.graph;
  const [r, l] = x.items.shape, d = options.dim;
  const init = xavier();
  const items = g.param(ITEMS, [nItems + 1, d], { init });
  const positions = g.param(POSITIONS, [options.maxLen, d], { init });
  const p = training ? options.dropout : 0;
  const scaled = g.mul(g.gather(items, x.items), Math.sqrt(d));
  const emb = dropout(g.add(scaled, g.gather(positions, x.positions)), "emb.dropout", {
    p,
    training: p > 0,
  });
  const h = transformerStack(emb, x.mask, "blocks", {
    layout: "sasrec",
    blocks: options.blocks,
    heads: options.heads,
    dFf: options.dFf,
    dropout: p,
    attnDropout: p,
    eps: 1e-8,
    init,
  });
  return { states: g.reshape(h, [r * l, d]), items };
}

/** Declares the inputs of a packed batch of `rows x len` slots. */
export function encoderInputs(g: Graph, rows: number, len: number): EncoderInputs {
  return {
    items: g.input("items", "int32", [rows, len]),
    positions: g.input("positions", "int32", [rows, len]),
    mask: g.input("mask", "float32", [rows, 1, len, len]),
  };
}

/** Host buffers of one packed batch, reused: causal masks, positions counted from the end. */
export function encoderFeeds(rows: number, len: number) {
  const items = new Int32Array(rows * len), positions = new Int32Array(rows * len);
  const mask = new Float32Array(rows * len * len);
  return {
    fill(layout: Layout, tokens: (k: number) => ArrayLike<number>) {
      fillSlots(layout, tokens, items);
      fillPositions(layout, "fromEnd", positions);
      attentionMask(layout, true, mask);
      return { items, positions, mask };
    },
  };
}

/** One batch of an epoch: where users sit, and the negatives of `loss=bce`. */
export interface SasrecBatch {
  readonly layout: Layout;
  readonly negatives?: Int32Array;
}

/** A compiled train step over a split's training sequences. */
export interface SasrecTrainer {
  /** Rows of every batch. */
  readonly rows: number;
  /** One epoch's batches, drawn with `rng`. */
  batches(rng: Rng): SasrecBatch[];
  /** The step's feeds for a batch; the arrays are reused by the next call. */
  feeds(batch: SasrecBatch): Record<string, Int32Array | Float32Array>;
  step(batch: SasrecBatch): Promise<StepLoss>;
}

/** Runtime options of {@linkcode createSasrecTrainer}. */
export interface SasrecTrainerRuntime {
  readonly threads: number;
  readonly device?: Device;
  /** Draws the first params. */
  readonly init: Rng;
  /** Draws the dropout masks. */
  readonly dropout: Rng;
}

/**
 * Declares the params in `store`, compiles the step (Adam, betas 0.9 and
 * 0.98) and returns it with its batches. Rows per batch follow from
 * `batchSize` and the mean number of training positions per user.
 */
export async function createSasrecTrainer(
  split: Split,
  store: ParamStore,
  options: SasrecOptions,
  runtime: SasrecTrainerRuntime,
): Promise<SasrecTrainer> {
  const len = options.maxLen;
  const pairs = (u: number) => nextItemPairs(split.train, u, len);
  let tokens = 0;
  for (let u = 0; u < split.nUsers; u++) tokens += pairs(u).inputs.length;
  const rows = rowsFor(options.batchSize, tokens / split.nUsers, len);
  const g = new Graph();
  const { states, items } = sasrecEncoder(encoderInputs(g, rows, len), split.nItems, options, true);
  const targets = g.input("targets", "int32", [rows * len]);
  const weights = g.input("weights", "float32", [rows * len]);
  let loss: Tensor;
  if (options.loss === "ce") {
    loss = softmaxLoss(g.matMul(states, g.transpose(items)), targets, weights);
  } else {
    const negatives = g.input("negatives", "int32", [rows * len]);
    const score = (ids: Tensor) => g.reduceSum(g.mul(states, g.gather(items, ids)), [-1], false);
    loss = sampledBceLoss(score(targets), score(negatives), weights);
  }
  store.init(g, runtime.init);
  store.get(ITEMS)!.data.fill(0, 0, options.dim); // the padding item starts at zero, as the paper's
  const step = await compileTrainStep(loss, store, {
    optimizer: adam({ lr: options.lr, beta2: 0.98 }),
    intraOpThreads: runtime.threads,
    device: runtime.device,
    rng: runtime.dropout,
  });
  const packed = encoderFeeds(rows, len);
  const target = new Int32Array(rows * len), weight = new Float32Array(rows * len);
  const feeds = ({ layout, negatives }: SasrecBatch) => {
    fillSlots(layout, (k) => pairs(layout.users[k]).targets, target);
    for (let s = 0; s < target.length; s++) weight[s] = target[s] === 0 ? 0 : 1;
    const fed = {
      ...packed.fill(layout, (k) => pairs(layout.users[k]).inputs),
      targets: target,
      weights: weight,
    };
    return negatives ? { ...fed, negatives } : fed;
  };
  const membership = options.loss === "bce" ? new TrainMembership(split.train) : undefined;
  return {
    rows,
    batches(rng) {
      const order = shuffledUsers(split.nUsers, rng);
      const packing = { rows, len, maxUsers: options.batchSize };
      return [...packLayouts(order, (u) => pairs(u).inputs.length, packing)].map((layout) => {
        if (!membership) return { layout };
        const negatives = new Int32Array(slots(layout));
        layout.users.forEach((u, k) => {
          for (let i = 0; i < layout.lengths[k]; i++) {
            let item = rng.int(split.nItems) + 1;
            while (membership.has(u, item)) item = rng.int(split.nItems) + 1;
            negatives[layout.starts[k] + i] = item;
          }
        });
        return { layout, negatives };
      });
    },
    feeds,
    async step(batch) {
      const { loss } = await step.run(feeds(batch));
      return { loss, positions: batch.layout.lengths.reduce((a, b) => a + b, 0) };
    },
  };
}

/** The scorer: states at each user's last visible item, dotted with the item table. */
export function sasrecScorer(ctx: FitContext, store: ParamStore, options: SasrecOptions) {
  const len = options.maxLen;
  const x = encoderInputs(new Graph(), SCORE_ROWS, len);
  const { states } = sasrecEncoder(x, ctx.split.nItems, options, false);
  const feeds = encoderFeeds(SCORE_ROWS, len);
  return lastStateScorer(ctx, store, {
    states,
    rows: SCORE_ROWS,
    len,
    dim: options.dim,
    itemsName: ITEMS,
    fill: (layout, tokens) => feeds.fill(layout, tokens),
  });
}

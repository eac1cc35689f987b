/**
 * `sasrec`: SASRec (Kang & McAuley, ICDM 2018), as the paper's code builds
 * it: item embeddings scaled by `sqrt(d)` plus learned positions (the most
 * recent item at position `maxLen - 1`), dropout, `blocks` causal
 * self-attention blocks (`models/seq_transformer.ts`, layout `sasrec`), a
 * final layer norm, and scores = the last state dotted with the same item
 * embeddings. Trained on every position of each user's training sequence
 * (inputs `items[:-3]`, next items `items[1:-2]`, the last `maxLen`), with
 *
 * - `loss=ce`: cross-entropy over all items (as RecBole and the reruns that
 *   find SASRec stronger than the LLM-based rows), or
 * - `loss=bce`: binary cross-entropy against one uniform negative per
 *   position, drawn from items the user never trained on (the paper's loss).
 *
 * Users are packed whole into rows (`models/seq_batches.ts`), which
 * computes exactly what one left-padded row per user would. Adam with
 * betas (0.9, 0.98), as the paper's code. Scoring runs the history the stage
 * may see (`items[:-2]` at validation, `items[:-1]` at test).
 *
 * @module
 */
import { fitInfo, PAIRWISE_FIT_KEYS } from "../harness/pairwise_fit.ts";
import { type DefaultsOf, definePlugin, type FitContext, type Scorer } from "../harness/plugin.ts";
import { loadCheckpoint, ParamStore } from "../kernels/mod.ts";
import { checkConfigMatches } from "../models/embedding_checkpoint.ts";
import { fitSequence } from "../models/seq_fit.ts";
import { bestEpochHooks, loaded, saver } from "../models/seq_model.ts";
import { createSasrecTrainer, sasrecScorer } from "./sasrec_model.ts";

/** Every key: the paper's settings (Amazon Beauty), with d 64 as RecBole. */
export const SASREC_KEYS = {
  loss: {
    default: "ce",
    doc: "ce: cross-entropy over all items; bce: one sampled negative per position (the paper)",
    values: ["ce", "bce"],
    variant: 1,
  },
  dim: { default: 64, doc: "embedding and hidden width d" },
  blocks: { default: 2, doc: "self-attention blocks" },
  heads: { default: 1, doc: "attention heads" },
  dFf: { default: 64, doc: "inner width of the point-wise feed-forward (the paper: d)" },
  maxLen: { default: 50, doc: "most recent items of a sequence the model reads" },
  dropout: {
    default: 0.5,
    doc: "dropout on embeddings, attention probabilities and feed-forward layers",
  },
  lr: { default: 1e-3, doc: "Adam learning rate (betas 0.9, 0.98, as the paper's code)" },
  batchSize: { default: 128, doc: "users per step, packed whole into rows of maxLen slots" },
  ...PAIRWISE_FIT_KEYS,
};
type SasrecConfig = DefaultsOf<typeof SASREC_KEYS>;

function checkConfig(config: SasrecConfig): void {
  if (config.loss !== "ce" && config.loss !== "bce") {
    throw new RangeError(`Expected sasrec.loss "ce" or "bce" but found "${config.loss}"`);
  }
  if (config.dim % config.heads !== 0) {
    throw new RangeError(
      `Expected sasrec.dim (${config.dim}) to be divisible by heads (${config.heads})`,
    );
  }
}

/** SASRec with cross-entropy over all items or the paper's sampled BCE. */
export const sasrec = definePlugin({
  name: "sasrec",
  description: "SASRec: causal self-attention over the item sequence, next-item loss",
  tasks: ["direct", "sequential"],
  keys: SASREC_KEYS,
  presets: {
    tiny: {
      dim: 32,
      dFf: 32,
      maxLen: 20,
      batchSize: 64,
      dropout: 0.2,
      epochs: 40,
      patience: 5,
      lr: 5e-3,
    },
    cpu: {},
    // The paper's hidden width on the Amazon data.
    paper: { dim: 50, dFf: 50 },
  },
  requires: ["train-sequences"],
  async fit(ctx: FitContext, config: SasrecConfig): Promise<Scorer> {
    checkConfig(config);
    const { split } = ctx;
    const store = new ParamStore();
    const trainer = await createSasrecTrainer(split, store, config, {
      threads: ctx.threads,
      device: ctx.device,
      init: ctx.rng.fork("init"),
      dropout: ctx.rng.fork("dropout"),
    });
    const view = await sasrecScorer(ctx, store, config);
    const result = await fitSequence(ctx, {
      label: "sasrec",
      maxEpochs: config.epochs,
      patience: config.patience,
      validProtocol: config.validProtocol,
      validUsers: config.validUsers,
      batches: (rng) => trainer.batches(rng),
      step: (batch) => trainer.step(batch),
      ...bestEpochHooks(store, view),
    });
    view.refresh();
    const info = { ...fitInfo(result), rows_per_batch: trainer.rows };
    return { ...view.scorer, info, save: saver("sasrec", store, config, split) };
  },
  async load(ctx: FitContext, config: SasrecConfig, dir: string): Promise<Scorer> {
    checkConfig(config);
    const { split } = ctx;
    const { store, config: saved } = await loadCheckpoint(dir);
    checkConfigMatches(dir, saved, { ...config, n_users: split.nUsers, n_items: split.nItems }, [
      "dim",
      "blocks",
      "heads",
      "dFf",
      "maxLen",
      "n_items",
    ]);
    const view = await sasrecScorer(ctx, store, config);
    return loaded(view.scorer, dir, saver("sasrec", store, config, split));
  },
});

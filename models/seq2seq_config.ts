/**
 * The config of the T5 plugins: keys and their defaults, presets and
 * documentation, which keys name a training run (its checkpoint key), and
 * which generator a fit draws from.
 *
 * @module
 */

import { type FitContext, hashedConfig, type Preset } from "../harness/plugin.ts";
import type { Rng } from "../kernels/mod.ts";
import { sha256TextSync } from "../harness/dataset_hash.ts";
import type { Task } from "../harness/types.ts";
import { T5_SIZES } from "./t5_config.ts";

/** Config keys shared by the T5 plugins; the defaults are the `cpu` preset. */
export const SEQ2SEQ_DEFAULTS = {
  ...T5_SIZES.cpu,
  dropout: 0.1,
  epochs: 10,
  batchSize: 64,
  lr: 1e-3,
  weightDecay: 0.01,
  patience: 5,
  /** `best` (early stopping on the validation loss) or `last` (every epoch, the last one's params). */
  keep: "best" as "best" | "last",
  /** Users whose validation samples (both tasks) give the early-stopping loss. */
  validUsers: 1000,
  /** Train on a seeded subset of users (0 = all). */
  trainUsers: 0,
  /**
   * Training samples per user, task and epoch; 0 = one per training
   * interaction of the user, which is the released POD/ELMRec epoch (its
   * batch count follows the number of training reviews).
   */
  samplesPerUser: 0,
  beams: 20,
  evalBatch: 16,
  decode: "free",
  /** `candidates` (the 100 in the direct prompt, as the papers) or `user` (the user alone). */
  directPrompt: "candidates" as "candidates" | "user",
  /** `both` (direct and sequential, as the papers) or `task` (only the cell's task). */
  trainTasks: "both",
  ignorePad: true,
  padLists: true,
  hfModel: "",
  checkpointDir: ".cache/checkpoints",
  wholeWordRows: 512,
};

/** The config type of the T5 plugins. */
export type Seq2SeqConfig = typeof SEQ2SEQ_DEFAULTS;

/** Per-preset overrides. */
export const SEQ2SEQ_PRESETS: Partial<Record<Preset, Partial<Seq2SeqConfig>>> = {
  tiny: {
    ...T5_SIZES.tiny,
    epochs: 3,
    batchSize: 32,
    lr: 3e-3,
    patience: 2,
    trainUsers: 64,
    samplesPerUser: 1,
    validUsers: 32,
    beams: 10,
    evalBatch: 32,
    checkpointDir: "",
  },
  // One sample per user and task per epoch: ten of these epochs are about 1.5
  // of the released code's epochs on Beauty (6.9 training items per user).
  cpu: { ...T5_SIZES.cpu, epochs: 10, batchSize: 64, lr: 1e-3, samplesPerUser: 1 },
  paper: { ...T5_SIZES.paper, epochs: 100, batchSize: 64, lr: 1e-3, evalBatch: 8 },
};

/** Documentation of the keys. */
export const SEQ2SEQ_DOCS: Partial<Record<keyof Seq2SeqConfig, string>> = {
  dModel: "T5 d_model (ignored with hfModel)",
  epochs: "maximum epochs; early stopping on the mean validation loss",
  patience: "epochs without a lower validation loss before stopping",
  keep:
    "best (early stopping, the lowest validation loss's epoch) or last (every epoch, the last one's params)",
  decode: "free (beam search over all tokens) or constrained (prefix trie of valid ids)",
  directPrompt:
    "candidates (direct prompts list the 100 candidates, as the papers) or user (they name the user only)",
  ignorePad: "ignore padding in the loss (HF); false trains on pads as the released POD code",
  padLists: "fill short lists with seeded random ids (POD)",
  hfModel: "directory with config.json, tokenizer.json, model.safetensors of a T5 checkpoint",
  checkpointDir: "per-epoch checkpoints for resuming ('' = none)",
  trainUsers: "train on a seeded subset of users (0 = all)",
  samplesPerUser:
    "samples per user, task and epoch (0 = one per training interaction, as released)",
  trainTasks: "both (direct and sequential prompts, as the papers) or task (the cell's task only)",
};

/**
 * Keys that do not change what the first epochs train: how many epochs to
 * run (epoch `e` draws from its own seeded stream and there is no schedule),
 * how to decode, and where checkpoints go. Leaving them out of the checkpoint
 * key lets `--set epochs=4` score an unfinished run and a later `epochs=10`
 * go on from the same directory.
 */
export const UNTRAINED_KEYS: readonly string[] = [
  "epochs",
  "beams",
  "evalBatch",
  "decode",
  "padLists",
  "checkpointDir",
];

/**
 * Keys added after checkpoints and records of earlier runs existed, with the
 * value those runs had: at it they stay out of the checkpoint key and the
 * cell's config hash (`Plugin.addedKeys`), so earlier runs still resume and
 * match.
 */
export const SEQ2SEQ_ADDED_KEYS: Readonly<Partial<Seq2SeqConfig>> = {
  directPrompt: "candidates",
  keep: "best",
};

/** Names the training run of a config: its checkpoint directory's key. */
export function trainingKey(
  name: string,
  splitHash: string,
  seed: number,
  config: Seq2SeqConfig,
  tasks: readonly Task[],
  untrained: readonly string[] = [],
): string {
  const trained = Object.fromEntries(
    Object.entries(hashedConfig(config, SEQ2SEQ_ADDED_KEYS)).filter(([k]) =>
      !UNTRAINED_KEYS.includes(k) && !untrained.includes(k)
    ),
  );
  // With trainTasks "task" the cell's task is part of what was trained.
  const what = [name, splitHash, seed, trained, ...(tasks.length === 1 ? tasks : [])];
  return sha256TextSync(JSON.stringify(what)).slice(0, 16);
}

/**
 * The generator a T5 fit draws from (initialisation, dropout, samples,
 * validation users): the cell's when it trains on its own task only, the
 * shared one when it trains on both tasks, as its checkpoint then serves
 * both cells.
 */
export function fitRngOf(ctx: FitContext, config: Seq2SeqConfig): Rng {
  return config.trainTasks === "task" ? ctx.rng : ctx.sharedRng;
}

/** Checks the string-valued keys. */
export function checkSeq2SeqConfig(config: Seq2SeqConfig): void {
  if (!Number.isInteger(config.samplesPerUser) || config.samplesPerUser < 0) {
    throw new RangeError(
      `Expected samplesPerUser to be an integer >= 0 but found ${config.samplesPerUser}`,
    );
  }
  if (config.decode !== "free" && config.decode !== "constrained") {
    throw new RangeError(
      `Expected decode to be "free" or "constrained" but found "${config.decode}"`,
    );
  }
  if (config.keep !== "best" && config.keep !== "last") {
    throw new RangeError(`Expected keep to be "best" or "last" but found "${config.keep}"`);
  }
  if (config.directPrompt !== "candidates" && config.directPrompt !== "user") {
    throw new RangeError(
      `Expected directPrompt to be "candidates" or "user" but found "${config.directPrompt}"`,
    );
  }
}

/**
 * The config of the T5 plugins: every key declared once (default, doc,
 * roles), presets, the key that names a training run (its checkpoint
 * directory), and which generator a fit draws from.
 *
 * @module
 */

import { defaultsOf, hashedConfig } from "../harness/config_keys.ts";
import type { DefaultsOf, FitContext, KeySpecs, PluginConfig, Preset } from "../harness/plugin.ts";
import type { Rng } from "../kernels/mod.ts";
import { sha256TextSync } from "../harness/dataset_hash.ts";
import type { Task } from "../harness/types.ts";
import type { TrainPrompts } from "./prompts.ts";
import { T5_SIZES } from "./t5_config.ts";

const SIZE = T5_SIZES.cpu;
/** The checkpoint's own size wins over these. */
const SIZE_NOTE = "(ignored with hfModel)";

/**
 * Every config key shared by the T5 plugins, declared once; the defaults
 * are the `cpu` preset. Roles: `untrained` keys (how many epochs, decoding,
 * where checkpoints go) stay out of the checkpoint key, since epoch `e`
 * draws from its own seeded stream and there is no schedule, so `--set
 * epochs=4` scores an unfinished run and a later `epochs=10` goes on from
 * the same directory; `addedAt` keys came after runs and records existed;
 * `variant` keys make rows of their own (P5 and POD tag `decode`,
 * `directPrompt`, `keep`, `epochs` in that order, as their records do;
 * keys added since take numbers after ELMRec's, from 9).
 */
export const SEQ2SEQ_KEYS = {
  dModel: { default: SIZE.dModel, doc: `T5 d_model, the hidden width ${SIZE_NOTE}` },
  dKv: { default: SIZE.dKv, doc: `width of an attention head's keys and values ${SIZE_NOTE}` },
  dFf: { default: SIZE.dFf, doc: `width of the feed-forward layers ${SIZE_NOTE}` },
  heads: { default: SIZE.heads, doc: `attention heads ${SIZE_NOTE}` },
  encoderLayers: { default: SIZE.encoderLayers, doc: `encoder blocks ${SIZE_NOTE}` },
  decoderLayers: { default: SIZE.decoderLayers, doc: `decoder blocks ${SIZE_NOTE}` },
  dropout: { default: 0.1, doc: "dropout rate while training (an hfModel's too)" },
  attentionDropout: {
    default: true,
    doc:
      "dropout on the attention probabilities too, as HF's T5 and the releases (false: 1.6-1.9x faster direct steps on the CPU, 1.3 GB less memory at the cpu size)",
    // Records made before this key trained without it and keep their ids.
    addedAt: false,
  },
  epochs: {
    default: 10,
    doc: "maximum epochs; early stopping on the mean validation loss",
    untrained: true,
    variant: 4,
  },
  batchSize: { default: 64, doc: "training samples per step" },
  lr: { default: 1e-3, doc: "AdamW learning rate" },
  weightDecay: { default: 0.01, doc: "AdamW weight decay" },
  patience: { default: 5, doc: "epochs without a lower validation loss before stopping" },
  keep: {
    default: "best" as "best" | "last",
    doc:
      "best (early stopping, the lowest validation loss's epoch) or last (every epoch, the last one's params)",
    addedAt: "best" as const,
    variant: 3,
    values: ["best", "last"] as ("best" | "last")[],
  },
  validUsers: {
    default: 1000,
    doc:
      "users (a seeded subset) whose validation samples, both tasks, give the early-stopping loss",
  },
  trainUsers: { default: 0, doc: "train on a seeded subset of users (0 = all)" },
  samplesPerUser: {
    default: 0,
    doc:
      "samples per user, task and epoch (0 = one per training interaction, the released POD/ELMRec epoch)",
  },
  beams: { default: 20, doc: "beam width of generation", untrained: true },
  evalBatch: { default: 16, doc: "users per generation batch when scoring", untrained: true },
  decode: {
    default: "free",
    doc: "free (beam search over all tokens) or constrained (prefix trie of valid ids)",
    untrained: true,
    variant: 1,
    values: ["free", "constrained"],
  },
  directPrompt: {
    default: "candidates" as "candidates" | "user",
    doc:
      "candidates (direct prompts list the 100 candidates, as the papers) or user (they name the user only)",
    addedAt: "candidates" as const,
    variant: 2,
    values: ["candidates", "user"] as ("candidates" | "user")[],
  },
  trainTasks: {
    default: "both",
    doc: "both (direct and sequential prompts, as the papers) or task (the cell's task only)",
    values: ["both", "task"],
  },
  ignorePad: {
    default: true,
    doc: "ignore padding in the loss (HF); false trains on pads as the released POD code",
  },
  padLists: {
    default: true,
    doc:
      "fill short lists with seeded random unlisted ids (sequential lists, directLists=candidates)",
    untrained: true,
  },
  directLists: {
    default: "released" as "released" | "candidates",
    doc:
      "released (outputs naming no candidate stay as misses, unparsable ones become random catalogue ids, as the released scorer) or candidates (both dropped, the list padded with candidates)",
    // Every record made before this key ran at "candidates" and keeps its id.
    addedAt: "candidates" as const,
    untrained: true,
    variant: 9,
  },
  hfModel: {
    default: "",
    doc: "directory with config.json, tokenizer.json, model.safetensors of a T5 checkpoint",
  },
  checkpointDir: {
    default: ".cache/checkpoints",
    doc: "per-epoch checkpoints for resuming ('' = none)",
    untrained: true,
  },
  wholeWordRows: {
    default: 512,
    doc: "rows of the whole-word index table; larger indices share the last row",
  },
};

/**
 * The key of the T5 plugins with prompt vectors (POD, ELMRec): what they
 * train on (`prompts.ts`, `TrainPrompts`).
 */
export const TRAIN_PROMPTS_KEYS = {
  trainPrompts: {
    default: "released" as TrainPrompts,
    doc:
      "released (training draws one of the release's templates per sample, worded or ids-only, with the prompt vectors; tests use the ids-only one) or ids (the ids-only prompt throughout)",
    // Every record made before this key trained on the ids-only prompt.
    addedAt: "ids" as const,
    variant: 11,
  },
};

/** The config type of the T5 plugins. */
export type Seq2SeqConfig = DefaultsOf<typeof SEQ2SEQ_KEYS>;

/** The config type of POD (and the part of ELMRec's that the backbone reads). */
export type PromptVectorConfig = Seq2SeqConfig & DefaultsOf<typeof TRAIN_PROMPTS_KEYS>;

/** Every key's default (the `cpu` preset). */
export const SEQ2SEQ_DEFAULTS: Seq2SeqConfig = defaultsOf(SEQ2SEQ_KEYS);

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

/**
 * Names the training run of a config: its checkpoint directory's key. The
 * config as hashed for cells (`hashedConfig`), less the `untrained` keys
 * of `keys` (the plugin's declarations), and `run`, the settings the plugin
 * resolved for this run beyond its config.
 */
export function trainingKey(
  name: string,
  splitHash: string,
  seed: number,
  config: Seq2SeqConfig,
  tasks: readonly Task[],
  keys: KeySpecs<PluginConfig> = SEQ2SEQ_KEYS,
  run?: Readonly<PluginConfig>,
): string {
  const trained = Object.fromEntries(
    Object.entries(hashedConfig(config, keys)).filter(([k]) => !keys[k]?.untrained),
  );
  // With trainTasks "task" the cell's task is part of what was trained, and
  // so are the settings a plugin resolves per run (ELMRec's alpha of a run).
  const what = [
    name,
    splitHash,
    seed,
    trained,
    ...(tasks.length === 1 ? tasks : []),
    ...(run ? [run] : []),
  ];
  return sha256TextSync(JSON.stringify(what)).slice(0, 16);
}

/**
 * The generator a T5 fit draws from (initialisation, dropout, samples,
 * validation users): the cell's when it trains on its own task only, the
 * shared one when it trains on both tasks, as its checkpoint then serves
 * both cells (and where ELMRec's two cells train a model each at their own
 * alpha, the two start alike and see the same samples, as two runs of the
 * release with one seed would).
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
  if (config.directLists !== "released" && config.directLists !== "candidates") {
    throw new RangeError(
      `Expected directLists to be "released" or "candidates" but found "${config.directLists}"`,
    );
  }
  const train = (config as Partial<PromptVectorConfig>).trainPrompts;
  if (train !== undefined && train !== "released" && train !== "ids") {
    throw new RangeError(`Expected trainPrompts to be "released" or "ids" but found "${train}"`);
  }
  if (config.directPrompt !== "candidates" && config.directPrompt !== "user") {
    throw new RangeError(
      `Expected directPrompt to be "candidates" or "user" but found "${config.directPrompt}"`,
    );
  }
}

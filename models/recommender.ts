/**
 * The shared body of the T5 plugins (P5, POD, ELMRec; their config is in
 * `seq2seq_config.ts`). {@linkcode fitSeq2Seq} reads top to bottom, one
 * named stage each: build the tokenizer and model (random init or a Hugging
 * Face checkpoint); make the training samples and the validation set from
 * the split; log the validation loss of the popularity prior; name the
 * checkpoint directory that a rerun resumes from; train on both tasks with
 * early stopping on the validation loss (`train.ts`); and score by
 * generating ranked item lists (`list_scorer.ts`). The record's `info` is
 * made of what the stages return.
 *
 * @module
 */

import type { FitContext, KeySpecs, PluginConfig, Scorer } from "../harness/plugin.ts";
import { ParamStore, type Rng, row } from "../kernels/mod.ts";
import type { Task } from "../harness/types.ts";
import { PromptEncoder, type WholeWordMode } from "./batch.ts";
import { loadHfParams, readHfCheckpoint } from "./checkpoint.ts";
import { listScorer } from "./list_scorer.ts";
import { popularityPriorLoss } from "./prior_loss.ts";
import {
  promptTemplates,
  type Sample,
  SampleMaker,
  type Templates,
  templateWords,
} from "./prompts.ts";
import { type FeedHooks, Seq2SeqRecommender } from "./seq2seq.ts";
import type { EncoderExtras } from "./t5.ts";
import { type T5Config, t5Config } from "./t5_config.ts";
import { builtinTokenizer, type Tokenizer } from "./tokenizer.ts";
import { trainLoop } from "./train.ts";
import {
  checkSeq2SeqConfig,
  fitRngOf,
  type PromptVectorConfig,
  type Seq2SeqConfig,
  trainingKey,
} from "./seq2seq_config.ts";

/** What a plugin adds to the shared body. */
export interface Seq2SeqSpec {
  readonly name: string;
  readonly wholeWord: WholeWordMode;
  /** `p5`: P5's discrete templates; `ids`: only the ids (POD, with prompt vectors). */
  readonly templates: "p5" | "ids";
  /** Learned prompt vectors per task (POD: 3). */
  readonly promptLength: number;
  /** How they start (POD's release: `uniform`; ELMRec's: `normal`). @default "normal" */
  readonly promptInit?: "normal" | "uniform";
  /** Extra encoder inputs and their feeds (ELMRec). */
  readonly external?: boolean;
  readonly hooks?: (
    model: { cfg: T5Config; store: ParamStore; prompts: PromptEncoder },
  ) => FeedHooks;
  /**
   * Settings the plugin resolved for this training run beyond its config
   * (ELMRec: the alpha of a run); they name the checkpoint with the config.
   */
  readonly run?: Readonly<PluginConfig>;
  /**
   * The plugin's key declarations, when it has keys beyond the shared ones:
   * their `untrained` role keeps a key out of the checkpoint key.
   * @default SEQ2SEQ_KEYS
   */
  readonly keys?: KeySpecs<PluginConfig>;
}

/** Trains a T5 recommender on `ctx.split` and returns its scorer. */
export async function fitSeq2Seq(
  ctx: FitContext,
  config: Seq2SeqConfig,
  spec: Seq2SeqSpec,
): Promise<Scorer> {
  checkSeq2SeqConfig(config);
  const fitRng = fitRngOf(ctx, config);
  const train = (config as Partial<PromptVectorConfig>).trainPrompts ?? "ids";
  const templates = promptTemplates(spec.templates, config.directPrompt, train);
  const model = await buildModel(ctx, config, spec, templates, fitRng);
  const data = trainingData(ctx, config, templates, fitRng);
  const priorLoss = priorValidLoss(ctx, config, spec.name, model, data.validRows);
  const trained = await trainLoop(model, {
    label: spec.name,
    epochs: config.epochs,
    batchSize: config.batchSize,
    patience: config.patience,
    keep: config.keep,
    tasks: data.tasks,
    samples: data.samples,
    validation: data.validation,
    rng: fitRng.fork("train"),
    progress: ctx.progress,
    dir: checkpointDir(ctx, config, spec, data.tasks),
    signal: ctx.signal,
  });
  const lists = listScorer(ctx, { model, maker: data.maker, config });
  const info = {
    best_epoch: trained.bestEpoch,
    epochs_run: trained.epochsRun,
    best_valid_loss: trained.bestValidLoss,
    prior_valid_loss: priorLoss,
    resumed_from: trained.resumedFrom,
    enc_len: model.encLen,
    dec_len: model.decLen,
    vocab: model.options.cfg.vocabSize,
    decode: config.decode,
    direct_lists: config.directLists,
    train_templates: { direct: templates.direct.length, sequential: templates.sequential.length },
    loss_ignores_pad: config.ignorePad,
    // Read when the runner copies `info` into a record: each record keeps
    // the counts of the lists made by then.
    get list_slots() {
      return lists.slots();
    },
    train_log: trained.log,
  };
  return { recommend: lists.recommend, info };
}

/** Stage 1: the tokenizer, the T5 (random init, or a Hugging Face checkpoint's params), the prompts. */
async function buildModel(
  ctx: FitContext,
  config: Seq2SeqConfig,
  spec: Seq2SeqSpec,
  templates: Templates,
  fitRng: Rng,
): Promise<Seq2SeqRecommender> {
  const store = new ParamStore();
  const { tokenizer, cfg } = await backbone(config, store, templates);
  const prompts = new PromptEncoder(tokenizer, ctx.split.nUsers, ctx.split.nItems, {
    wholeWord: spec.wholeWord,
    wholeWordRows: config.wholeWordRows,
    ignorePad: config.ignorePad,
    templates,
  });
  const extras: EncoderExtras = {
    wholeWordRows: spec.wholeWord === "none" ? 0 : config.wholeWordRows,
    promptLength: spec.promptLength,
    promptTasks: 2,
    promptInit: spec.promptInit,
    external: spec.external,
  };
  return new Seq2SeqRecommender({
    cfg,
    store,
    prompts,
    extras,
    batchSize: config.batchSize,
    evalBatch: config.evalBatch,
    lr: config.lr,
    weightDecay: config.weightDecay,
    threads: ctx.threads,
    device: ctx.device,
    rng: fitRng.fork("dropout"),
    hooks: spec.hooks?.({ cfg, store, prompts }),
  });
}

/** The tokenizer and T5 config; with `hfModel`, the checkpoint's params go into `store`. */
async function backbone(
  config: Seq2SeqConfig,
  store: ParamStore,
  templates: Templates,
): Promise<{ tokenizer: Tokenizer; cfg: T5Config }> {
  if (config.hfModel) {
    const hf = await readHfCheckpoint(config.hfModel);
    loadHfParams(hf.params, store);
    const { dropout, attentionDropout } = config;
    return { tokenizer: hf.tokenizer, cfg: { ...hf.cfg, dropout, attentionDropout } };
  }
  const tokenizer = builtinTokenizer(templateWords(templates));
  const { dModel, dKv, dFf, heads, encoderLayers, decoderLayers, dropout } = config;
  const size = { dModel, dKv, dFf, heads, encoderLayers, decoderLayers };
  const attentionDropout = config.attentionDropout;
  return { tokenizer, cfg: t5Config(size, tokenizer.vocabSize, { dropout, attentionDropout }) };
}

/** What training reads from the split. */
interface TrainingData {
  readonly maker: SampleMaker;
  readonly tasks: readonly Task[];
  /** An epoch's training samples of one task. */
  samples(task: Task, rng: Rng): Sample[];
  /** Fixed validation samples per task. */
  readonly validation: Readonly<Record<string, readonly Sample[]>>;
  /** The users they are drawn for. */
  readonly validRows: readonly number[];
}

/** Stage 2: the training samples (drawn per epoch) and the validation set (fixed). */
function trainingData(
  ctx: FitContext,
  config: Seq2SeqConfig,
  templates: Templates,
  fitRng: Rng,
): TrainingData {
  const { split } = ctx;
  const maker = new SampleMaker(split, templates);
  // Both tasks, as the papers do; the cell's task is the one scored.
  const tasks: Task[] = config.trainTasks === "task" ? [ctx.task] : ["direct", "sequential"];
  const trainRows = subset(split.nUsers, config.trainUsers, fitRng.fork("train-users"));
  const validRows = subset(split.nUsers, config.validUsers, fitRng.fork("valid-users"));
  const validRng = fitRng.fork("valid-candidates");
  const validation: Record<string, Sample[]> = {};
  for (const task of tasks) {
    validation[task] = validRows.map((u) => {
      const k = split.negativesPerUser;
      const negatives = split.validNegatives.subarray(u * k, (u + 1) * k);
      const candidates = Int32Array.of(split.valid[u], ...negatives);
      return maker.evaluation(
        task,
        u,
        ctx.history(u, "valid"),
        candidates,
        split.valid[u],
        validRng,
      );
    });
  }
  const samples = (task: Task, rng: Rng) =>
    trainRows.flatMap((u) => {
      const n = config.samplesPerUser || row(split.train, u).length;
      // Draw k = 0 keeps the stream of the one-sample epoch.
      return Array.from(
        { length: n },
        (_, k) => maker.train(task, u, rng.fork(k ? `u${u}.${k}` : `u${u}`)),
      );
    });
  return { maker, tasks, samples, validation, validRows };
}

/** All `n` rows, or a seeded subset of `max` of them in order. */
function subset(n: number, max: number, rng: Rng): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (!max || max >= n) return all;
  return rng.shuffle(all).slice(0, max).sort((a, b) => a - b);
}

/** Stage 3: the validation loss of the popularity prior (`prior_loss.ts`), logged beside the model's. */
function priorValidLoss(
  ctx: FitContext,
  config: Seq2SeqConfig,
  label: string,
  model: Seq2SeqRecommender,
  validRows: readonly number[],
): number {
  const { split } = ctx;
  const loss = popularityPriorLoss(
    split.train,
    split.nItems,
    validRows.map((u) => split.valid[u]),
    (item) => model.options.prompts.target(item).length,
    config.ignorePad ? undefined : model.decLen,
  );
  ctx.progress.log(`${label}: validation loss of the popularity prior ${loss.toFixed(4)}`);
  return loss;
}

/**
 * Stage 4: the checkpoint directory, named by what trains the model
 * (`trainingKey`), so that a rerun resumes there; "" = no checkpoints.
 */
function checkpointDir(
  ctx: FitContext,
  config: Seq2SeqConfig,
  spec: Seq2SeqSpec,
  tasks: readonly Task[],
): string {
  if (!config.checkpointDir) return "";
  const key = trainingKey(spec.name, ctx.split.hash, ctx.seed, config, tasks, spec.keys, spec.run);
  return `${config.checkpointDir}/${spec.name}-${ctx.split.dataset.name}-${key}`;
}

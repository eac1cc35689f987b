/**
 * The shared body of the T5 plugins (P5, POD, ELMRec; their config is in
 * `seq2seq_config.ts`): building the tokenizer and model (random init or a
 * Hugging Face checkpoint), training on both tasks with early stopping on
 * the validation loss, and a scorer that generates ranked item lists by
 * beam search (free, or constrained to valid ids by a prefix trie).
 *
 * Lists: generated sequences that are not a valid item id (or, on the
 * direct task, not one of the user's candidates) are dropped, as are
 * repeats; with `padLists` the list is then filled up to k with seeded
 * random ids (unlisted candidates, or unlisted items), as POD does.
 *
 * @module
 */

import { definePlugin, type FitContext, type Plugin, type Scorer } from "../harness/plugin.ts";
import type { KeySpecs, PluginConfig } from "../harness/plugin.ts";
import type { Rng } from "../harness/rng.ts";
import { row, type Stage, type Task } from "../harness/types.ts";
import { ParamStore } from "../kernels/param_store.ts";
import { PromptEncoder, type WholeWordMode } from "./batch.ts";
import { TokenTrie } from "./beam_search.ts";
import { loadHfParams, readHfCheckpoint } from "./checkpoint.ts";
import { popularityPriorLoss } from "./prior_loss.ts";
import { promptTemplates, type Sample, SampleMaker, templateWords } from "./prompts.ts";
import { type FeedHooks, Seq2SeqRecommender } from "./seq2seq.ts";
import type { EncoderExtras } from "./t5.ts";
import { type T5Config, t5Config } from "./t5_config.ts";
import { builtinTokenizer, type Tokenizer } from "./tokenizer.ts";
import { trainLoop } from "./train.ts";
import {
  checkSeq2SeqConfig,
  fitRngOf,
  SEQ2SEQ_KEYS,
  SEQ2SEQ_PRESETS,
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
  /** Extra encoder inputs and their feeds (ELMRec). */
  readonly external?: boolean;
  readonly hooks?: (
    model: { cfg: T5Config; store: ParamStore; prompts: PromptEncoder },
  ) => FeedHooks;
  /**
   * The plugin's key declarations, when it has keys beyond the shared ones:
   * their `untrained` role keeps a key out of the checkpoint key.
   * @default SEQ2SEQ_KEYS
   */
  readonly keys?: KeySpecs<PluginConfig>;
}

function subset(n: number, max: number, rng: Rng): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (!max || max >= n) return all;
  return rng.shuffle(all).slice(0, max).sort((a, b) => a - b);
}

/** Trains a T5 recommender on `ctx.split` and returns its scorer. */
export async function fitSeq2Seq(
  ctx: FitContext,
  config: Seq2SeqConfig,
  spec: Seq2SeqSpec,
): Promise<Scorer> {
  checkSeq2SeqConfig(config);
  const { split } = ctx;
  const fitRng = fitRngOf(ctx, config);
  let tokenizer: Tokenizer;
  let cfg: T5Config;
  const store = new ParamStore();
  if (config.hfModel) {
    const hf = await readHfCheckpoint(config.hfModel);
    tokenizer = hf.tokenizer;
    cfg = { ...hf.cfg, dropout: config.dropout };
    loadHfParams(hf.params, store);
  } else {
    tokenizer = builtinTokenizer(templateWords());
    const { dModel, dKv, dFf, heads, encoderLayers, decoderLayers, dropout } = config;
    const size = { dModel, dKv, dFf, heads, encoderLayers, decoderLayers };
    cfg = t5Config(size, tokenizer.vocabSize, { dropout });
  }
  const templates = promptTemplates(spec.templates, config.directPrompt);
  const prompts = new PromptEncoder(tokenizer, split.nUsers, split.nItems, {
    wholeWord: spec.wholeWord,
    wholeWordRows: config.wholeWordRows,
    ignorePad: config.ignorePad,
    templates,
  });
  const extras: EncoderExtras = {
    wholeWordRows: spec.wholeWord === "none" ? 0 : config.wholeWordRows,
    promptLength: spec.promptLength,
    promptTasks: 2,
    external: spec.external,
  };
  const model = new Seq2SeqRecommender({
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

  // Training: both tasks, as the papers do; the cell's task is the one scored.
  const maker = new SampleMaker(split, templates);
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
  const priorLoss = popularityPriorLoss(
    split.train,
    split.nItems,
    validRows.map((u) => split.valid[u]),
    (item) => prompts.target(item).length,
    config.ignorePad ? undefined : model.decLen,
  );
  ctx.progress.log(`${spec.name}: validation loss of the popularity prior ${priorLoss.toFixed(4)}`);
  const key = trainingKey(spec.name, split.hash, ctx.seed, config, tasks, spec.keys);
  const dir = config.checkpointDir
    ? `${config.checkpointDir}/${spec.name}-${split.dataset.name}-${key}`
    : "";
  const result = await trainLoop(model, {
    label: spec.name,
    epochs: config.epochs,
    batchSize: config.batchSize,
    patience: config.patience,
    keep: config.keep,
    tasks,
    samples: (task, rng) =>
      trainRows.flatMap((u) => {
        const n = config.samplesPerUser || row(split.train, u).length;
        // Draw k = 0 keeps the stream of the one-sample epoch.
        return Array.from(
          { length: n },
          (_, k) => maker.train(task, u, rng.fork(k ? `u${u}.${k}` : `u${u}`)),
        );
      }),
    validation,
    rng: fitRng.fork("train"),
    progress: ctx.progress,
    dir,
    signal: ctx.signal,
  });

  // Scoring.
  const tries = new Map<Task, TokenTrie>();
  const allItems = () => {
    let t = tries.get("sequential");
    if (!t) {
      tries.set(
        "sequential",
        t = new TokenTrie(Array.from({ length: split.nItems }, (_, i) => prompts.target(i + 1))),
      );
    }
    return t;
  };
  const slots: Record<string, { generated: number; padded: number }> = {};
  const recommend: Scorer["recommend"] = async (request) => {
    const task: Task = request.candidates ? "direct" : "sequential";
    const stage: Stage = request.stage;
    const evalRng = ctx.rng.fork(`eval:${stage}`);
    const samples = [...request.userRows].map((u, i) =>
      maker.evaluation(
        task,
        u,
        ctx.history(u, stage),
        request.candidates?.subarray(i * request.perUser!, (i + 1) * request.perUser!),
        0,
        evalRng,
      )
    );
    const out: Int32Array[] = [];
    let generated = 0, padded = 0;
    for (let start = 0; start < samples.length; start += config.evalBatch) {
      const batch = samples.slice(start, start + config.evalBatch);
      const userTries = task === "direct"
        ? batch.map((s) => new TokenTrie([...s.items].map((i) => prompts.target(i))))
        : [];
      const hyps = await model.generate(task, batch, {
        beams: config.beams,
        returns: Math.min(request.k, config.beams),
        allowed: config.decode === "constrained"
          ? (s, prefix) =>
            (task === "direct" ? userTries[batch.indexOf(s)] : allItems()).next(prefix)
          : undefined,
      });
      hyps.forEach((list, i) => {
        const s = batch[i];
        const pool = task === "direct" ? new Set(s.items) : undefined;
        const items: number[] = [];
        for (const h of list) {
          const item = prompts.parse(h.tokens);
          if (item && (!pool || pool.has(item)) && !items.includes(item)) items.push(item);
        }
        generated += Math.min(items.length, request.k);
        padded += Math.max(0, request.k - items.length);
        if (config.padLists) {
          const rng = ctx.rng.fork(`pad:${stage}:${s.user}`);
          const pick = pool ? [...pool] : null;
          for (let guard = 0; items.length < request.k && guard < 100 * request.k; guard++) {
            const item = pick ? pick[rng.int(pick.length)] : 1 + rng.int(split.nItems);
            if (!items.includes(item)) items.push(item);
          }
        }
        out.push(Int32Array.from(items));
      });
    }
    const sum = slots[stage] ?? { generated: 0, padded: 0 };
    slots[stage] = { generated: sum.generated + generated, padded: sum.padded + padded };
    // A fresh copy each time: a record keeps the counts as they were when it was made.
    info.list_slots = structuredClone(slots);
    return out;
  };
  // Of the top-k slots of each stage's lists, how many beam search filled and
  // how many `padLists` filled: free decoding that rarely names a candidate
  // scores near chance on the direct task, and this says so.
  const info: Record<string, unknown> = {
    best_epoch: result.bestEpoch,
    epochs_run: result.epochsRun,
    best_valid_loss: result.bestValidLoss,
    prior_valid_loss: priorLoss,
    resumed_from: result.resumedFrom,
    enc_len: model.encLen,
    dec_len: model.decLen,
    vocab: cfg.vocabSize,
    decode: config.decode,
    loss_ignores_pad: config.ignorePad,
    list_slots: {},
    train_log: result.log,
  };
  return { recommend, info };
}

/**
 * A T5 plugin that adds nothing but its {@linkcode Seq2SeqSpec} to the
 * shared body (P5, POD): both tasks, the shared keys (decoding, prompt,
 * `keep` and `epochs` as variants) and presets.
 */
export function seq2seqPlugin(description: string, spec: Seq2SeqSpec): Plugin<Seq2SeqConfig> {
  return definePlugin({
    name: spec.name,
    description,
    tasks: ["direct", "sequential"],
    keys: SEQ2SEQ_KEYS,
    presets: SEQ2SEQ_PRESETS,
    requires: ["train-sequences", "item-ids", "prompts"],
    fit: (ctx, config) => fitSeq2Seq(ctx, config, spec),
  });
}

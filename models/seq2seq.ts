/**
 * A T5 recommender's compiled parts over one {@linkcode ParamStore}: per
 * task a train step (dropout on), a loss-only step (validation), and the
 * two generation halves (encoder once per batch of users, one decoder step
 * session per prefix length). Shapes are static: every batch is padded to
 * `(batch, encLen, decLen)` of its task.
 *
 * The cross-attention keys and values are computed once per user and shared
 * by its beams. The decoder's self-attention keys and values are cached
 * between steps (`decoder_cache.ts`) at sizes where that measured faster,
 * and otherwise recomputed over the whole prefix at every step.
 *
 * @module
 */

import {
  adamw,
  compileInference,
  compileTrainStep,
  type Device,
  type Feeds,
  Graph,
  type HostTensor,
  type Inference,
  type ParamStore,
  type Rng,
  type RuntimeOptions,
  type TrainStep,
} from "../kernels/mod.ts";
import type { Task } from "../harness/types.ts";
import type { EncodedBatch, PromptEncoder } from "./batch.ts";
import { beamSearch, type Hypothesis, type StepFn } from "./beam_search.ts";
import { cachedDecoderStep, cacheName, LAST_IDS, reorderCache } from "./decoder_cache.ts";
import type { Sample } from "./prompts.ts";
import { decoderStep, type EncoderExtras, encoderOutputs, INPUTS, t5Loss } from "./t5.ts";
import type { T5Config } from "./t5_config.ts";
import { EOS_ID } from "./tokenizer.ts";

/**
 * Per-batch additions to the feeds, for models that feed more than tokens
 * (ELMRec: `extra_embeds` from its graph propagation). `wrt` names the
 * float inputs whose gradients the train step returns to `onGradients`.
 */
export interface FeedHooks {
  /** Extra feeds of a batch (e.g. `extra_embeds` `[B, T, D]`, gathered by `batch.nodes`). */
  feeds?(task: Task, batch: EncodedBatch, training: boolean): Feeds;
  /** Inputs to differentiate, e.g. `["extra_embeds"]`. */
  readonly wrt?: readonly string[];
  /** Receives `dLoss / d input` of each `wrt` input after every train step. */
  onGradients?(task: Task, batch: EncodedBatch, grads: Record<string, HostTensor>): Promise<void>;
}

/** Options of {@linkcode Seq2SeqRecommender}. */
export interface Seq2SeqOptions {
  readonly cfg: T5Config;
  readonly store: ParamStore;
  readonly prompts: PromptEncoder;
  readonly extras: EncoderExtras;
  readonly batchSize: number;
  /** Users per generation batch. */
  readonly evalBatch: number;
  readonly lr: number;
  readonly weightDecay: number;
  readonly threads: number;
  /** Execution provider of every session. @default "cpu" */
  readonly device?: Device;
  /** Draws the initial params, and dropout masks until {@linkcode Seq2SeqRecommender.startEpoch}. */
  readonly rng: Rng;
  readonly hooks?: FeedHooks;
}

/** Generation settings. */
export interface GenerateOptions {
  readonly beams: number;
  readonly returns: number;
  /** Valid token sequences for a sample (constrained decoding); absent = free. */
  readonly allowed?: (sample: Sample, prefix: readonly number[]) => readonly number[];
  /**
   * Cache the decoder's self-attention keys and values between steps.
   * @default true from d_model 256 up. Beam 20, one thread, on a loaded
   * machine (`models/decode_bench.ts`): cached/recompute speed-up 1.15-1.48x
   * at d_model 512 and 1.00-1.19x at 256; at 64 it ranged 0.87-1.28x over
   * four runs, no consistent winner, so the plain path stays there.
   */
  readonly cache?: boolean;
}

interface TaskParts {
  train?: TrainStep;
  loss?: Inference;
  encoder?: Inference;
  steps: Map<string, Inference>;
}

/** The compiled model. */
export class Seq2SeqRecommender {
  readonly options: Seq2SeqOptions;
  readonly store: ParamStore;
  readonly encLen: Record<Task, number>;
  readonly decLen: number;
  readonly #parts: Record<Task, TaskParts> = {
    direct: { steps: new Map() },
    sequential: { steps: new Map() },
  };

  #dropout: Rng;

  constructor(options: Seq2SeqOptions) {
    this.options = options;
    this.#dropout = options.rng;
    this.store = options.store;
    const p = options.prompts;
    this.encLen = { direct: p.encoderLength("direct"), sequential: p.encoderLength("sequential") };
    this.decLen = p.decoderLength();
  }

  get #runtime(): RuntimeOptions {
    return { device: this.options.device ?? "cpu", intraOpThreads: this.options.threads };
  }

  #promptFeeds(task: Task): Feeds {
    const n = this.options.extras.promptLength ?? 0;
    if (!n) return {};
    const offset = task === "direct" ? 0 : n;
    return { [INPUTS.prompt]: BigInt64Array.from({ length: n }, (_, i) => BigInt(offset + i)) };
  }

  #feeds(task: Task, batch: EncodedBatch, training: boolean): Feeds {
    return {
      [INPUTS.ids]: batch.inputIds,
      [INPUTS.wholeWord]: batch.wholeWordIds,
      [INPUTS.decoderIds]: batch.decoderInputIds,
      [INPUTS.labels]: batch.labels,
      ...this.#promptFeeds(task),
      ...this.options.hooks?.feeds?.(task, batch, training),
    };
  }

  #shape(task: Task) {
    return { batch: this.options.batchSize, encLen: this.encLen[task], decLen: this.decLen };
  }

  /** Encodes samples at the train shape of their task. */
  encode(task: Task, samples: readonly Sample[]): EncodedBatch {
    return this.options.prompts.encode(
      samples,
      this.options.batchSize,
      this.encLen[task],
      this.decLen,
    );
  }

  /** Dropout masks from here on come from `rng` (the training loop's per-epoch stream). */
  startEpoch(rng: Rng): void {
    this.#dropout = rng;
  }

  /** One optimizer step on a batch of one task; returns its loss. */
  async trainStep(task: Task, samples: readonly Sample[], lr?: number): Promise<number> {
    const parts = this.#parts[task];
    const { cfg, store, extras, hooks } = this.options;
    if (!parts.train) {
      const g = new Graph();
      const loss = t5Loss(g, cfg, this.#shape(task), { training: true, extras });
      store.init(g, this.options.rng.fork("init"));
      parts.train = await compileTrainStep(loss, store, {
        // Every param decays, the layer norms' too: the releases use
        // torch's AdamW over model.parameters() with its one weight decay.
        optimizer: adamw({ lr: this.options.lr, weightDecay: this.options.weightDecay }),
        rng: this.options.rng,
        wrt: hooks?.wrt?.filter((n) => g.byName(n)),
        ...this.#runtime,
      });
    }
    const batch = this.encode(task, samples);
    const result = await parts.train.run(this.#feeds(task, batch, true), {
      lr,
      rng: this.#dropout,
    });
    if (hooks?.onGradients) await hooks.onGradients(task, batch, result.grads);
    return result.loss;
  }

  /** The loss of a batch without dropout or update. */
  async loss(task: Task, samples: readonly Sample[]): Promise<number> {
    const parts = this.#parts[task];
    const { cfg, store, extras } = this.options;
    if (!parts.loss) {
      const g = new Graph();
      const loss = t5Loss(g, cfg, this.#shape(task), { training: false, extras });
      store.init(g, this.options.rng.fork("init"));
      parts.loss = await compileInference({ loss }, store, this.#runtime);
    }
    const out = await parts.loss.run(this.#feeds(task, this.encode(task, samples), false));
    return Number(out.loss.data[0]);
  }

  async #encoder(task: Task): Promise<Inference> {
    const parts = this.#parts[task];
    if (!parts.encoder) {
      const g = new Graph();
      const { cfg, store, extras, evalBatch } = this.options;
      const outputs = encoderOutputs(
        g,
        cfg,
        { batch: evalBatch, tokens: this.encLen[task] },
        extras,
      );
      store.init(g, this.options.rng.fork("init"));
      parts.encoder = await compileInference(outputs, store, this.#runtime);
    }
    return parts.encoder;
  }

  async #step(task: Task, beams: number, t: number, cached: boolean): Promise<Inference> {
    const parts = this.#parts[task];
    const key = `${cached ? "cached" : "full"}:${beams}:${t}`;
    let step = parts.steps.get(key);
    if (!step) {
      const g = new Graph();
      const { cfg, store, extras, evalBatch } = this.options;
      const encLen = this.encLen[task] + (extras.promptLength ?? 0);
      const shape = { batch: evalBatch, beams, encLen, t };
      const outputs = cached
        ? cachedDecoderStep(g, cfg, shape)
        : { logp: decoderStep(g, cfg, shape) };
      store.init(g, this.options.rng.fork("init"));
      step = await compileInference(outputs, store, this.#runtime);
      parts.steps.set(key, step);
    }
    return step;
  }

  /** A beam-search step that reruns the decoder over each whole prefix. */
  #recomputingStep(task: Task, beams: number, encoded: Feeds): StepFn {
    return async (prefixes, t) => {
      const ids = new BigInt64Array(prefixes.length * (t + 1));
      prefixes.forEach((p, i) => {
        for (let j = 0; j < t; j++) ids[i * (t + 1) + j + 1] = BigInt(p[j]);
      });
      const step = await this.#step(task, beams, t + 1, false);
      const out = await step.run({ ...encoded, [INPUTS.decoderIds]: ids });
      return out.logp.data as Float32Array;
    };
  }

  /** A beam-search step that feeds the newest token and the reordered cache. */
  #cachedStep(task: Task, beams: number, encoded: Feeds): StepFn {
    let present: Record<string, Float32Array> = {};
    return async (prefixes, t, parents) => {
      // The decoder starts from pad (0), then reads the last generated token.
      const ids = BigInt64Array.from(prefixes, (p) => (t ? BigInt(p[t - 1]) : 0n));
      const past = Object.fromEntries(
        Object.entries(present).map(([name, data]) => [
          name.replace(/^present/, "past"),
          reorderCache(data, parents),
        ]),
      );
      const step = await this.#step(task, beams, t + 1, true);
      const out = await step.run({ ...encoded, ...past, [LAST_IDS]: ids });
      present = {};
      for (let l = 0; l < this.options.cfg.decoderLayers; l++) {
        for (const kv of ["k", "v"] as const) {
          const name = cacheName("present", l, kv);
          present[name] = out[name].data as Float32Array;
        }
      }
      return out.logp.data as Float32Array;
    };
  }

  /**
   * Beam search for up to `evalBatch` samples of one task; returns each
   * sample's hypotheses, best first.
   */
  async generate(
    task: Task,
    samples: readonly Sample[],
    options: GenerateOptions,
  ): Promise<Hypothesis[][]> {
    const { evalBatch } = this.options;
    if (samples.length > evalBatch) {
      throw new RangeError(
        `Expected at most ${evalBatch} samples per generation batch but found ${samples.length}`,
      );
    }
    const batch = this.options.prompts.encode(samples, evalBatch, this.encLen[task], this.decLen);
    const encoded = await (await this.#encoder(task)).run({
      [INPUTS.ids]: batch.inputIds,
      [INPUTS.wholeWord]: batch.wholeWordIds,
      ...this.#promptFeeds(task),
      ...this.options.hooks?.feeds?.(task, batch, false),
    });
    const { beams } = options;
    const cache = options.cache ?? this.options.cfg.dModel >= 256;
    const step = cache
      ? this.#cachedStep(task, beams, encoded)
      : this.#recomputingStep(task, beams, encoded);
    const hyps = await beamSearch(evalBatch, step, {
      beams,
      returns: options.returns,
      maxLength: this.decLen,
      eos: EOS_ID,
      allowed: options.allowed
        ? (r, prefix) => (r < samples.length ? options.allowed!(samples[r], prefix) : [EOS_ID])
        : undefined,
    });
    return hyps.slice(0, samples.length);
  }
}

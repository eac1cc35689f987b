/**
 * The T5 encoder-decoder as graph code, exactly as Hugging Face's
 * `T5ForConditionalGeneration`: shared input embedding, pre-norm residual
 * blocks with RMS norm (no bias, eps 1e-6), attention without 1/sqrt(d)
 * scaling, bucketed relative position bias computed in the first block of
 * each stack and shared by the others (bidirectional in the encoder, causal
 * in the decoder), ReLU feed-forward (or T5 v1.1's gated GELU), dropout,
 * decoder start = pad, and a tied LM head with d_model^-0.5 scaling (or an
 * untied one without it). Params carry the HF names
 * (`encoder.block.0.layer.0.SelfAttention.q.weight`), so an HF checkpoint
 * loads by name.
 *
 * Dropout, as HF's T5 has it: on the embeddings, on every sublayer's output,
 * inside the feed-forward, after each stack's final norm, and on the
 * attention probabilities. Masks are computed in the graph from one seed
 * per step (`kernels/dropout_mask.ts`).
 *
 * ## The encoder-input hook
 *
 * {@linkcode encoderEmbeddings} sums, per token: the shared embedding of
 * `input_ids`, then optionally a learned whole-word table gathered by
 * `whole_word_ids` (P5, POD), then optionally an external float input
 * `extra_embeds` `[B, T, D]` (ELMRec's graph-aware vectors times alpha).
 * Pass `"extra_embeds"` in `compileTrainStep`'s `wrt` to get
 * `dLoss/d extra_embeds` back and push it through a sparse propagation in JS.
 * Optional learned prompt vectors (POD) are prepended.
 *
 * @module
 */

import {
  crossEntropy,
  type DType,
  type Graph,
  normal,
  type Tensor,
  uniform,
} from "../kernels/mod.ts";
import { bucketMatrix } from "./relative_position.ts";
import {
  crossAttention,
  type CrossKV,
  crossKV,
  dropout,
  feedForward,
  proj,
  rmsNorm,
  selfAttention,
} from "./t5_layers.ts";
import type { T5Config } from "./t5_config.ts";

export {
  crossAttention,
  type CrossKV,
  crossKV,
  feedForward,
  geluNew,
  heads,
  merge,
  proj,
  rmsNorm,
} from "./t5_layers.ts";

/** Input names of the graphs. */
export const INPUTS = {
  ids: "input_ids",
  wholeWord: "whole_word_ids",
  prompt: "prompt_ids",
  extra: "extra_embeds",
  decoderIds: "decoder_input_ids",
  labels: "labels",
  encoderBias: "encoder_bias",
} as const;

/** Additions to the encoder input (the hook for P5, POD and ELMRec). */
export interface EncoderExtras {
  /** Rows of a learned whole-word table `whole_word_embeddings.weight`, gathered by `whole_word_ids`; 0 = none. @default 0 */
  readonly wholeWordRows?: number;
  /** Learned prompt vectors per task (`prompt_embeddings.weight`, tasks x length rows); 0 = none. @default 0 */
  readonly promptLength?: number;
  /** @default 2 */
  readonly promptTasks?: number;
  /**
   * How the prompt vectors start: `normal` N(0, 1) (ELMRec's release, as
   * torch's `nn.Embedding`) or `uniform` in [-0.1, 0.1] (POD's release).
   * @default "normal"
   */
  readonly promptInit?: "normal" | "uniform";
  /** Add the float input `extra_embeds` `[B, T, D]` to the token embeddings. @default false */
  readonly external?: boolean;
}

/** How a graph is built. */
export interface BuildOptions {
  /** Dropout on. @default false */
  readonly training?: boolean;
  /** Param and activation dtype (float64 for gradient checks). @default "float32" */
  readonly dtype?: "float32" | "float64";
  readonly extras?: EncoderExtras;
}

const MASKED = -1e9;

function param(g: Graph, name: string, shape: number[], std: number, dtype: DType): Tensor {
  return g.byName(name) ?? g.param(name, shape, { dtype, init: normal({ std }) });
}

/** `[1, H, tq, tk]` bias of the first block's `relative_attention_bias` table. */
export function positionBias(
  g: Graph,
  stack: "encoder" | "decoder",
  cfg: T5Config,
  t: number,
  dtype: DType,
): Tensor {
  const name = `${stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight`;
  const table = param(g, name, [cfg.numBuckets, cfg.heads], cfg.dModel ** -0.5, dtype);
  const buckets = bucketMatrix(t, t, {
    bidirectional: stack === "encoder",
    numBuckets: cfg.numBuckets,
    maxDistance: cfg.maxDistance,
  });
  // Transpose the [buckets, H] table, not the [t*t, H] bias: with the transpose
  // after the gather, ORT's transpose optimizer pushed it past the padding-bias
  // Add and transposed the whole [tq, tk, B, H] sum (43% of a tiny direct step).
  const picked = g.gather(g.transpose(table, [1, 0]), g.constant(buckets, "int64", [t * t]), 1);
  return g.reshape(picked, [1, cfg.heads, t, t]);
}

/** The shared embedding `shared.weight` `[vocab, D]`. */
export function sharedEmbedding(g: Graph, cfg: T5Config, dtype: DType = "float32"): Tensor {
  return param(g, "shared.weight", [cfg.vocabSize, cfg.dModel], 1, dtype);
}

/** Encoder input length including prompt vectors. */
export function encoderLength(tokens: number, extras: EncoderExtras = {}): number {
  return tokens + (extras.promptLength ?? 0);
}

/**
 * Encoder input embeddings `[B, P + T, D]` and the additive padding bias
 * `[B, 1, 1, P + T]` (0 = attend, -1e9 = pad) from `input_ids` `[B, T]`
 * and the inputs the extras ask for.
 */
export function encoderEmbeddings(
  g: Graph,
  cfg: T5Config,
  shape: { batch: number; tokens: number },
  options: BuildOptions = {},
): { embeds: Tensor; bias: Tensor } {
  const dtype = options.dtype ?? "float32";
  const extras = options.extras ?? {};
  const { batch: b, tokens: t } = shape;
  const ids = g.input(INPUTS.ids, "int64", [b, t]);
  let x = g.gather(sharedEmbedding(g, cfg, dtype), ids);
  if (extras.wholeWordRows) {
    const table = param(
      g,
      "whole_word_embeddings.weight",
      [extras.wholeWordRows, cfg.dModel],
      1,
      dtype,
    );
    x = g.add(x, g.gather(table, g.input(INPUTS.wholeWord, "int64", [b, t])));
  }
  if (extras.external) x = g.add(x, g.input(INPUTS.extra, dtype, [b, t, cfg.dModel]));
  let bias = g.where(g.equal(ids, 0), g.scalar(MASKED, dtype), 0);
  const p = extras.promptLength ?? 0;
  if (p > 0) {
    const rows = p * (extras.promptTasks ?? 2);
    const name = "prompt_embeddings.weight";
    const table = g.byName(name) ?? g.param(name, [rows, cfg.dModel], {
      dtype,
      init: extras.promptInit === "uniform"
        ? uniform({ low: -0.1, high: 0.1 })
        : normal({ std: 1 }),
    });
    const prompt = g.gather(table, g.input(INPUTS.prompt, "int64", [p]));
    x = g.concat([g.expand(g.unsqueeze(prompt, [0]), [b, p, cfg.dModel]), x], 1);
    bias = g.concat([g.zeros([b, p], dtype), bias], 1);
  }
  return { embeds: x, bias: g.reshape(bias, [b, 1, 1, t + p]) };
}

/** The encoder stack over `embeds` `[B, T, D]` with padding bias `[B, 1, 1, T]`; returns `[B, T, D]`. */
export function encoder(embeds: Tensor, padBias: Tensor, cfg: T5Config, training = false): Tensor {
  const g = embeds.graph;
  const t = embeds.shape[1];
  const bias = g.add(positionBias(g, "encoder", cfg, t, embeds.dtype), padBias);
  let x = dropout(embeds, "encoder.embed", cfg.dropout, training);
  for (let l = 0; l < cfg.encoderLayers; l++) {
    const at = `encoder.block.${l}.layer.0`, ff = `encoder.block.${l}.layer.1`;
    x = residual(
      x,
      at,
      cfg,
      training,
      (h) => selfAttention(h, `${at}.SelfAttention`, cfg, bias, training),
    );
    x = residual(
      x,
      ff,
      cfg,
      training,
      (h) => feedForward(h, `${ff}.DenseReluDense`, cfg, training),
    );
  }
  const out = rmsNorm(x, "encoder.final_layer_norm", cfg);
  return dropout(out, "encoder.final", cfg.dropout, training);
}

/** A pre-norm residual sublayer, as T5 has them: `x + dropout(f(rmsNorm(x)))`. */
export function residual(
  x: Tensor,
  name: string,
  cfg: T5Config,
  training: boolean,
  f: (h: Tensor) => Tensor,
): Tensor {
  return x.graph.add(
    x,
    dropout(f(rmsNorm(x, `${name}.layer_norm`, cfg)), name, cfg.dropout, training),
  );
}

/**
 * The decoder stack over `decoder_input_ids` `[B * beams, t]`, attending to
 * per-user cross keys and values; returns `[B * beams, t, D]`.
 */
export function decoder(
  ids: Tensor,
  cross: readonly CrossKV[],
  encoderBias: Tensor,
  cfg: T5Config,
  options: { beams?: number; training?: boolean } = {},
): Tensor {
  const g = ids.graph;
  const { beams = 1, training = false } = options;
  const dtype = encoderBias.dtype;
  const t = ids.shape[1];
  const causal: number[] = [];
  for (let i = 0; i < t; i++) for (let j = 0; j < t; j++) causal.push(j > i ? MASKED : 0);
  const bias = g.add(positionBias(g, "decoder", cfg, t, dtype), g.constant(causal, dtype, [t, t]));
  let x = dropout(
    g.gather(sharedEmbedding(g, cfg, dtype), ids),
    "decoder.embed",
    cfg.dropout,
    training,
  );
  for (let l = 0; l < cfg.decoderLayers; l++) {
    const sa = `decoder.block.${l}.layer.0`, ca = `decoder.block.${l}.layer.1`;
    const ff = `decoder.block.${l}.layer.2`;
    x = residual(
      x,
      sa,
      cfg,
      training,
      (h) => selfAttention(h, `${sa}.SelfAttention`, cfg, bias, training),
    );
    x = residual(
      x,
      ca,
      cfg,
      training,
      (h) =>
        crossAttention(h, `${ca}.EncDecAttention`, cfg, cross[l], encoderBias, beams, training),
    );
    x = residual(
      x,
      ff,
      cfg,
      training,
      (h) => feedForward(h, `${ff}.DenseReluDense`, cfg, training),
    );
  }
  const out = rmsNorm(x, "decoder.final_layer_norm", cfg);
  return dropout(out, "decoder.final", cfg.dropout, training);
}

/** Logits `[..., vocab]`: tied head `(h * d^-0.5) @ shared^T`, or `lm_head.weight` when untied. */
export function lmHead(h: Tensor, cfg: T5Config): Tensor {
  const g = h.graph;
  if (!cfg.tieEmbeddings) return proj(h, "lm_head", cfg.vocabSize, 1);
  const shared = sharedEmbedding(g, cfg, h.dtype);
  return g.matMul(g.mul(h, cfg.dModel ** -0.5), g.transpose(shared));
}

/** Static shapes of a training graph. */
export interface TrainShape {
  readonly batch: number;
  /** Token positions of the encoder input (prompt vectors excluded). */
  readonly encLen: number;
  readonly decLen: number;
}

/**
 * The training (or validation) loss: mean cross entropy of `labels`
 * `[B, decLen]` given `input_ids` and `decoder_input_ids`. Labels equal to
 * -100 are ignored; the data side decides whether pads are -100 (HF) or 0
 * (the released POD / ELMRec code, which trains on padding).
 *
 * @example
 * ```ts
 * import { Graph } from "../kernels/mod.ts";
 * import { t5Loss } from "./t5.ts";
 * import { t5Config, T5_SIZES } from "./t5_config.ts";
 * const g = new Graph();
 * const loss = t5Loss(g, t5Config(T5_SIZES.tiny, 50), { batch: 2, encLen: 6, decLen: 3 });
 * ```
 */
export function t5Loss(
  g: Graph,
  cfg: T5Config,
  shape: TrainShape,
  options: BuildOptions = {},
): Tensor {
  return t5Forward(g, cfg, shape, options).loss;
}

/** The intermediate results of {@linkcode t5Loss}'s pass. */
export interface T5Forward {
  /** Encoder output after its final norm, `[B, P + encLen, D]`. */
  readonly encoded: Tensor;
  /** Decoder output after its final norm (the head's input), `[B, decLen, D]`. */
  readonly decoded: Tensor;
  /** `[B, decLen, vocab]`. */
  readonly logits: Tensor;
  /** Mean cross entropy over the labels that are not -100. */
  readonly loss: Tensor;
}

/**
 * {@linkcode t5Loss}'s teacher-forced pass with its intermediate results
 * exposed, for comparisons with other implementations
 * (`hf_parity.ts`); outputs left unfetched are pruned from the exported graph.
 */
export function t5Forward(
  g: Graph,
  cfg: T5Config,
  shape: TrainShape,
  options: BuildOptions = {},
): T5Forward {
  const training = options.training ?? false;
  const { batch: b, encLen, decLen } = shape;
  const { embeds, bias } = encoderEmbeddings(g, cfg, { batch: b, tokens: encLen }, options);
  const encoded = encoder(embeds, bias, cfg, training);
  const cross = Array.from({ length: cfg.decoderLayers }, (_, l) => crossKV(encoded, cfg, l));
  const decIds = g.input(INPUTS.decoderIds, "int64", [b, decLen]);
  const decoded = decoder(decIds, cross, bias, cfg, { training });
  const logits = lmHead(decoded, cfg);
  const flat = g.reshape(logits, [b * decLen, cfg.vocabSize]);
  const labels = g.reshape(g.input(INPUTS.labels, "int64", [b, decLen]), [b * decLen]);
  return { encoded, decoded, logits, loss: crossEntropy(flat, labels, { ignoreIndex: -100 }) };
}

/**
 * The generation graphs' halves. `encoderOutputs` runs once per batch of
 * users and returns every decoder layer's cross keys and values
 * (`cross.<l>.k`, `cross.<l>.v`) and the padding bias (`encoder_bias`);
 * `decoderStep` takes them as inputs with the prefixes `[B * beams, t]`
 * and returns the log-probabilities of the next token `[B * beams, vocab]`.
 */
export function encoderOutputs(
  g: Graph,
  cfg: T5Config,
  shape: { batch: number; tokens: number },
  extras: EncoderExtras = {},
): Record<string, Tensor> {
  const { embeds, bias } = encoderEmbeddings(g, cfg, shape, { extras });
  const encoded = encoder(embeds, bias, cfg, false);
  const out: Record<string, Tensor> = { [INPUTS.encoderBias]: bias };
  for (let l = 0; l < cfg.decoderLayers; l++) {
    const { k, v } = crossKV(encoded, cfg, l);
    out[`cross.${l}.k`] = k;
    out[`cross.${l}.v`] = v;
  }
  return out;
}

/** See {@linkcode encoderOutputs}. */
export function decoderStep(
  g: Graph,
  cfg: T5Config,
  shape: { batch: number; beams: number; encLen: number; t: number },
): Tensor {
  const { batch: b, beams, encLen: te, t } = shape;
  const { heads: h, dKv } = cfg;
  const cross = Array.from({ length: cfg.decoderLayers }, (_, l) => ({
    k: g.input(`cross.${l}.k`, "float32", [b, h, dKv, te]),
    v: g.input(`cross.${l}.v`, "float32", [b, h, te, dKv]),
  }));
  const bias = g.input(INPUTS.encoderBias, "float32", [b, 1, 1, te]);
  const ids = g.input(INPUTS.decoderIds, "int64", [b * beams, t]);
  const hidden = decoder(ids, cross, bias, cfg, { beams });
  const last = g.slice(hidden, [t - 1], [t], [1]);
  return g.reshape(g.logSoftmax(lmHead(last, cfg), -1), [b * beams, cfg.vocabSize]);
}

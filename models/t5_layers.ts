/**
 * The layers of Hugging Face's T5 that the encoder and decoder stacks
 * (`t5.ts`) and the cached decoder (`decoder_cache.ts`) are built from:
 * dropout with in-graph masks, RMS norm, projections, self- and
 * cross-attention with HF's attention-probability dropout, and the
 * feed-forward sublayer in its ReLU and gated-GELU forms. Parameter names
 * are HF's, so checkpoints load by name.
 *
 * @module
 */
import { dropoutMask, linear, normal, ones, type Tensor } from "../kernels/mod.ts";
import type { T5Config } from "./t5_config.ts";

/** Inverted dropout; the mask is computed in the graph from the run's seed (kernels/dropout_mask.ts). */
export function dropout(x: Tensor, name: string, p: number, training: boolean): Tensor {
  if (!training || p === 0) return x;
  const dtype = x.dtype === "float64" ? "float64" : "float32";
  return x.graph.mul(x, dropoutMask(x.graph, `${name}.dropout_mask`, x.shape, p, dtype));
}

export function rmsNorm(x: Tensor, name: string, cfg: T5Config): Tensor {
  const g = x.graph;
  const d = x.shape[x.shape.length - 1];
  const w = g.param(`${name}.weight`, [d], { dtype: x.dtype, init: ones() });
  const ms = g.reduceMean(g.mul(x, x), [-1], true);
  return g.mul(g.div(x, g.sqrt(g.add(ms, cfg.eps))), w);
}

export function proj(x: Tensor, name: string, out: number, std: number): Tensor {
  return linear(x, name, { outFeatures: out, bias: false, init: normal({ std }) });
}

/** `[N, T, D]` -> `[N, H, T, dKv]`. */
export function heads(x: Tensor, cfg: T5Config): Tensor {
  const [n, t] = x.shape;
  return x.graph.transpose(x.graph.reshape(x, [n, t, cfg.heads, cfg.dKv]), [0, 2, 1, 3]);
}

export function merge(ctx: Tensor, cfg: T5Config, shape: [number, number]): Tensor {
  const g = ctx.graph;
  const out = g.transpose(ctx, [0, 2, 1, 3]);
  return g.reshape(out, [shape[0], shape[1], cfg.heads * cfg.dKv]);
}

/**
 * Attention probabilities, with dropout while training as HF's
 * `T5Attention` has it (`nn.functional.dropout(attn_weights)`).
 */
export function attentionWeights(
  scores: Tensor,
  name: string,
  cfg: T5Config,
  training: boolean,
): Tensor {
  const p = cfg.attentionDropout ? cfg.dropout : 0;
  return dropout(scores.graph.softmax(scores, -1), `${name}.weights`, p, training);
}

export function selfAttention(
  x: Tensor,
  name: string,
  cfg: T5Config,
  bias: Tensor,
  training: boolean,
): Tensor {
  const g = x.graph;
  const [n, t, d] = x.shape;
  const inner = cfg.heads * cfg.dKv;
  const q = heads(proj(x, `${name}.q`, inner, (d * cfg.dKv) ** -0.5), cfg);
  const k = heads(proj(x, `${name}.k`, inner, d ** -0.5), cfg);
  const v = heads(proj(x, `${name}.v`, inner, d ** -0.5), cfg);
  const scores = g.add(g.matMul(q, g.transpose(k, [0, 1, 3, 2])), bias);
  const ctx = merge(g.matMul(attentionWeights(scores, name, cfg, training), v), cfg, [n, t]);
  return proj(ctx, `${name}.o`, d, inner ** -0.5);
}

/** Cross-attention keys (`[B, H, dKv, Te]`, transposed) and values (`[B, H, Te, dKv]`) of one decoder layer. */
export interface CrossKV {
  readonly k: Tensor;
  readonly v: Tensor;
}

/** Projects the encoder output to decoder layer `layer`'s cross-attention keys and values. */
export function crossKV(encoded: Tensor, cfg: T5Config, layer: number): CrossKV {
  const g = encoded.graph;
  const name = `decoder.block.${layer}.layer.1.EncDecAttention`;
  const d = cfg.dModel, inner = cfg.heads * cfg.dKv;
  const k = heads(proj(encoded, `${name}.k`, inner, d ** -0.5), cfg);
  const v = heads(proj(encoded, `${name}.v`, inner, d ** -0.5), cfg);
  return { k: g.transpose(k, [0, 1, 3, 2]), v };
}

/**
 * Cross-attention of `x` (`[B * beams, t, D]`) on per-user keys and values:
 * the beams of one user are folded into the query axis, so the encoder
 * states are never repeated per beam.
 */
export function crossAttention(
  x: Tensor,
  name: string,
  cfg: T5Config,
  kv: CrossKV,
  encoderBias: Tensor,
  beams: number,
  training = false,
): Tensor {
  const g = x.graph;
  const [n, t, d] = x.shape;
  const b = n / beams, inner = cfg.heads * cfg.dKv;
  const q = proj(x, `${name}.q`, inner, (d * cfg.dKv) ** -0.5);
  const qh = g.transpose(g.reshape(q, [b, beams * t, cfg.heads, cfg.dKv]), [0, 2, 1, 3]);
  const scores = g.add(g.matMul(qh, kv.k), encoderBias);
  const weights = attentionWeights(scores, name, cfg, training);
  const ctx = merge(g.matMul(weights, kv.v), cfg, [b, beams * t]);
  return proj(g.reshape(ctx, [n, t, inner]), `${name}.o`, d, inner ** -0.5);
}

/**
 * Hugging Face's `gelu_new` (its `NewGELUActivation`, the tanh approximation
 * that T5 v1.1 and flan-t5 use): `0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))`.
 */
export function geluNew(x: Tensor): Tensor {
  const g = x.graph;
  const inner = g.mul(g.add(x, g.mul(g.mul(g.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
  return g.mul(g.mul(x, 0.5), g.add(g.tanh(inner), 1));
}

/**
 * The feed-forward sublayer, `DenseReluDense` in both of HF's forms: ReLU
 * (`wi`) or, with `feedForward: "gated-gelu"`, `gelu_new(wi_0 x) * wi_1 x`;
 * dropout on the hidden layer, then `wo`.
 */
export function feedForward(x: Tensor, name: string, cfg: T5Config, training: boolean): Tensor {
  const g = x.graph;
  const std = cfg.dModel ** -0.5;
  const h = cfg.feedForward === "gated-gelu"
    ? g.mul(geluNew(proj(x, `${name}.wi_0`, cfg.dFf, std)), proj(x, `${name}.wi_1`, cfg.dFf, std))
    : g.relu(proj(x, `${name}.wi`, cfg.dFf, std));
  return proj(
    dropout(h, `${name}.inner`, cfg.dropout, training),
    `${name}.wo`,
    cfg.dModel,
    cfg.dFf ** -0.5,
  );
}

/**
 * Layers and losses as composites of primitive ops. They have no gradient
 * rules of their own: autodiff sees only the primitives. Params are created
 * under structural names (`<name>.weight`) in the input's dtype, with
 * PyTorch/Hugging Face layouts so checkpoint keys and shapes match.
 *
 * @module
 */

import { dropoutMask } from "./dropout_mask.ts";
import type { Graph, Tensor } from "./graph.ts";
import { type Initializer, normal, ones, xavier, zeros } from "./init.ts";

/** Options of {@linkcode linear}. */
export interface LinearOptions {
  outFeatures: number;
  /** @default true */
  bias?: boolean;
  /** @default xavier() */
  init?: Initializer;
}

/**
 * `x @ weight^T + bias` with `weight` of shape `[out, in]`. ORT fuses the
 * transpose into the product.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { linear } from "./nn.ts";
 * const g = new Graph();
 * const y = linear(g.input("x", "float32", [8, 16]), "proj", { outFeatures: 4 });
 * ```
 */
export function linear(x: Tensor, name: string, options: LinearOptions): Tensor {
  const g = x.graph;
  const inF = x.shape[x.shape.length - 1];
  const w = g.param(`${name}.weight`, [options.outFeatures, inF], {
    dtype: x.dtype,
    init: options.init ?? xavier(),
  });
  const y = g.matMul(x, g.transpose(w));
  if (options.bias === false) return y;
  return g.add(
    y,
    g.param(`${name}.bias`, [options.outFeatures], { dtype: x.dtype, init: zeros() }),
  );
}

/** Options of {@linkcode embedding}. */
export interface EmbeddingOptions {
  count: number;
  dim: number;
  /** @default normal() */
  init?: Initializer;
  /** @default "float32" */
  dtype?: "float32" | "float64";
}

/**
 * Rows of a `[count, dim]` table picked by integer ids.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { embedding } from "./nn.ts";
 * const g = new Graph();
 * const e = embedding(g.input("ids", "int64", [4]), "items", { count: 100, dim: 8 });
 * ```
 */
export function embedding(ids: Tensor, name: string, options: EmbeddingOptions): Tensor {
  const g = ids.graph;
  const table = g.param(`${name}.weight`, [options.count, options.dim], {
    dtype: options.dtype ?? "float32",
    init: options.init ?? normal(),
  });
  return g.gather(table, ids);
}

/** Options of {@linkcode rmsNorm}. */
export interface RmsNormOptions {
  /** @default 1e-6 */
  eps?: number;
}

/**
 * T5's layer norm: `x / sqrt(mean(x^2) + eps) * weight` over the last axis,
 * with no mean subtraction and no bias.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { rmsNorm } from "./nn.ts";
 * const g = new Graph();
 * const y = rmsNorm(g.input("x", "float32", [2, 8]), "block.0.norm");
 * ```
 */
export function rmsNorm(x: Tensor, name: string, options: RmsNormOptions = {}): Tensor {
  const g = x.graph;
  const d = x.shape[x.shape.length - 1];
  const w = g.param(`${name}.weight`, [d], { dtype: x.dtype, init: ones() });
  const ms = g.reduceMean(g.mul(x, x), [-1], true);
  return g.mul(g.div(x, g.sqrt(g.add(ms, options.eps ?? 1e-6))), w);
}

/** Options of {@linkcode dropout}. */
export interface DropoutOptions {
  /** Probability of zeroing an element. */
  p: number;
  /** Off (identity) when false. @default true */
  training?: boolean;
}

/**
 * Inverted dropout. The keep mask (`0` or `1 / (1 - p)`) is computed in the
 * graph from the run's `dropout.seed`, which the runner draws from its
 * seeded rng on every call (see dropout_mask.ts), so runs repeat exactly
 * under one seed, on any device.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { dropout } from "./nn.ts";
 * const g = new Graph();
 * const y = dropout(g.input("x", "float32", [2, 8]), "block.0.dropout", { p: 0.1 });
 * ```
 */
export function dropout(x: Tensor, name: string, options: DropoutOptions): Tensor {
  const { p, training = true } = options;
  if (!(p >= 0 && p < 1)) throw new RangeError(`Expected a dropout p in [0, 1) but found ${p}`);
  if (!training || p === 0) return x;
  if (x.dtype !== "float32" && x.dtype !== "float64") {
    throw new TypeError(`Expected a float tensor for dropout "${name}" but found ${x.dtype}`);
  }
  return x.graph.mul(x, dropoutMask(x.graph, `${name}.mask`, x.shape, p, x.dtype));
}

/** Options of {@linkcode attention}. */
export interface AttentionOptions {
  heads: number;
  /** Per-head width. @default model width / heads */
  dHead?: number;
  /** Keys and values come from here (cross-attention). @default x */
  kv?: Tensor;
  /** Additive score bias broadcastable to `[B, H, Tq, Tk]` (T5 relative positions). */
  bias?: Tensor;
  /** Bool mask broadcastable to `[B, H, Tq, Tk]`; `true` = may attend (e.g. padding `[B, 1, 1, Tk]`). */
  mask?: Tensor;
  /** Hide later positions. @default false */
  causal?: boolean;
  /** Scale scores by `1/sqrt(dHead)`; T5 does not. @default true */
  scale?: boolean;
  /** Biases on the `q`, `k`, `v`, `o` projections (`torch.nn.MultiheadAttention`); T5 has none. @default false */
  projectionBias?: boolean;
  /** Dropout p on the attention probabilities (masks drawn by the runner). @default 0 */
  dropout?: number;
  /** @default xavier() */
  init?: Initializer;
}

const MASKED = -1e9;

/**
 * Multi-head attention with `q`, `k`, `v`, `o` projections
 * (`<name>.q.weight` etc., bias-free unless `projectionBias`) over `x` of
 * shape `[B, T, D]`.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { attention } from "./nn.ts";
 * const g = new Graph();
 * const x = g.input("x", "float32", [2, 5, 16]);
 * const y = attention(x, "block.0.attn", { heads: 4, causal: true, scale: false });
 * ```
 */
export function attention(x: Tensor, name: string, options: AttentionOptions): Tensor {
  const g = x.graph;
  const [b, tq, d] = x.shape;
  const kv = options.kv ?? x;
  const tk = kv.shape[1];
  const h = options.heads, dh = options.dHead ?? d / h;
  if (x.shape.length !== 3 || !Number.isInteger(dh)) {
    throw new TypeError(
      `attention expects [B, T, D] input with D divisible by ${h} heads but found [${x.shape}]`,
    );
  }
  const withBias = options.projectionBias ?? false;
  const proj = (t: Tensor, key: string) =>
    linear(t, `${name}.${key}`, { outFeatures: h * dh, bias: withBias, init: options.init });
  const split = (t: Tensor, len: number, perm: number[]) =>
    g.transpose(g.reshape(t, [b, len, h, dh]), perm);
  const q = split(proj(x, "q"), tq, [0, 2, 1, 3]);
  const kT = split(proj(kv, "k"), tk, [0, 2, 3, 1]);
  const v = split(proj(kv, "v"), tk, [0, 2, 1, 3]);
  let scores = g.matMul(q, kT);
  if (options.scale !== false) scores = g.mul(scores, 1 / Math.sqrt(dh));
  if (options.bias) scores = g.add(scores, options.bias);
  if (options.causal) {
    const c = new Array<number>(tq * tk);
    for (let i = 0; i < tq; i++) {
      for (let j = 0; j < tk; j++) {
        c[i * tk + j] = j > i + tk - tq ? MASKED : 0;
      }
    }
    scores = g.add(scores, g.constant(c, x.dtype, [tq, tk]));
  }
  if (options.mask) scores = g.add(scores, g.where(options.mask, g.scalar(0, x.dtype), MASKED));
  const p = options.dropout ?? 0;
  const probs = dropout(g.softmax(scores, -1), `${name}.dropout`, { p, training: p > 0 });
  const ctx = g.matMul(probs, v);
  const merged = g.reshape(g.transpose(ctx, [0, 2, 1, 3]), [b, tq, h * dh]);
  return linear(merged, `${name}.o`, { outFeatures: d, bias: withBias, init: options.init });
}

/** Options of {@linkcode crossEntropy}. */
export interface CrossEntropyOptions {
  /** Targets equal to this are left out of the mean. @default -100 */
  ignoreIndex?: number;
}

/**
 * Mean negative log-likelihood of integer `targets` under `logits` (classes
 * on the last axis), over non-ignored targets; 0 when all are ignored.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { crossEntropy } from "./nn.ts";
 * const g = new Graph();
 * const loss = crossEntropy(g.input("logits", "float32", [4, 10]), g.input("y", "int64", [4]));
 * ```
 */
export function crossEntropy(
  logits: Tensor,
  targets: Tensor,
  options: CrossEntropyOptions = {},
): Tensor {
  const g = logits.graph;
  const c = logits.shape[logits.shape.length - 1];
  const ignore = options.ignoreIndex ?? -100;
  const t = g.cast(targets, "int64");
  // A one-hot product picks each target's log-probability with primitives
  // whose gradients are plain elementwise ops.
  const classes = g.constant([...Array(c).keys()], "int64", [c]);
  const onehot = g.cast(g.equal(g.unsqueeze(t, [-1]), classes), logits.dtype);
  const picked = g.reduceSum(g.mul(g.logSoftmax(logits, -1), onehot), [-1], false);
  const valid = g.where(g.equal(t, ignore), g.scalar(0, logits.dtype), 1);
  const total = g.reduceSum(g.mul(picked, valid), undefined, false);
  return g.div(g.neg(total), g.max(g.reduceSum(valid, undefined, false), 1));
}

/**
 * `log(1 + exp(x))`, stable for large `|x|`. Written as
 * `x/2 + (|x|/2 + log(1 + exp(-|x|)))`: the bracket is smooth and even, so
 * the gradient at 0 is exact (1/2) whatever subgradient `Abs` takes there.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { softplus } from "./nn.ts";
 * const g = new Graph();
 * const y = softplus(g.input("x", "float32", [3]));
 * ```
 */
export function softplus(x: Tensor): Tensor {
  const g = x.graph;
  const a = g.abs(x);
  return g.add(g.mul(x, 0.5), g.add(g.mul(a, 0.5), g.log(g.add(g.exp(g.neg(a)), 1))));
}

/** Options of {@linkcode cosineSimilarity}. */
export interface CosineOptions {
  /** @default -1 */
  axis?: number;
  /** Lower bound on the product of norms. @default 1e-8 */
  eps?: number;
}

/**
 * `a.b / max(|a| |b|, eps)` along an axis (as `torch.cosine_similarity`).
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { cosineSimilarity } from "./nn.ts";
 * const g = new Graph();
 * const s = cosineSimilarity(g.input("a", "float32", [4, 8]), g.input("b", "float32", [4, 8]));
 * ```
 */
export function cosineSimilarity(a: Tensor, b: Tensor, options: CosineOptions = {}): Tensor {
  const g = a.graph;
  const axis = options.axis ?? -1, eps = options.eps ?? 1e-8;
  const dot = g.reduceSum(g.mul(a, b), [axis], false);
  const aa = g.reduceSum(g.mul(a, a), [axis], false), bb = g.reduceSum(g.mul(b, b), [axis], false);
  return g.div(dot, g.sqrt(g.max(g.mul(aa, bb), eps * eps)));
}

/**
 * GELU, exact form: `x/2 * (1 + erf(x / sqrt 2))`.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { gelu } from "./nn.ts";
 * const g = new Graph();
 * const y = gelu(g.input("x", "float32", [3]));
 * ```
 */
export function gelu(x: Tensor): Tensor {
  const g: Graph = x.graph;
  return g.mul(g.mul(x, 0.5), g.add(g.erf(g.mul(x, Math.SQRT1_2)), 1));
}

/** Options of {@linkcode t5Block}. */
export interface T5BlockOptions
  extends Pick<AttentionOptions, "heads" | "bias" | "mask" | "causal" | "init"> {
  dFf: number;
  /** Dropout p (masks drawn by the runner); 0 = off. @default 0 */
  dropout?: number;
}

/**
 * A T5 encoder block: pre-norm self-attention (unscaled, with additive bias)
 * and a ReLU feed-forward, each with a residual; params under
 * `<name>.attn.*`, `<name>.ln1`, `<name>.ff.wi`, `<name>.ff.wo`, `<name>.ln2`.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { t5Block } from "./nn.ts";
 * const g = new Graph();
 * const y = t5Block(g.input("x", "float32", [2, 5, 16]), "encoder.block.0", { heads: 4, dFf: 32 });
 * ```
 */
export function t5Block(x: Tensor, name: string, options: T5BlockOptions): Tensor {
  const g = x.graph;
  const d = x.shape[x.shape.length - 1];
  const p = options.dropout ?? 0;
  const drop = (t: Tensor, key: string) => dropout(t, `${name}.${key}`, { p, training: p > 0 });
  // T5 drops the attention output, not its probabilities.
  const attn = attention(rmsNorm(x, `${name}.ln1`), `${name}.attn`, {
    ...options,
    scale: false,
    dropout: 0,
  });
  const h = g.add(x, drop(attn, "drop1"));
  const inner = g.relu(linear(rmsNorm(h, `${name}.ln2`), `${name}.ff.wi`, {
    outFeatures: options.dFf,
    bias: false,
    init: options.init,
  }));
  const ff = linear(drop(inner, "drop2"), `${name}.ff.wo`, {
    outFeatures: d,
    bias: false,
    init: options.init,
  });
  return g.add(h, drop(ff, "drop3"));
}

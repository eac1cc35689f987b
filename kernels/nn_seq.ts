/**
 * Composites of the sequential recommenders (SASRec, BERT4Rec, GRU4Rec,
 * Caser): layer norm with bias, a temporal convolution and a GRU, all built
 * from primitive ops, so that autodiff sees only the primitives and no new
 * gradient rule is needed. Params use PyTorch's names and layouts
 * (`weight_ih_l0`, Conv2d's `[out, 1, h, width]`), so checkpoint keys and
 * shapes read like the reference implementations'.
 *
 * A convolution is written as "unfold, then one MatMul" rather than as an
 * ONNX `Conv` primitive: Caser's filters span the whole embedding width, so
 * the unfolded windows are the GEMM operand anyway, and the gradients of
 * `Slice`, `Concat` and `MatMul` already exist and are checked.
 *
 * @module
 */

import type { Tensor } from "./graph.ts";
import { type Initializer, ones, xavier, zeros } from "./init.ts";

/** Options of {@linkcode layerNorm}. */
export interface LayerNormOptions {
  /** Added to the variance. @default 1e-12 (RecBole's; the SASRec paper's code uses 1e-8) */
  eps?: number;
}

/**
 * `(x - mean) / sqrt(var + eps) * weight + bias` over the last axis
 * (`torch.nn.LayerNorm`), params `<name>.weight` (ones) and `<name>.bias`
 * (zeros).
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { layerNorm } from "./nn_seq.ts";
 * const g = new Graph();
 * const y = layerNorm(g.input("x", "float32", [2, 5, 8]), "block.0.ln");
 * ```
 */
export function layerNorm(x: Tensor, name: string, options: LayerNormOptions = {}): Tensor {
  const g = x.graph;
  const d = x.shape[x.shape.length - 1];
  const w = g.param(`${name}.weight`, [d], { dtype: x.dtype, init: ones() });
  const b = g.param(`${name}.bias`, [d], { dtype: x.dtype, init: zeros() });
  const centred = g.sub(x, g.reduceMean(x, [-1], true));
  const variance = g.reduceMean(g.mul(centred, centred), [-1], true);
  const normed = g.div(centred, g.sqrt(g.add(variance, options.eps ?? 1e-12)));
  return g.add(g.mul(normed, w), b);
}

/** Options of {@linkcode temporalConv}. */
export interface TemporalConvOptions {
  /** Filter height: time steps each filter spans. */
  kernel: number;
  /** Number of filters. */
  outChannels: number;
  /** @default xavier() over `[out, 1, kernel, width]` */
  init?: Initializer;
}

/**
 * A valid (unpadded, stride 1) convolution over time of `x` `[B, T, C]` with
 * filters spanning all `C` features: `y[b, t, o] = sum_{k, c} W[o, 0, k, c]
 * x[b, t + k, c] + bias[o]`, shape `[B, T - kernel + 1, outChannels]`. This
 * is `Conv2d(1, out, (kernel, C))` on `x` as a one-channel image (Caser's
 * horizontal filters), computed as the unfolded windows `[B, T', kernel * C]`
 * times `W` reshaped to `[out, kernel * C]`.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { temporalConv } from "./nn_seq.ts";
 * const g = new Graph();
 * const y = temporalConv(g.input("x", "float32", [4, 5, 8]), "conv_h.2", { kernel: 3, outChannels: 16 });
 * console.log(y.shape); // [4, 3, 16]
 * ```
 */
export function temporalConv(x: Tensor, name: string, options: TemporalConvOptions): Tensor {
  const g = x.graph;
  const [b, t, c] = x.shape;
  const k = options.kernel, o = options.outChannels;
  if (x.shape.length !== 3 || !Number.isInteger(k) || k < 1 || k > t) {
    throw new TypeError(
      `temporalConv expects [B, T, C] input and a kernel in [1, T] but found [${x.shape}] and ${k}`,
    );
  }
  const w = g.param(`${name}.weight`, [o, 1, k, c], {
    dtype: x.dtype,
    init: options.init ?? xavier(),
  });
  const bias = g.param(`${name}.bias`, [o], { dtype: x.dtype, init: zeros() });
  const out = t - k + 1;
  const windows = k === 1
    ? x
    : g.concat(Array.from({ length: k }, (_, s) => g.slice(x, [s], [s + out], [1])), 2);
  const y = g.matMul(g.reshape(windows, [b * out, k * c]), g.transpose(g.reshape(w, [o, k * c])));
  return g.reshape(g.add(y, bias), [b, out, o]);
}

/** Options of {@linkcode gru}. */
export interface GruOptions {
  /** Hidden width H. */
  hidden: number;
  /**
   * `[B, T]` float: 1 where a new sequence starts at step t (the state is
   * reset to zero before it), so several sequences can share a row.
   * @default none (one sequence per row)
   */
  resets?: Tensor;
  /** Of the two weight matrices (biases start at zero). @default xavier(), as RecBole's GRU4Rec */
  init?: Initializer;
}

/**
 * A one-layer GRU over `x` `[B, T, D]` from a zero state, as `torch.nn.GRU`
 * (gates r, z, n in that order): `r = σ(W_ir x + b_ir + W_hr h + b_hr)`,
 * `z = σ(...)`, `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`,
 * `h' = (1 - z) ⊙ n + z ⊙ h`. Returns every step's state, `[B, T, H]`.
 * Params `<name>.weight_ih_l0` `[3H, D]`, `weight_hh_l0` `[3H, H]`,
 * `bias_ih_l0`, `bias_hh_l0` `[3H]`. The loop is unrolled over `T`.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { gru } from "./nn_seq.ts";
 * const g = new Graph();
 * const h = gru(g.input("x", "float32", [2, 4, 8]), "gru_layers", { hidden: 16 });
 * console.log(h.shape); // [2, 4, 16]
 * ```
 */
export function gru(x: Tensor, name: string, options: GruOptions): Tensor {
  const g = x.graph;
  const [b, t, d] = x.shape;
  const h3 = 3 * options.hidden, hw = options.hidden;
  if (x.shape.length !== 3) {
    throw new TypeError(`gru expects [B, T, D] input but found [${x.shape}]`);
  }
  const init = options.init ?? xavier();
  const param = (key: string, shape: number[], i: Initializer) =>
    g.param(`${name}.${key}`, shape, { dtype: x.dtype, init: i });
  const wIh = param("weight_ih_l0", [h3, d], init), wHh = param("weight_hh_l0", [h3, hw], init);
  const bIh = param("bias_ih_l0", [h3], zeros()), bHh = param("bias_hh_l0", [h3], zeros());
  const gates = (v: Tensor, from: number, to: number) => g.slice(v, [from], [to], [1]);
  // One MatMul per step on the step's inputs: slicing the [B, T, D] input
  // (rather than its [B, T, 3H] projection) keeps each Slice gradient's
  // zero padding 3H / D times smaller.
  const wIhT = g.transpose(wIh), wHhT = g.transpose(wHh);
  const keep = options.resets ? g.sub(1, options.resets) : undefined;
  const states: Tensor[] = [];
  let h: Tensor | undefined;
  for (let s = 0; s < t; s++) {
    const xs = g.add(g.matMul(g.reshape(g.slice(x, [s], [s + 1], [1]), [b, d]), wIhT), bIh);
    if (h && keep) h = g.mul(h, g.slice(keep, [s], [s + 1], [1]));
    const hs = h ? g.add(g.matMul(h, wHhT), bHh) : g.expand(bHh, [b, h3]);
    const rz = g.sigmoid(g.add(gates(xs, 0, 2 * hw), gates(hs, 0, 2 * hw)));
    const r = gates(rz, 0, hw), z = gates(rz, hw, 2 * hw);
    const n = g.tanh(g.add(gates(xs, 2 * hw, h3), g.mul(r, gates(hs, 2 * hw, h3))));
    // h' = n + z (h - n); from a zero state, n - z n.
    h = g.add(n, g.mul(z, h ? g.sub(h, n) : g.neg(n)));
    states.push(g.unsqueeze(h, [1]));
  }
  return t === 1 ? states[0] : g.concat(states, 1);
}

/**
 * Beam-search decoding with cached self-attention keys and values. The
 * recomputing step (`decoderStep` in `t5.ts`) runs the decoder over the
 * whole prefix at every step, so step `t` costs about `t` times step 1
 * (measured at the `cpu` and `paper` sizes: 17 -> 23 -> 48 ms and 311 ->
 * 560 -> 885 ms for the three steps of a Beauty id). The cached step feeds
 * only the newest token and the previous steps' keys and values of every
 * decoder layer (`past.<l>.k|v`, `[R, H, t - 1, dKv]`), and returns them
 * grown by one position (`present.<l>.k|v`). Beams are reordered between
 * steps by {@linkcode reorderCache}, from the parent rows beam search
 * reports.
 *
 * @module
 */

import type { Graph, Tensor } from "../kernels/mod.ts";
import {
  crossAttention,
  feedForward,
  heads,
  INPUTS,
  lmHead,
  merge,
  positionBias,
  proj,
  residual,
  rmsNorm,
  sharedEmbedding,
} from "./t5.ts";
import type { T5Config } from "./t5_config.ts";

/** Input of the newest token of each row, `[R, 1]`. */
export const LAST_IDS = "decoder_last_ids";

/** Names of layer `l`'s cached keys and values, as inputs (`past`) or outputs (`present`). */
export const cacheName = (kind: "past" | "present", l: number, kv: "k" | "v"): string =>
  `${kind}.${l}.${kv}`;

/**
 * One cached decoding step at prefix length `t` (the start token included):
 * outputs `logp` `[R, vocab]` and every layer's `present` keys and values.
 * For `t = 1` there is no `past` input.
 */
export function cachedDecoderStep(
  g: Graph,
  cfg: T5Config,
  shape: { batch: number; beams: number; encLen: number; t: number },
): Record<string, Tensor> {
  const { batch: b, beams, encLen: te, t } = shape;
  const { heads: h, dKv } = cfg;
  const rows = b * beams, inner = h * dKv;
  const encoderBias = g.input(INPUTS.encoderBias, "float32", [b, 1, 1, te]);
  const ids = g.input(LAST_IDS, "int64", [rows, 1]);
  // Row t - 1 of the causal decoder bias: the newest query sees every key.
  const bias = g.slice(positionBias(g, "decoder", cfg, t, "float32"), [t - 1], [t], [2]);
  const out: Record<string, Tensor> = {};
  let x = g.gather(sharedEmbedding(g, cfg), ids);
  for (let l = 0; l < cfg.decoderLayers; l++) {
    const sa = `decoder.block.${l}.layer.0`, name = `${sa}.SelfAttention`;
    const hn = rmsNorm(x, `${sa}.layer_norm`, cfg);
    const d = cfg.dModel;
    // Same params (and init specs) as selfAttention in t5.ts.
    const q = heads(proj(hn, `${name}.q`, inner, (d * dKv) ** -0.5), cfg);
    let k = heads(proj(hn, `${name}.k`, inner, d ** -0.5), cfg);
    let v = heads(proj(hn, `${name}.v`, inner, d ** -0.5), cfg);
    if (t > 1) {
      k = g.concat([g.input(cacheName("past", l, "k"), "float32", [rows, h, t - 1, dKv]), k], 2);
      v = g.concat([g.input(cacheName("past", l, "v"), "float32", [rows, h, t - 1, dKv]), v], 2);
    }
    out[cacheName("present", l, "k")] = k;
    out[cacheName("present", l, "v")] = v;
    const scores = g.add(g.matMul(q, g.transpose(k, [0, 1, 3, 2])), bias);
    const ctx = merge(g.matMul(g.softmax(scores, -1), v), cfg, [rows, 1]);
    x = g.add(x, proj(ctx, `${name}.o`, d, inner ** -0.5));
    const ca = `decoder.block.${l}.layer.1`, ff = `decoder.block.${l}.layer.2`;
    const cross = {
      k: g.input(`cross.${l}.k`, "float32", [b, h, dKv, te]),
      v: g.input(`cross.${l}.v`, "float32", [b, h, te, dKv]),
    };
    x = residual(
      x,
      ca,
      cfg,
      false,
      (hh) => crossAttention(hh, `${ca}.EncDecAttention`, cfg, cross, encoderBias, beams),
    );
    x = residual(x, ff, cfg, false, (hh) => feedForward(hh, `${ff}.DenseReluDense`, cfg, false));
  }
  const hidden = rmsNorm(x, "decoder.final_layer_norm", cfg);
  out.logp = g.reshape(g.logSoftmax(lmHead(hidden, cfg), -1), [rows, cfg.vocabSize]);
  return out;
}

/**
 * The `past` feeds of the next step: row `i` takes the `present` row of
 * `parents[i]` (a negative parent, a dead beam, gets zeros).
 */
export function reorderCache(present: Float32Array, parents: Int32Array): Float32Array {
  const rowSize = present.length / parents.length;
  const out = new Float32Array(present.length);
  for (let i = 0; i < parents.length; i++) {
    const p = parents[i];
    if (p >= 0) out.set(present.subarray(p * rowSize, (p + 1) * rowSize), i * rowSize);
  }
  return out;
}

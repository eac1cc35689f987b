/**
 * The self-attention stacks of SASRec and BERT4Rec over packed rows
 * (`seq_batches.ts`): `x` is `[R, L, d]`, and `mask` the additive attention
 * mask `[R, 1, L, L]` that keeps each user's tokens to themselves (and, for
 * SASRec, to the past). Two layouts:
 *
 * - `sasrec`, the SASRec paper's code (Kang & McAuley, ICDM 2018): per
 *   block, queries `q = LN(x)` attend over `x`, `x = q + attn`, then
 *   `x = LN(x)`, `x = x + FFN(x)` with a ReLU point-wise FFN and dropout
 *   after each of its two layers; a final layer norm.
 * - `post`, BERT's post-norm layout as RecBole's `TransformerEncoder`:
 *   `x = LN(x + drop(attn(x)))`, `x = LN(x + drop(FFN(x)))`, GELU FFN.
 *
 * Attention has biased projections and dropout on its probabilities, as
 * `torch.nn.MultiheadAttention` and RecBole's layer do.
 *
 * @module
 */

import {
  attention,
  dropout,
  gelu,
  type Initializer,
  layerNorm,
  linear,
  type Tensor,
} from "../kernels/mod.ts";

/** Options of {@linkcode transformerStack}. */
export interface TransformerOptions {
  readonly layout: "sasrec" | "post";
  readonly blocks: number;
  readonly heads: number;
  /** Inner width of the point-wise feed-forward. */
  readonly dFf: number;
  /** Dropout on hidden states (and, in `sasrec`, inside the FFN). */
  readonly dropout: number;
  /** Dropout on attention probabilities. */
  readonly attnDropout: number;
  /** Layer-norm epsilon. */
  readonly eps: number;
  readonly init: Initializer;
}

/**
 * Runs the blocks over `x` `[R, L, d]` with additive `mask`
 * `[R, 1, L, L]`; params under `<name>.<block>.*` (and `<name>.last_ln` for
 * `sasrec`).
 *
 * @example
 * ```ts
 * import { Graph, xavier } from "../kernels/mod.ts";
 * import { transformerStack } from "./seq_transformer.ts";
 * const g = new Graph();
 * const x = g.input("x", "float32", [2, 5, 8]), mask = g.input("mask", "float32", [2, 1, 5, 5]);
 * const h = transformerStack(x, mask, "blocks", {
 *   layout: "sasrec", blocks: 2, heads: 1, dFf: 8, dropout: 0, attnDropout: 0, eps: 1e-8, init: xavier(),
 * });
 * ```
 */
export function transformerStack(
  x: Tensor,
  mask: Tensor,
  name: string,
  options: TransformerOptions,
): Tensor {
  const g = x.graph;
  const d = x.shape[2];
  const { eps, init } = options;
  const drop = (t: Tensor, site: string, p = options.dropout) =>
    dropout(t, site, { p, training: p > 0 });
  const attend = (q: Tensor, kv: Tensor, prefix: string) =>
    attention(q, `${prefix}.attn`, {
      heads: options.heads,
      kv,
      bias: mask,
      projectionBias: true,
      dropout: options.attnDropout,
      init,
    });
  const dense = (t: Tensor, key: string, out: number) => linear(t, key, { outFeatures: out, init });
  let h = x;
  for (let b = 0; b < options.blocks; b++) {
    const p = `${name}.${b}`;
    if (options.layout === "sasrec") {
      const q = layerNorm(h, `${p}.attn_ln`, { eps });
      h = layerNorm(g.add(q, attend(q, h, p)), `${p}.ffn_ln`, { eps });
      const inner = g.relu(drop(dense(h, `${p}.ffn.conv1`, options.dFf), `${p}.ffn.drop1`));
      h = g.add(h, drop(dense(inner, `${p}.ffn.conv2`, d), `${p}.ffn.drop2`));
    } else {
      h = layerNorm(g.add(h, drop(attend(h, h, p), `${p}.attn_drop`)), `${p}.attn_ln`, { eps });
      const inner = gelu(dense(h, `${p}.ffn.dense1`, options.dFf));
      const ff = drop(dense(inner, `${p}.ffn.dense2`, d), `${p}.ffn_drop`);
      h = layerNorm(g.add(h, ff), `${p}.ffn_ln`, { eps });
    }
  }
  return options.layout === "sasrec" ? layerNorm(h, `${name}.last_ln`, { eps }) : h;
}

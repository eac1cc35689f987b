/**
 * Losses of the embedding recommenders (BPR, RecBole's EmbLoss, SimpleX's
 * CCL), as composites of the engine's primitive ops. The weighted ones run
 * over batches of fixed size whose samples carry a weight (1 = real,
 * 0 = padding of a wrapped last batch), so that every mean is over real
 * samples only.
 *
 * @module
 */

import { cosineSimilarity, softplus, type Tensor } from "../kernels/mod.ts";

/**
 * Bayesian personalised ranking loss: `mean(-log sigmoid(pos - neg))`,
 * computed as `mean(softplus(neg - pos))`.
 *
 * @example
 * ```ts
 * import { Graph } from "../kernels/mod.ts";
 * import { bprLoss } from "./rec_losses.ts";
 * const g = new Graph();
 * const loss = bprLoss(g.input("pos", "float32", [8]), g.input("neg", "float32", [8]));
 * ```
 */
export function bprLoss(pos: Tensor, neg: Tensor): Tensor {
  return pos.graph.reduceMean(softplus(pos.graph.sub(neg, pos)), undefined, false);
}

/**
 * `sum_b w_b * -log sigmoid(pos_b - neg_b) / sum_b w_b` (BPR), computed as
 * `softplus(neg - pos)`; `pos`, `neg`, `weights` are `[B]`.
 *
 * @example
 * ```ts
 * import { Graph } from "../kernels/mod.ts";
 * import { weightedBprLoss } from "./rec_losses.ts";
 * const g = new Graph();
 * const [p, n, w] = ["p", "n", "w"].map((k) => g.input(k, "float32", [8]));
 * const loss = weightedBprLoss(p, n, w);
 * ```
 */
export function weightedBprLoss(pos: Tensor, neg: Tensor, weights: Tensor): Tensor {
  const g = pos.graph;
  const total = g.reduceSum(g.mul(softplus(g.sub(neg, pos)), weights), undefined, false);
  return g.div(total, g.reduceSum(weights, undefined, false));
}

/** Options of {@linkcode embLoss}. */
export interface EmbLossOptions {
  /** Squared norms halved (true) or plain norms (false, RecBole's default). @default false */
  pow?: boolean;
}

/**
 * RecBole's `EmbLoss` over blocks of embedding rows `[B, ..., d]`, each
 * block's padded samples zeroed by `weights` `[B]`: `sum_k ‖X_k‖ / B`
 * (Frobenius norms of whole blocks, not squared: `require_pow = False`) or
 * `sum_k ‖X_k‖² / (2 B)` with `pow`, where `B` counts real samples.
 *
 * @example
 * ```ts
 * import { Graph } from "../kernels/mod.ts";
 * import { embLoss } from "./rec_losses.ts";
 * const g = new Graph();
 * const u = g.input("u", "float32", [8, 4]), w = g.input("w", "float32", [8]);
 * const penalty = embLoss([u], w);
 * ```
 */
export function embLoss(
  blocks: readonly Tensor[],
  weights: Tensor,
  options: EmbLossOptions = {},
): Tensor {
  const g = weights.graph;
  let sum: Tensor | undefined;
  for (const x of blocks) {
    const w = g.reshape(weights, [weights.shape[0], ...x.shape.slice(1).map(() => 1)]);
    const rows = g.mul(x, w);
    const sq = g.reduceSum(g.mul(rows, rows), undefined, false);
    const term = options.pow ? g.mul(sq, 0.5) : g.sqrt(sq);
    sum = sum ? g.add(sum, term) : term;
  }
  if (!sum) throw new TypeError("embLoss expects at least one block but found none");
  return g.div(sum, g.reduceSum(weights, undefined, false));
}

/** Options of {@linkcode cclLoss}. */
export interface CclOptions {
  margin: number;
  negativeWeight: number;
}

/**
 * Weighted cosine contrastive loss (SimpleX): `mean_b w_b (relu(1 - s(v, pe))
 * + negativeWeight * mean_j relu(s(v, ne_j) - margin))` over real samples,
 * `s` = cosine similarity; `v`, `pe` `[B, d]`, `ne` `[B, K, d]`.
 *
 * @example
 * ```ts
 * import { Graph } from "../kernels/mod.ts";
 * import { cclLoss } from "./rec_losses.ts";
 * const g = new Graph();
 * const v = g.input("v", "float32", [8, 4]), p = g.input("p", "float32", [8, 4]);
 * const n = g.input("n", "float32", [8, 5, 4]), w = g.input("w", "float32", [8]);
 * const loss = cclLoss(v, p, n, w, { margin: 0.5, negativeWeight: 10 });
 * ```
 */
export function cclLoss(
  v: Tensor,
  pe: Tensor,
  ne: Tensor,
  weights: Tensor,
  options: CclOptions,
): Tensor {
  const g = v.graph;
  const sPos = cosineSimilarity(v, pe);
  const sNeg = cosineSimilarity(g.unsqueeze(v, [1]), ne);
  const negLoss = g.reduceMean(g.relu(g.sub(sNeg, options.margin)), [1], false);
  const perSample = g.add(g.relu(g.sub(1, sPos)), g.mul(negLoss, options.negativeWeight));
  const total = g.reduceSum(g.mul(perSample, weights), undefined, false);
  return g.div(total, g.reduceSum(weights, undefined, false));
}

/**
 * The losses of the sequential recommenders, over positions that carry a
 * weight (1 = a real next item to predict, 0 = an empty slot of a packed
 * batch), as composites of the engine's primitive ops:
 *
 * - {@linkcode softmaxLoss}: cross-entropy over all items (SASRec with
 *   `loss=ce`, BERT4Rec, GRU4Rec and Caser, as RecBole trains them);
 * - {@linkcode sampledBceLoss}: binary cross-entropy of the next item against
 *   one sampled negative per position (the SASRec paper's loss).
 *
 * @module
 */

import { type Graph, softplus, type Tensor } from "../kernels/mod.ts";

/**
 * `sum_p w_p * -log softmax(logits_p)[targets_p] / max(sum_p w_p, 1)` for
 * `logits` `[P, C]`, integer `targets` `[P]` and `weights` `[P]`. The target's
 * log-probability is picked by a `Gather` over the flattened `[P * C]`
 * log-softmax, whose gradient scatters `P` values; a one-hot product would
 * add two more passes over the `P x C` block, the step's largest tensor.
 *
 * @example
 * ```ts
 * import { Graph } from "../kernels/mod.ts";
 * import { softmaxLoss } from "./seq_losses.ts";
 * const g = new Graph();
 * const loss = softmaxLoss(
 *   g.input("logits", "float32", [6, 10]),
 *   g.input("targets", "int32", [6]),
 *   g.input("weights", "float32", [6]),
 * );
 * ```
 */
export function softmaxLoss(logits: Tensor, targets: Tensor, weights: Tensor): Tensor {
  const g = logits.graph;
  const [p, c] = logits.shape;
  if (logits.shape.length !== 2 || targets.shape.length !== 1 || targets.shape[0] !== p) {
    throw new TypeError(
      `softmaxLoss expects [P, C] logits and [P] targets but found [${logits.shape}] and [${targets.shape}]`,
    );
  }
  const rowStart = g.constant(Array.from({ length: p }, (_, i) => i * c), "int64", [p]);
  const flat = g.add(rowStart, g.cast(targets, "int64"));
  const picked = g.gather(g.reshape(g.logSoftmax(logits, -1), [p * c]), flat);
  return weightedMean(g, g.neg(picked), weights);
}

/**
 * `sum_p w_p (-log σ(pos_p) - log(1 - σ(neg_p))) / max(sum_p w_p, 1)`, the
 * SASRec paper's loss, from the scores `pos` and `neg` `[P]` of each
 * position's next item and its sampled negative.
 *
 * @example
 * ```ts
 * import { Graph } from "../kernels/mod.ts";
 * import { sampledBceLoss } from "./seq_losses.ts";
 * const g = new Graph();
 * const [pos, neg, w] = ["pos", "neg", "w"].map((k) => g.input(k, "float32", [6]));
 * const loss = sampledBceLoss(pos, neg, w);
 * ```
 */
export function sampledBceLoss(pos: Tensor, neg: Tensor, weights: Tensor): Tensor {
  const g = pos.graph;
  return weightedMean(g, g.add(softplus(g.neg(pos)), softplus(neg)), weights);
}

function weightedMean(g: Graph, perPosition: Tensor, weights: Tensor): Tensor {
  const total = g.reduceSum(g.mul(perPosition, weights), undefined, false);
  return g.div(total, g.max(g.reduceSum(weights, undefined, false), 1));
}

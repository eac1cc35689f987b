/**
 * The validation loss a T5 recommender reaches if it ignores its prompt.
 *
 * A decoder that has learnt only the marginal distribution of training
 * items scores each target by that marginal: its chunk-by-chunk losses sum
 * to `-ln p(item)`. So the per-token loss of the (add-one smoothed)
 * training-item counts on the validation targets is the level of "learnt
 * item popularity and nothing else". A model whose validation loss is not
 * below it has not yet used the user or the items in its prompt, whatever
 * its ranking metrics say; the fit logs it beside the model's loss and
 * records it as `info.prior_valid_loss`.
 *
 * @module
 */

import type { Ragged } from "../harness/types.ts";

/**
 * Per-token cross entropy of add-one smoothed training-item counts on
 * `targets`. `tokens(item)` is the length of the item's target sequence
 * (eos included); with `padTo` set, padding positions up to that length are
 * counted as predicted exactly (the loss that does not ignore padding
 * averages over them, and a model that knows where eos falls gets them
 * free).
 *
 * @example
 * ```ts
 * import { popularityPriorLoss } from "./prior_loss.ts";
 * const train = { offsets: Uint32Array.of(0, 2, 3), values: Int32Array.of(1, 2, 1) };
 * // p = (3, 2, 1) / 6 for items 1, 2, 3; two targets of two tokens each.
 * console.log(popularityPriorLoss(train, 3, [1, 3], () => 2).toFixed(4)); // 0.6212
 * ```
 */
export function popularityPriorLoss(
  train: Ragged,
  nItems: number,
  targets: ArrayLike<number>,
  tokens: (item: number) => number,
  padTo?: number,
): number {
  const counts = new Float64Array(nItems + 1);
  for (const item of train.values) counts[item]++;
  const total = train.values.length + nItems;
  let nats = 0, positions = 0;
  for (let k = 0; k < targets.length; k++) {
    const item = targets[k];
    if (!(item >= 1 && item <= nItems)) {
      throw new RangeError(`Expected target items in 1..${nItems} but found ${item}`);
    }
    nats -= Math.log((counts[item] + 1) / total);
    positions += padTo ?? tokens(item);
  }
  return nats / positions;
}

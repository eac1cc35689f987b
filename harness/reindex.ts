/**
 * Seeded random re-numbering of item ids: the harness's answer to the
 * first-appearance numbering leak of the real data (`spec/methods.md`,
 * "Two known leaks"). After it, `max(history) + 1` is no better a guess than
 * any other unseen item.
 *
 * @module
 */

import type { Dataset, Ragged } from "./types.ts";
import { createRng } from "../kernels/mod.ts";
import { sha256TextSync } from "./dataset_hash.ts";

/**
 * The permutation {@linkcode reindexItems} applies: `newId[old]` for
 * `old` in 1..nItems (index 0 unused and 0). A bijection of 1..nItems drawn
 * from `createRng(seed).fork("reindex")`.
 *
 * @example
 * ```ts
 * import { itemPermutation } from "./reindex.ts";
 * const newId = itemPermutation(5, 42);
 * console.log(newId.length); // 6
 * ```
 */
export function itemPermutation(nItems: number, seed: number): Int32Array {
  const ids = Int32Array.from({ length: nItems }, (_, i) => i + 1);
  createRng(seed).fork("reindex").shuffle(ids);
  const newId = new Int32Array(nItems + 1);
  newId.set(ids, 1);
  return newId;
}

function mapRagged(r: Ragged, newId: Int32Array): Ragged {
  const values = new Int32Array(r.values.length);
  for (let k = 0; k < values.length; k++) values[k] = newId[r.values[k]];
  return { offsets: r.offsets, values };
}

/**
 * Applies {@linkcode itemPermutation} to the sequences and negatives; users,
 * order within sequences and `name` stay the same.
 *
 * The new `hash` is sha256 of `"<original hash>:reindex-random:<seed>"`
 * rather than of the rewritten text: it is as unique (the permutation is a
 * function of the seed alone) and costs nothing, so it stays synchronous.
 *
 * @example
 * ```ts
 * import { reindexItems } from "./reindex.ts";
 * import { generateSynthetic } from "./synthetic.ts";
 * const ds = reindexItems(await generateSynthetic(), 7);
 * console.log(ds.nItems); // 400
 * ```
 */
export function reindexItems(dataset: Dataset, seed: number): Dataset {
  const newId = itemPermutation(dataset.nItems, seed);
  const sequences = mapRagged(dataset.sequences, newId);
  const base = {
    name: dataset.name,
    nUsers: dataset.nUsers,
    nItems: dataset.nItems,
    sequences,
    hash: sha256TextSync(`${dataset.hash}:reindex-random:${seed}`),
    source: `${dataset.source} (items reindexed at random, seed ${seed})`,
  };
  return dataset.negatives === undefined
    ? base
    : { ...base, negatives: mapRagged(dataset.negatives, newId) };
}

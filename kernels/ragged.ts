/**
 * Ragged rows of ids in CSR form (offsets + values): a dataset's sequences,
 * a split's training items, a user's negatives. Bulk data stays a handful
 * of typed arrays, not one object per row.
 *
 * @module
 */

/** Ragged rows of ids in CSR form: row r is `values[offsets[r] .. offsets[r+1])`. */
export interface Ragged {
  readonly offsets: Uint32Array;
  readonly values: Int32Array;
}

/**
 * One row of a {@linkcode Ragged} as a view (no copy).
 *
 * @example
 * ```ts
 * import { row } from "./ragged.ts";
 * const r = { offsets: new Uint32Array([0, 2, 3]), values: new Int32Array([7, 8, 9]) };
 * console.log(Array.from(row(r, 0))); // [7, 8]
 * ```
 */
export function row(r: Ragged, index: number): Int32Array {
  return r.values.subarray(r.offsets[index], r.offsets[index + 1]);
}

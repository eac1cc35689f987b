/**
 * Top-k selection over rows of scores without sorting whole rows.
 *
 * Each row streams through a size-k min-heap whose root is the worst kept
 * entry, so a row of n scores costs O(n log k) in the worst case and about
 * O(n) when most scores lose against the root at once; only the k survivors
 * are sorted.
 *
 * Order: values descending; equal values by lower index first. NaN scores
 * and excluded indices are never selected. A row with fewer than k
 * candidates is padded with index -1 and value NaN.
 *
 * @module
 */

import type { Ragged } from "./ragged.ts";

/** Options of {@linkcode topK}. */
export interface TopKOptions {
  /** How many rows `scores` holds; each row has `scores.length / rows` columns. @default 1 */
  rows?: number;
  /**
   * Column indices to skip, per row: row `r` skips
   * `exclude.values[exclude.offsets[r] .. exclude.offsets[r + 1])`
   * (e.g. a user's history items). @default none
   */
  exclude?: Ragged;
}

/** `rows x k` winners, row-major, best first. */
export interface TopKResult {
  readonly rows: number;
  readonly k: number;
  /** Column indices; -1 where a row had fewer than k candidates. */
  readonly indices: Int32Array;
  /** The winning scores; NaN where the index is -1. */
  readonly values: Float32Array;
}

/**
 * Returns the `k` best columns of each row of `scores`, best first, ties
 * broken by lower index.
 *
 * @example
 * ```ts
 * import { topK } from "./topk.ts";
 * const scores = new Float32Array([0.1, 0.9, 0.5, 0.9, 3, 2, 1, 0]); // two rows of 4
 * const { indices } = topK(scores, 2, { rows: 2 });
 * console.log(Array.from(indices)); // [1, 3, 0, 1]
 * ```
 */
export function topK(scores: Float32Array, k: number, options: TopKOptions = {}): TopKResult {
  const rows = options.rows ?? 1;
  if (!Number.isInteger(rows) || rows < 1) {
    throw new RangeError(`Expected rows to be a positive integer but found ${rows}`);
  }
  if (!Number.isInteger(k) || k < 0) {
    throw new RangeError(`Expected k to be a non-negative integer but found ${k}`);
  }
  const n = scores.length / rows;
  if (!Number.isInteger(n)) {
    throw new TypeError(
      `Expected scores to hold ${rows} equal rows but found ${scores.length} values`,
    );
  }
  const exclude = options.exclude;
  if (exclude !== undefined && exclude.offsets.length !== rows + 1) {
    throw new TypeError(
      `Expected exclude to have ${rows + 1} offsets (rows + 1) but found ${exclude.offsets.length}`,
    );
  }
  const indices = new Int32Array(rows * k).fill(-1);
  const values = new Float32Array(rows * k).fill(NaN);
  const heapV = new Float32Array(k);
  const heapI = new Int32Array(k);
  const skip = exclude === undefined ? undefined : new Uint8Array(n);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    if (skip !== undefined) markExcluded(skip, exclude!, r, n, 1);
    let size = 0;
    for (let j = 0; j < n; j++) {
      const v = scores[base + j];
      // Later indices lose ties, so only a strictly better score can enter a full heap.
      if (size === k ? !(v > heapV[0]) : v !== v) continue;
      if (skip !== undefined && skip[j] === 1) continue;
      if (size < k) {
        siftUp(heapV, heapI, size++, v, j);
      } else {
        siftDown(heapV, heapI, k, v, j);
      }
    }
    if (skip !== undefined) markExcluded(skip, exclude!, r, n, 0);
    // Pop the heap worst-first into the back of the row: a heap sort of k items.
    const out = r * k;
    for (let m = size - 1; m >= 0; m--) {
      indices[out + m] = heapI[0];
      values[out + m] = heapV[0];
      siftDown(heapV, heapI, m, heapV[m], heapI[m]);
    }
  }
  return { rows, k, indices, values };
}

function markExcluded(skip: Uint8Array, ex: Ragged, r: number, n: number, mark: 0 | 1): void {
  for (let p = ex.offsets[r]; p < ex.offsets[r + 1]; p++) {
    const j = ex.values[p];
    if (mark === 1 && !(j >= 0 && j < n)) {
      throw new RangeError(`Expected excluded indices in [0, ${n}) but found ${j} in row ${r}`);
    }
    skip[j] = mark;
  }
}

/** True when (va, ia) ranks below (vb, ib): lower value, or equal value and higher index. */
function worse(va: number, ia: number, vb: number, ib: number): boolean {
  return va < vb || (va === vb && ia > ib);
}

function siftUp(hv: Float32Array, hi: Int32Array, pos: number, v: number, i: number): void {
  while (pos > 0) {
    const parent = (pos - 1) >> 1;
    if (!worse(v, i, hv[parent], hi[parent])) break;
    hv[pos] = hv[parent];
    hi[pos] = hi[parent];
    pos = parent;
  }
  hv[pos] = v;
  hi[pos] = i;
}

/** Puts (v, i) at the root of a heap of `size` and sifts it down. */
function siftDown(hv: Float32Array, hi: Int32Array, size: number, v: number, i: number): void {
  let pos = 0;
  for (;;) {
    let child = 2 * pos + 1;
    if (child >= size) break;
    if (child + 1 < size && worse(hv[child + 1], hi[child + 1], hv[child], hi[child])) child++;
    if (!worse(hv[child], hi[child], v, i)) break;
    hv[pos] = hv[child];
    hi[pos] = hi[child];
    pos = child;
  }
  if (size > 0) {
    hv[pos] = v;
    hi[pos] = i;
  }
}

/**
 * The reference: sorts every row in full. Same contract as {@linkcode topK};
 * kept for tests and as the benchmark's naive alternative.
 *
 * @example
 * ```ts
 * import { topKBySort } from "./topk.ts";
 * console.log(Array.from(topKBySort(new Float32Array([1, 3, 2]), 2).indices)); // [1, 2]
 * ```
 */
export function topKBySort(scores: Float32Array, k: number, options: TopKOptions = {}): TopKResult {
  const rows = options.rows ?? 1;
  const n = scores.length / rows;
  const indices = new Int32Array(rows * k).fill(-1);
  const values = new Float32Array(rows * k).fill(NaN);
  for (let r = 0; r < rows; r++) {
    const skip = new Set<number>();
    const ex = options.exclude;
    if (ex !== undefined) {
      for (let p = ex.offsets[r]; p < ex.offsets[r + 1]; p++) skip.add(ex.values[p]);
    }
    const cand: number[] = [];
    for (let j = 0; j < n; j++) {
      if (!skip.has(j) && !Number.isNaN(scores[r * n + j])) cand.push(j);
    }
    cand.sort((a, b) => scores[r * n + b] - scores[r * n + a] || a - b);
    for (let m = 0; m < Math.min(k, cand.length); m++) {
      indices[r * k + m] = cand[m];
      values[r * k + m] = scores[r * n + cand[m]];
    }
  }
  return { rows, k, indices, values };
}

/**
 * Sparse matrices in CSR form and the normalized user-item adjacency
 * `Â = D^-1/2 A D^-1/2` that LightGCN and ELMRec propagate over.
 *
 * Node numbering follows the spec (methods.md §2 and §4): node 0 is unused
 * (an isolated row), user `u` is node `u`, item `i` is node `nUsers + i`.
 *
 * @module
 */

import type { Ragged } from "./ragged.ts";

/**
 * A float32 sparse matrix in compressed sparse row form. Row `r` holds the
 * entries `columns[k], values[k]` for `k` in `offsets[r] .. offsets[r + 1]`,
 * sorted by column. Int32 indices let the WebAssembly kernels read the arrays
 * as they are.
 */
export interface CsrMatrix {
  readonly nRows: number;
  readonly nCols: number;
  /** `nRows + 1` row starts; `offsets[nRows]` is the number of non-zeros. */
  readonly offsets: Int32Array;
  readonly columns: Int32Array;
  readonly values: Float32Array;
  /** True when the matrix is known to equal its transpose (products then skip transposing). */
  readonly symmetric?: boolean;
}

/** Number of nodes of the bipartite graph: users + items + the unused node 0. */
export function graphSize(nUsers: number, nItems: number): number {
  return nUsers + nItems + 1;
}

/**
 * Builds the symmetric normalized adjacency of the user-item training graph,
 * without self loops: entry `(r, c)` is `1 / sqrt(deg(r) * deg(c))` for every
 * distinct edge. A user who bought the same item twice gets one edge, so the
 * degrees count distinct neighbours.
 *
 * @param nUsers Number of users; row `u - 1` of `train` is user `u`.
 * @param nItems Number of items; item ids in `train` are in `1 .. nItems`.
 * @param train Each user's training items (1-based item ids).
 * @returns An `n x n` matrix with `n = nUsers + nItems + 1`.
 *
 * @example
 * ```ts
 * import { normalizedAdjacency } from "./adjacency.ts";
 * // user 1 bought items 1 and 2; user 2 bought item 2
 * const train = { offsets: new Uint32Array([0, 2, 3]), values: new Int32Array([1, 2, 2]) };
 * const a = normalizedAdjacency(2, 2, train);
 * console.log(a.nRows, a.offsets[a.nRows]); // 5 6
 * ```
 */
export function normalizedAdjacency(nUsers: number, nItems: number, train: Ragged): CsrMatrix {
  for (const [name, v] of [["nUsers", nUsers], ["nItems", nItems]] as const) {
    if (!Number.isInteger(v) || v < 0) {
      throw new RangeError(`Expected ${name} to be a non-negative integer but found ${v}`);
    }
  }
  if (train.offsets.length !== nUsers + 1) {
    throw new TypeError(
      `Expected train to have ${nUsers + 1} offsets (nUsers + 1) but found ${train.offsets.length}`,
    );
  }
  const n = graphSize(nUsers, nItems);
  // Distinct sorted items per user: deduplicates edges and makes user rows sorted.
  const userItems: Int32Array[] = new Array(nUsers);
  const degree = new Int32Array(n);
  for (let u = 0; u < nUsers; u++) {
    const items = train.values.slice(train.offsets[u], train.offsets[u + 1]).sort();
    let m = 0;
    for (let k = 0; k < items.length; k++) {
      const item = items[k];
      if (!Number.isInteger(item) || item < 1 || item > nItems) {
        throw new RangeError(
          `Expected item ids in [1, ${nItems}] but found ${item} for user ${u + 1}`,
        );
      }
      if (m === 0 || items[m - 1] !== item) items[m++] = item;
    }
    userItems[u] = items.subarray(0, m);
    degree[u + 1] = m;
    for (let k = 0; k < m; k++) degree[nUsers + items[k]]++;
  }
  const offsets = new Int32Array(n + 1);
  for (let r = 0; r < n; r++) offsets[r + 1] = offsets[r] + degree[r];
  const nnz = offsets[n];
  const columns = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  const dinv = new Float64Array(n);
  for (let r = 0; r < n; r++) dinv[r] = degree[r] > 0 ? 1 / Math.sqrt(degree[r]) : 0;
  const fill = offsets.slice(0, n);
  // Users are visited in increasing order, so item rows come out sorted too.
  for (let u = 1; u <= nUsers; u++) {
    const items = userItems[u - 1];
    for (let k = 0; k < items.length; k++) {
      const node = nUsers + items[k];
      const w = dinv[u] * dinv[node];
      const pu = fill[u]++;
      columns[pu] = node;
      values[pu] = w;
      const pi = fill[node]++;
      columns[pi] = u;
      values[pi] = w;
    }
  }
  return { nRows: n, nCols: n, offsets, columns, values, symmetric: true };
}

/**
 * Builds a CSR matrix from coordinate triplets, summing repeated entries.
 * Handy for tests and for external ("faithful") edge lists.
 *
 * @example
 * ```ts
 * import { fromCoo } from "./adjacency.ts";
 * const a = fromCoo(2, 2, [0, 1, 1], [1, 0, 0], [1, 2, 3]);
 * console.log(Array.from(a.values)); // [1, 5]
 * ```
 */
export function fromCoo(
  nRows: number,
  nCols: number,
  rows: ArrayLike<number>,
  cols: ArrayLike<number>,
  vals: ArrayLike<number>,
): CsrMatrix {
  if (rows.length !== cols.length || rows.length !== vals.length) {
    throw new TypeError(
      `Expected rows, cols and vals of equal length but found ${rows.length}, ${cols.length}, ${vals.length}`,
    );
  }
  const order = Array.from({ length: rows.length }, (_, k) => k);
  for (let k = 0; k < rows.length; k++) {
    if (!(rows[k] >= 0 && rows[k] < nRows && cols[k] >= 0 && cols[k] < nCols)) {
      throw new RangeError(
        `Expected entry ${k} inside ${nRows} x ${nCols} but found (${rows[k]}, ${cols[k]})`,
      );
    }
  }
  order.sort((p, q) => rows[p] - rows[q] || cols[p] - cols[q]);
  const offsets = new Int32Array(nRows + 1);
  const columns: number[] = [];
  const values: number[] = [];
  let lastR = -1, lastC = -1;
  for (const k of order) {
    if (rows[k] === lastR && cols[k] === lastC) {
      values[values.length - 1] += vals[k];
      continue;
    }
    lastR = rows[k];
    lastC = cols[k];
    columns.push(lastC);
    values.push(vals[k]);
    offsets[lastR + 1]++;
  }
  for (let r = 0; r < nRows; r++) offsets[r + 1] += offsets[r];
  return {
    nRows,
    nCols,
    offsets,
    columns: Int32Array.from(columns),
    values: Float32Array.from(values),
  };
}

/**
 * Transposes a CSR matrix (a counting sort by column), keeping rows sorted.
 * `Â` is symmetric, so propagation never needs this; it backs the general
 * `spmmT` path and non-symmetric inputs.
 *
 * @example
 * ```ts
 * import { fromCoo, transpose } from "./adjacency.ts";
 * const t = transpose(fromCoo(1, 3, [0, 0], [0, 2], [1, 2]));
 * console.log(t.nRows, Array.from(t.offsets)); // 3 [0, 1, 1, 2]
 * ```
 */
export function transpose(a: CsrMatrix): CsrMatrix {
  const nnz = a.offsets[a.nRows];
  const offsets = new Int32Array(a.nCols + 1);
  for (let k = 0; k < nnz; k++) offsets[a.columns[k] + 1]++;
  for (let c = 0; c < a.nCols; c++) offsets[c + 1] += offsets[c];
  const fill = offsets.slice(0, a.nCols);
  const columns = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  for (let r = 0; r < a.nRows; r++) {
    for (let k = a.offsets[r]; k < a.offsets[r + 1]; k++) {
      const p = fill[a.columns[k]]++;
      columns[p] = r;
      values[p] = a.values[k];
    }
  }
  return { nRows: a.nCols, nCols: a.nRows, offsets, columns, values };
}

/**
 * A random user-item training set shaped like a real one (heavy-tailed item
 * popularity), for benchmarks and tests when no data directory is around.
 *
 * @example
 * ```ts
 * import { createRng } from "./rng.ts";
 * import { syntheticTrain } from "./adjacency.ts";
 * const train = syntheticTrain(100, 50, 800, createRng(1));
 * console.log(train.offsets.length); // 101
 * ```
 */
export function syntheticTrain(
  nUsers: number,
  nItems: number,
  nInteractions: number,
  rng: { next(): number; int(n: number): number },
): Ragged {
  const offsets = new Uint32Array(nUsers + 1);
  for (let u = 0; u < nUsers; u++) {
    // Spread the interactions evenly, with +-50% jitter per user.
    const mean = nInteractions / nUsers;
    offsets[u + 1] = offsets[u] + Math.max(1, Math.round(mean * (0.5 + rng.next())));
  }
  const values = new Int32Array(offsets[nUsers]);
  for (let k = 0; k < values.length; k++) {
    // Squaring a uniform draw skews towards low ids: a cheap popularity tail.
    const x = rng.next();
    values[k] = 1 + Math.min(nItems - 1, Math.floor(x * x * nItems));
  }
  return { offsets, values };
}

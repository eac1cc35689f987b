/**
 * The user-item interaction graph that LightGCN and ELMRec propagate over:
 * its normalized adjacency `Â = D^-1/2 A D^-1/2` built from each user's
 * training items, and a synthetic training set of a real one's shape for
 * tests and benchmarks. The CSR matrix and the normalisation are the
 * engine's (`kernels/adjacency.ts`); the numbering is the recommenders'.
 *
 * Node numbering follows the spec (methods.md §2 and §4): node 0 is unused
 * (an isolated row), user `u` is node `u`, item `i` is node `nUsers + i`.
 *
 * @module
 */

import { type CsrMatrix, normalizeSymmetric, type Ragged } from "../kernels/mod.ts";

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
 * import { normalizedAdjacency } from "./interaction_graph.ts";
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
  const fill = offsets.slice(0, n);
  // Users are visited in increasing order, so item rows come out sorted too.
  for (let u = 1; u <= nUsers; u++) {
    const items = userItems[u - 1];
    for (let k = 0; k < items.length; k++) {
      const node = nUsers + items[k];
      columns[fill[u]++] = node;
      columns[fill[node]++] = u;
    }
  }
  const values = new Float32Array(nnz).fill(1);
  return normalizeSymmetric({ nRows: n, nCols: n, offsets, columns, values, symmetric: true });
}

/**
 * A random user-item training set shaped like a real one (heavy-tailed item
 * popularity), for benchmarks and tests when no data directory is around.
 *
 * @example
 * ```ts
 * import { createRng } from "../kernels/mod.ts";
 * import { syntheticTrain } from "./interaction_graph.ts";
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

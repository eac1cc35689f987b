/**
 * Sparse matrices in CSR form: building one from coordinates, transposing,
 * and the symmetric normalisation `D^-1/2 A D^-1/2` that graph propagation
 * runs over (`spmm.ts`). Which graph, and how its nodes are numbered, is
 * the caller's (the user-item graph: `models/interaction_graph.ts`).
 *
 * @module
 */

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
 * A normalised adjacency is symmetric, so propagation never needs this; it backs the general
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
 * The symmetric normalisation `D^-1/2 A D^-1/2` of a square matrix, with
 * degrees the row sums: entry `(r, c)` becomes `a_rc / sqrt(deg(r) * deg(c))`
 * (a row of degree 0 stays empty). The structure is kept, and so is the
 * `symmetric` mark of `a`, which a symmetric `a` should carry: products
 * then skip transposing.
 *
 * @example
 * ```ts
 * import { fromCoo, normalizeSymmetric } from "./adjacency.ts";
 * // the path 0 - 1 - 2: degrees 1, 2, 1
 * const a = normalizeSymmetric({ ...fromCoo(3, 3, [0, 1, 1, 2], [1, 0, 2, 1], [1, 1, 1, 1]), symmetric: true });
 * console.log(Array.from(a.values, (v) => v.toFixed(4))); // ["0.7071", "0.7071", "0.7071", "0.7071"]
 * ```
 */
export function normalizeSymmetric(a: CsrMatrix): CsrMatrix {
  if (a.nRows !== a.nCols) {
    throw new TypeError(`Expected a square matrix but found ${a.nRows} x ${a.nCols}`);
  }
  const n = a.nRows;
  const dinv = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let degree = 0;
    for (let k = a.offsets[r]; k < a.offsets[r + 1]; k++) degree += a.values[k];
    dinv[r] = degree > 0 ? 1 / Math.sqrt(degree) : 0;
  }
  const values = new Float32Array(a.values.length);
  for (let r = 0; r < n; r++) {
    for (let k = a.offsets[r]; k < a.offsets[r + 1]; k++) {
      values[k] = a.values[k] * dinv[r] * dinv[a.columns[k]];
    }
  }
  return { ...a, values };
}

/**
 * Sparse-dense products `Y = A X` for graph propagation (LightGCN, ELMRec).
 *
 * `A` is a {@linkcode CsrMatrix}; `X` is dense, `nCols x d`, row-major in a
 * `Float32Array`, and `d` is inferred from its length. The hot path is a
 * WebAssembly SIMD kernel (emitted by `_spmm_wasm.ts`) over a heap that keeps
 * recently used matrices resident, optionally split by rows over worker
 * threads that share the heap ({@linkcode createSparseEngine}). Widths that
 * are not a multiple of 4 take a plain JS loop ({@linkcode spmmJs}).
 *
 * The layer mean runs its L products over two layer buffers in the heap,
 * with the sum, the first layer's `x0` and the last layer's scaling fused
 * into the products. Arrays allocated in the heap ({@linkcode
 * SparseEngine.alloc}) are read and written in place, so a training loop
 * that keeps its table, its propagated table and their gradients there
 * copies nothing per product (LightGCN's trainer; the optimizer of
 * `table_adam.ts` updates such a table in place).
 *
 * Matrices are treated as immutable: a matrix is copied into the heap on
 * first use and recognised by identity afterwards.
 *
 * @module
 */

import { MAX_THREADS, startHeap, syncHeap } from "./_wasm_heap.ts";
import type { CsrMatrix } from "./adjacency.ts";
import { Engine } from "./_sparse_engine.ts";

export { spmmJs } from "./_sparse_engine.ts";

/** Options of the sparse products. */
export interface SpmmOptions {
  /** Where to write the result (`nRows * d` floats). @default a new array */
  out?: Float32Array;
}

/** Options of {@linkcode SparseEngine.propagateMean}. */
export interface PropagateOptions extends SpmmOptions {
  /** Number of propagation layers `L`; the mean runs over layers `0 .. L`. @default 3 */
  layers?: number;
  /**
   * The rows of the mean that are needed (a batch's nodes): the last layer
   * is computed for these rows only, and the other rows of `out` are left
   * undefined. @default every row
   */
  rows?: Int32Array;
  /**
   * The rows of `x0` that may be non-zero; the others must be zero (a
   * batch's gradient). The first product then reads these rows only.
   * @default every row
   */
  inputRows?: Int32Array;
}

/** Sparse products bound to one heap and a fixed number of threads. */
export interface SparseEngine {
  /** Threads that share each product (the caller's plus workers). */
  readonly threads: number;
  /** `A x`. */
  spmm(a: CsrMatrix, x: Float32Array, options?: SpmmOptions): Float32Array;
  /** `A^T g`, through `a` itself when it is marked symmetric. */
  spmmT(a: CsrMatrix, g: Float32Array, options?: SpmmOptions): Float32Array;
  /** `mean(x0, A x0, ..., A^L x0)`. */
  propagateMean(a: CsrMatrix, x0: Float32Array, options?: PropagateOptions): Float32Array;
  /** Gradient of {@linkcode propagateMean} w.r.t. `x0`: `mean_l (A^T)^l g`. */
  propagateMeanBackward(a: CsrMatrix, g: Float32Array, options?: PropagateOptions): Float32Array;
  /**
   * `floats` zeros in the engine's heap, as a view that stays valid until
   * {@linkcode free}. Products given such views (as `x`, `x0`, `g` or `out`)
   * read and write them in place instead of copying them in and out.
   */
  alloc(floats: number): Float32Array;
  /** Releases a view made by {@linkcode alloc}. */
  free(view: Float32Array): void;
  /**
   * `out[k] = table[ids[k]]`, rows of `out.length / ids.length` floats: a
   * batch's rows of a table, for a session's inputs. A table in the heap is
   * read by a SIMD kernel, another by a JS loop.
   */
  gatherRows(table: Float32Array, ids: Int32Array, out: Float32Array): Float32Array;
  /**
   * `table[ids[k]] += rows[k]` in the order of `k` (repeated ids add up),
   * rows of `rows.length / ids.length` floats: a session's row gradients
   * scattered into a table's.
   */
  addRows(table: Float32Array, ids: Int32Array, rows: Float32Array): void;
  /** Stops the workers; the engine cannot be used afterwards. */
  close(): void;
}

/** Options of {@linkcode createSparseEngine}. */
export interface SparseEngineOptions {
  /** Threads per product, the caller's included. @default navigator.hardwareConcurrency */
  threads?: number;
}

/**
 * Starts a sparse engine whose products are split by rows over `threads`
 * threads (the caller's and `threads - 1` workers sharing one heap). The
 * products themselves are synchronous. Call `close()` when done, or the
 * workers keep the process alive.
 *
 * @example
 * ```ts
 * import { fromCoo } from "./adjacency.ts";
 * import { createSparseEngine } from "./spmm.ts";
 * const engine = await createSparseEngine({ threads: 2 });
 * const a = fromCoo(2, 2, [0, 1], [1, 0], [1, 1]);
 * console.log(engine.spmm(a, new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]))); // [5, 6, 7, 8, 1, 2, 3, 4]
 * engine.close();
 * ```
 */
export async function createSparseEngine(options: SparseEngineOptions = {}): Promise<SparseEngine> {
  const threads = options.threads ?? navigator.hardwareConcurrency ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new RangeError(`Expected threads in [1, ${MAX_THREADS}] but found ${threads}`);
  }
  return new Engine(await startHeap(threads));
}

let single: Engine | undefined;
function defaultEngine(): Engine {
  return single ??= new Engine(syncHeap());
}

/**
 * `y = A x` on the calling thread (WebAssembly SIMD when `d % 4 == 0`).
 *
 * @example
 * ```ts
 * import { fromCoo } from "./adjacency.ts";
 * import { spmm } from "./spmm.ts";
 * const a = fromCoo(2, 2, [0, 1], [1, 0], [2, 3]);
 * console.log(Array.from(spmm(a, new Float32Array([1, 1, 1, 1, 5, 5, 5, 5]))));
 * // [10, 10, 10, 10, 3, 3, 3, 3]
 * ```
 */
export function spmm(a: CsrMatrix, x: Float32Array, options?: SpmmOptions): Float32Array {
  return defaultEngine().spmm(a, x, options);
}

/**
 * `y = A^T g` on the calling thread; for a symmetric `a` (like the
 * {@linkcode normalizeSymmetric} of an undirected graph) this is `spmm(a, g)`.
 *
 * @example
 * ```ts
 * import { fromCoo } from "./adjacency.ts";
 * import { spmmT } from "./spmm.ts";
 * const a = fromCoo(1, 2, [0], [1], [3]);
 * console.log(Array.from(spmmT(a, new Float32Array([1, 2, 3, 4])))); // [0, 0, 0, 0, 3, 6, 9, 12]
 * ```
 */
export function spmmT(a: CsrMatrix, g: Float32Array, options?: SpmmOptions): Float32Array {
  return defaultEngine().spmmT(a, g, options);
}

/**
 * The LightGCN / ELMRec layer mean `(x0 + A x0 + ... + A^L x0) / (L + 1)`,
 * on the calling thread.
 *
 * @example
 * ```ts
 * import { fromCoo } from "./adjacency.ts";
 * import { propagateMean } from "./spmm.ts";
 * const a = fromCoo(2, 2, [0, 1], [1, 0], [1, 1]);
 * const x = new Float32Array([1, 1, 1, 1, 3, 3, 3, 3]);
 * console.log(propagateMean(a, x, { layers: 1 })[0]); // 2
 * ```
 */
export function propagateMean(
  a: CsrMatrix,
  x0: Float32Array,
  options?: PropagateOptions,
): Float32Array {
  return defaultEngine().propagateMean(a, x0, options);
}

/**
 * Backward of {@linkcode propagateMean}: given `g = dLoss/dOut`, returns
 * `dLoss/dx0 = mean_l (A^T)^l g` over layers `0 .. L`.
 *
 * @example
 * ```ts
 * import { fromCoo } from "./adjacency.ts";
 * import { propagateMeanBackward } from "./spmm.ts";
 * const a = fromCoo(2, 2, [0], [1], [1]);
 * const g = new Float32Array([1, 1, 1, 1, 0, 0, 0, 0]);
 * console.log(propagateMeanBackward(a, g, { layers: 1 })[4]); // 0.5
 * ```
 */
export function propagateMeanBackward(
  a: CsrMatrix,
  g: Float32Array,
  options?: PropagateOptions,
): Float32Array {
  return defaultEngine().propagateMeanBackward(a, g, options);
}

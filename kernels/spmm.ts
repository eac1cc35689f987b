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

import { type CsrMatrix, transpose } from "./adjacency.ts";
import { MAX_THREADS, startHeap, syncHeap, type WasmHeap } from "./_wasm_heap.ts";

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

function widthOf(a: CsrMatrix, x: Float32Array, what: string): number {
  const d = x.length / a.nCols;
  if (a.nCols === 0 || !Number.isInteger(d) || d === 0) {
    throw new TypeError(
      `Expected ${what} to hold nCols x d = ${a.nCols} x d floats but found ${x.length}`,
    );
  }
  return d;
}

function outFor(a: CsrMatrix, d: number, out: Float32Array | undefined): Float32Array {
  if (out === undefined) return new Float32Array(a.nRows * d);
  if (out.length !== a.nRows * d) {
    throw new TypeError(`Expected out to hold ${a.nRows} x ${d} floats but found ${out.length}`);
  }
  return out;
}

/** The row width of a gather or scatter between `table` and `ids.length` rows of `rows`. */
function rowWidth(table: Float32Array, ids: Int32Array, rows: Float32Array, what: string): number {
  const d = ids.length === 0 ? 4 : rows.length / ids.length;
  if (!Number.isInteger(d) || d === 0 || table.length % d !== 0) {
    throw new TypeError(
      `Expected ${what} to hold ${ids.length} rows of a table of ${table.length} floats but found ${rows.length} floats`,
    );
  }
  return d;
}

function checkLayers(layers: number): void {
  if (!Number.isInteger(layers) || layers < 0) {
    throw new RangeError(`Expected layers to be a non-negative integer but found ${layers}`);
  }
}

/**
 * `y = A x` in plain JS: the reference kernel and the fallback for widths
 * that are not a multiple of 4. The first non-zero of a row initialises the
 * output row, which spares a separate zeroing pass.
 *
 * @example
 * ```ts
 * import { fromCoo } from "./adjacency.ts";
 * import { spmmJs } from "./spmm.ts";
 * const a = fromCoo(2, 2, [0, 1], [1, 0], [2, 3]);
 * console.log(Array.from(spmmJs(a, new Float32Array([1, 10])))); // [20, 3]
 * ```
 */
export function spmmJs(a: CsrMatrix, x: Float32Array, options: SpmmOptions = {}): Float32Array {
  const d = widthOf(a, x, "x");
  const y = outFor(a, d, options.out);
  const { offsets, columns, values, nRows } = a;
  const d4 = d - (d % 4);
  for (let r = 0; r < nRows; r++) {
    const yo = r * d;
    const s = offsets[r], e = offsets[r + 1];
    if (s === e) {
      y.fill(0, yo, yo + d);
      continue;
    }
    for (let k = s; k < e; k++) {
      const w = values[k], xo = columns[k] * d;
      if (k === s) {
        for (let j = 0; j < d; j++) y[yo + j] = w * x[xo + j];
        continue;
      }
      // Unrolled by 4: V8 keeps the Float32Array bounds checks cheaper this way.
      let j = 0;
      for (; j < d4; j += 4) {
        y[yo + j] += w * x[xo + j];
        y[yo + j + 1] += w * x[xo + j + 1];
        y[yo + j + 2] += w * x[xo + j + 2];
        y[yo + j + 3] += w * x[xo + j + 3];
      }
      for (; j < d; j++) y[yo + j] += w * x[xo + j];
    }
  }
  return y;
}

const transposes = new WeakMap<CsrMatrix, CsrMatrix>();

/** `A^T`, cached per matrix; `a` itself when it is marked symmetric. */
function transposed(a: CsrMatrix): CsrMatrix {
  if (a.symmetric === true) return a;
  let t = transposes.get(a);
  if (t === undefined) {
    t = transpose(a);
    transposes.set(a, t);
  }
  return t;
}

class Engine implements SparseEngine {
  readonly #heap: WasmHeap;
  #list = 0;
  #listCapacity = 0;
  constructor(heap: WasmHeap) {
    this.#heap = heap;
    heaps.set(this, heap);
  }

  get threads(): number {
    return this.#heap.threads;
  }

  alloc(floats: number): Float32Array {
    if (!Number.isInteger(floats) || floats < 0) {
      throw new RangeError(`Expected a non-negative integer count of floats but found ${floats}`);
    }
    return this.#heap.floats(this.#heap.alloc(floats * 4), floats);
  }

  free(view: Float32Array): void {
    if (!this.#heap.owns(view)) throw new TypeError("Expected a view allocated by this engine");
    this.#heap.free(view.byteOffset);
  }

  spmm(a: CsrMatrix, x: Float32Array, options: SpmmOptions = {}): Float32Array {
    const d = widthOf(a, x, "x");
    if (d % 4 !== 0) return spmmJs(a, x, options);
    const y = outFor(a, d, options.out);
    const heap = this.#heap;
    const res = heap.resident(a);
    const [xp, yp] = heap.scratch(2, Math.max(a.nRows, a.nCols) * d);
    heap.floats(xp, x.length).set(x);
    heap.spmm(res, xp, yp, d, 0, 0);
    y.set(heap.floats(yp, y.length));
    return y;
  }

  spmmT(a: CsrMatrix, g: Float32Array, options: SpmmOptions = {}): Float32Array {
    return this.spmm(transposed(a), g, options);
  }

  propagateMean(a: CsrMatrix, x0: Float32Array, options: PropagateOptions = {}): Float32Array {
    const layers = options.layers ?? 3;
    checkLayers(layers);
    if (a.nRows !== a.nCols) {
      throw new TypeError(`Expected a square matrix but found ${a.nRows} x ${a.nCols}`);
    }
    const d = widthOf(a, x0, "x0");
    const out = outFor(a, d, options.out);
    if (d % 4 !== 0) return propagateJs(a, x0, layers, out);
    if (out === x0) throw new TypeError("Expected out to be another array than x0");
    if (layers === 0) return out.set(x0), out;
    const heap = this.#heap;
    const res = heap.resident(a);
    // Views of the heap are used in place; other arrays are copied in and out.
    const inHeap = heap.owns(x0), outHeap = heap.owns(out);
    const [l0, l1, xs, os] = heap.scratch(2 + (inHeap ? 0 : 1) + (outHeap ? 0 : 1), x0.length);
    const xp = inHeap ? x0.byteOffset : xs;
    const sum = outHeap ? out.byteOffset : (inHeap ? xs : os);
    if (!inHeap) heap.floats(xp, x0.length).set(x0);
    // Layer l reads layer l - 1 and adds itself to the sum; the first starts
    // the sum from x0, the last scales it and keeps no layer output.
    const list = options.rows && this.#listOf(options.rows);
    const mask = options.inputRows && this.#maskOf(options.inputRows, a.nRows, 1);
    let from = xp, to = l0;
    for (let l = 1; l <= layers; l++) {
      const last = l === layers;
      const base = l === 1 ? xp : sum;
      const alpha = last ? 1 / (layers + 1) : 1;
      const only = last ? list : undefined;
      heap.spmm(res, from, last ? 0 : to, d, sum, base, alpha, only, l === 1 ? mask : 0);
      [from, to] = [to, from === xp ? l1 : from];
    }
    if (mask) this.#maskOf(options.inputRows!, a.nRows, 0);
    if (!outHeap) out.set(heap.floats(sum, out.length));
    return out;
  }

  propagateMeanBackward(
    a: CsrMatrix,
    g: Float32Array,
    options: PropagateOptions = {},
  ): Float32Array {
    return this.propagateMean(transposed(a), g, options);
  }

  gatherRows(table: Float32Array, ids: Int32Array, out: Float32Array): Float32Array {
    const d = rowWidth(table, ids, out, "out");
    if (!this.#heap.owns(table) || d % 4 !== 0) {
      for (let k = 0; k < ids.length; k++) {
        const o = ids[k] * d, f = k * d;
        for (let j = 0; j < d; j++) out[f + j] = table[o + j];
      }
      return out;
    }
    const list = this.#listOf(ids), stage = this.#stage(out.length);
    this.#heap.kernels.rows_copy(stage.byteOffset, table.byteOffset, list.ptr, ids.length, d);
    out.set(stage);
    return out;
  }

  addRows(table: Float32Array, ids: Int32Array, rows: Float32Array): void {
    const d = rowWidth(table, ids, rows, "rows");
    if (!this.#heap.owns(table) || d % 4 !== 0) {
      for (let k = 0; k < ids.length; k++) {
        const o = ids[k] * d, f = k * d;
        for (let j = 0; j < d; j++) table[o + j] += rows[f + j];
      }
      return;
    }
    const list = this.#listOf(ids);
    let from = rows;
    if (!this.#heap.owns(rows)) (from = this.#stage(rows.length)).set(rows);
    this.#heap.kernels.rows_add(table.byteOffset, from.byteOffset, list.ptr, ids.length, d);
  }

  #stageView: Float32Array | undefined;

  /** A staging view of `floats` floats in the heap (reused). */
  #stage(floats: number): Float32Array {
    if (!this.#stageView || this.#stageView.length < floats) {
      if (this.#stageView) this.#heap.free(this.#stageView.byteOffset);
      this.#stageView = this.#heap.floats(this.#heap.alloc(floats * 4), floats);
    }
    return this.#stageView.subarray(0, floats);
  }

  #mask = 0;
  #maskBytes = 0;

  /** Sets the mask bytes of `rows` to `value` (a heap array of `n` bytes, zeros elsewhere). */
  #maskOf(rows: Int32Array, n: number, value: number): number {
    if (n > this.#maskBytes) {
      if (this.#maskBytes > 0) this.#heap.free(this.#mask);
      this.#mask = this.#heap.alloc(n);
      this.#maskBytes = n;
    }
    const bytes = this.#heap.bytes(this.#mask, n);
    for (let k = 0; k < rows.length; k++) bytes[rows[k]] = value;
    return this.#mask;
  }

  /** `rows` copied into the heap, where the kernel reads them. */
  #listOf(rows: Int32Array): { ptr: number; count: number } {
    const heap = this.#heap;
    if (rows.length > this.#listCapacity) {
      if (this.#listCapacity > 0) heap.free(this.#list);
      this.#list = heap.alloc(rows.length * 4);
      this.#listCapacity = rows.length;
    }
    heap.ints(this.#list, rows.length).set(rows);
    return { ptr: this.#list, count: rows.length };
  }

  close(): void {
    this.#heap.close();
  }
}

/** The heap behind each engine, for the other kernels of kernels/ (`table_adam.ts`). */
const heaps = new WeakMap<SparseEngine, WasmHeap>();

/** The heap of `engine`; kernels/ only. */
export function heapOf(engine: SparseEngine): WasmHeap {
  const heap = heaps.get(engine);
  if (!heap) throw new TypeError("Expected an engine made by createSparseEngine");
  return heap;
}

function propagateJs(a: CsrMatrix, x0: Float32Array, layers: number, out: Float32Array) {
  const sum = Float64Array.from(x0);
  let x = x0;
  for (let l = 0; l < layers; l++) {
    x = spmmJs(a, x);
    for (let i = 0; i < sum.length; i++) sum[i] += x[i];
  }
  for (let i = 0; i < sum.length; i++) out[i] = sum[i] / (layers + 1);
  return out;
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

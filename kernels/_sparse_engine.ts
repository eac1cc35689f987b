/**
 * The sparse engine behind `spmm.ts`'s face: products, the layer mean and
 * row moves over a {@linkcode WasmHeap}, with the plain JS loops that serve
 * widths the SIMD kernels do not take.
 *
 * Private to kernels/: the public face is spmm.ts.
 *
 * @module
 */

import { type CsrMatrix, transpose } from "./adjacency.ts";
import type { WasmHeap } from "./_wasm_heap.ts";
import type { PropagateOptions, SparseEngine, SpmmOptions } from "./spmm.ts";

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
export function transposed(a: CsrMatrix): CsrMatrix {
  if (a.symmetric === true) return a;
  let t = transposes.get(a);
  if (t === undefined) {
    t = transpose(a);
    transposes.set(a, t);
  }
  return t;
}

/** A {@linkcode SparseEngine} over one heap. */
export class Engine implements SparseEngine {
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

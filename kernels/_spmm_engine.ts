/**
 * The WebAssembly heap behind the sparse kernels: resident matrices, scratch
 * buffers and (optionally) worker threads that share the heap.
 *
 * Private to kernels/: the public face is spmm.ts.
 *
 * @module
 */

import type { CsrMatrix } from "./adjacency.ts";
import { instantiateKernels, type SpmmKernels } from "./_spmm_wasm.ts";

const PAGE = 65536;
/** 2 GiB: the kernels compare byte addresses as signed i32. */
export const MAX_PAGES = 32768;
/** Control block words: [gen, done, op, args 3..12], per-thread row ranges from 16. */
const CTL_WORDS = 64;
const CTL_RANGES = 16;
/** Most threads the control block has room for. */
export const MAX_THREADS = (CTL_WORDS - CTL_RANGES) / 2;
export const OP_SPMM = 0, OP_SPMM_ACC = 1, OP_SCALE = 2, OP_EXIT = 3;
/** How many matrices may stay resident before the oldest is evicted. */
const MAX_RESIDENT = 4;

interface Resident {
  readonly matrix: CsrMatrix;
  off: number;
  col: number;
  val: number;
  /** `threads + 1` row boundaries that balance non-zeros + rows per thread. */
  readonly bounds: Int32Array;
}

function align64(n: number): number {
  return Math.ceil(n / 64) * 64;
}

function balancedBounds(a: CsrMatrix, parts: number): Int32Array {
  const bounds = new Int32Array(parts + 1);
  const total = a.offsets[a.nRows] + a.nRows;
  let r = 0;
  for (let p = 1; p < parts; p++) {
    const target = (total * p) / parts;
    while (r < a.nRows && a.offsets[r] + r < target) r++;
    bounds[p] = r;
  }
  bounds[parts] = a.nRows;
  return bounds;
}

/** One heap, its kernels, and the workers (if any) that share it. */
export class SpmmEngine {
  readonly threads: number;
  readonly #memory: WebAssembly.Memory;
  readonly #kernels: SpmmKernels;
  readonly #workers: Worker[];
  #ctl: Int32Array;
  #residents: Resident[] = [];
  #scratch = 0;
  #scratchFloats = 0;
  #closed = false;

  constructor(memory: WebAssembly.Memory, workers: Worker[]) {
    this.#memory = memory;
    this.#kernels = instantiateKernels(memory, true, MAX_PAGES);
    this.#workers = workers;
    this.threads = workers.length + 1;
    this.#ctl = new Int32Array(memory.buffer, 0, CTL_WORDS);
  }

  /** The heap as a float view (re-created after growth). */
  floats(ptr: number, count: number): Float32Array {
    return new Float32Array(this.#memory.buffer, ptr, count);
  }

  /**
   * Makes `matrix` resident and ensures `buffers` scratch buffers of `floats`
   * floats each; returns the resident and the scratch pointers. A miss
   * relays out the whole heap, which is cheap next to one propagation.
   */
  prepare(matrix: CsrMatrix, buffers: number, floats: number): [Resident, number[]] {
    if (this.#closed) throw new TypeError("Expected an open sparse engine but it was closed");
    let res = this.#residents.find((r) => r.matrix === matrix);
    const need = buffers * align64(floats * 4);
    if (res === undefined || need > this.#scratchFloats * 4) {
      if (res === undefined) {
        res = { matrix, off: 0, col: 0, val: 0, bounds: balancedBounds(matrix, this.threads) };
        this.#residents.push(res);
        if (this.#residents.length > MAX_RESIDENT) this.#residents.shift();
      }
      this.#relayout(Math.max(need, this.#scratchFloats * 4));
    }
    const step = align64(floats * 4);
    return [res, Array.from({ length: buffers }, (_, b) => this.#scratch + b * step)];
  }

  #relayout(scratchBytes: number): void {
    let p = CTL_WORDS * 4;
    for (const r of this.#residents) {
      const a = r.matrix;
      const nnz = a.offsets[a.nRows];
      r.off = p;
      r.col = p = align64(p + (a.nRows + 1) * 4);
      r.val = p = align64(p + nnz * 4);
      p = align64(p + nnz * 4);
    }
    const total = p + scratchBytes;
    const pages = Math.ceil(total / PAGE);
    if (pages > MAX_PAGES) {
      throw new RangeError(
        `Expected the sparse kernels' heap to fit in ${
          MAX_PAGES * PAGE
        } bytes but it needs ${total}`,
      );
    }
    const have = this.#memory.buffer.byteLength / PAGE;
    if (pages > have) this.#memory.grow(pages - have);
    this.#ctl = new Int32Array(this.#memory.buffer, 0, CTL_WORDS);
    const buf = this.#memory.buffer;
    for (const r of this.#residents) {
      const a = r.matrix;
      const nnz = a.offsets[a.nRows];
      new Int32Array(buf, r.off, a.nRows + 1).set(a.offsets);
      new Int32Array(buf, r.col, nnz).set(a.columns.subarray(0, nnz));
      new Float32Array(buf, r.val, nnz).set(a.values.subarray(0, nnz));
    }
    this.#scratch = p;
    this.#scratchFloats = scratchBytes / 4;
  }

  /** `y = A x` over the heap; with `sum !== 0` also `sum += y`. */
  spmm(res: Resident, x: number, y: number, d: number, sum: number): void {
    const op = sum === 0 ? OP_SPMM : OP_SPMM_ACC;
    this.#run(op, [res.off, res.col, res.val, x, y, d, sum], res.bounds, d);
  }

  /** `ptr[0 .. count) *= alpha`; `count` is `rows * d`. */
  scale(ptr: number, rows: number, d: number, alpha: number): void {
    const bounds = new Int32Array(this.threads + 1);
    for (let t = 0; t <= this.threads; t++) bounds[t] = Math.round((rows * t) / this.threads);
    const bits = new Int32Array(new Float32Array([alpha]).buffer)[0];
    this.#run(OP_SCALE, [ptr, 0, 0, 0, 0, d, 0, bits], bounds, d);
  }

  #run(op: number, args: number[], bounds: Int32Array, d: number): void {
    const ctl = this.#ctl;
    if (this.#workers.length > 0) {
      ctl[2] = op;
      for (let i = 0; i < args.length; i++) ctl[3 + i] = args[i];
      for (let t = 0; t < this.threads; t++) {
        ctl[CTL_RANGES + 2 * t] = bounds[t];
        ctl[CTL_RANGES + 2 * t + 1] = bounds[t + 1];
      }
      Atomics.store(ctl, 1, 0);
      Atomics.add(ctl, 0, 1);
      Atomics.notify(ctl, 0);
    }
    // The calling thread takes part 0 instead of idling at the barrier.
    runPart(this.#kernels, op, args, bounds[0], bounds[1], d);
    if (this.#workers.length > 0) {
      const want = this.#workers.length;
      for (let done = Atomics.load(ctl, 1); done < want; done = Atomics.load(ctl, 1)) {
        Atomics.wait(ctl, 1, done);
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#workers.length > 0) {
      Atomics.store(this.#ctl, 2, OP_EXIT);
      Atomics.add(this.#ctl, 0, 1);
      Atomics.notify(this.#ctl, 0);
    }
    for (const w of this.#workers) w.terminate();
    this.#residents = [];
  }
}

/** One thread's share of an op; shared by the engine and its workers. */
export function runPart(
  k: SpmmKernels,
  op: number,
  args: ArrayLike<number>,
  r0: number,
  r1: number,
  d: number,
): void {
  if (r0 >= r1) return;
  if (op === OP_SCALE) {
    const alpha = new Float32Array(new Int32Array([args[7]]).buffer)[0];
    k.scale(args[0] + r0 * d * 4, (r1 - r0) * d, alpha);
  } else if (op === OP_SPMM) {
    k.spmm(args[0], args[1], args[2], args[3], args[4], d, r0, r1, d);
  } else {
    k.spmm_acc(args[0], args[1], args[2], args[3], args[4], d, r0, r1, d, args[6]);
  }
}

/** Creates the heap and starts `threads - 1` workers on it. */
export async function startEngine(threads: number): Promise<SpmmEngine> {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  const workers: Worker[] = [];
  try {
    for (let t = 1; t < threads; t++) {
      const w = new Worker(new URL("./_spmm_worker.ts", import.meta.url).href, { type: "module" });
      workers.push(w);
      const ready = new Promise<void>((resolve, reject) => {
        w.onmessage = () => resolve();
        w.onerror = (e) => {
          e.preventDefault();
          reject(new TypeError(`Expected spmm worker ${t} to start but it failed: ${e.message}`));
        };
      });
      w.postMessage({ memory, index: t, maxPages: MAX_PAGES });
      await ready;
    }
  } catch (e) {
    for (const w of workers) w.terminate();
    throw e;
  }
  return new SpmmEngine(memory, workers);
}

/** A single-threaded engine, created synchronously. */
export function syncEngine(): SpmmEngine {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  return new SpmmEngine(memory, []);
}

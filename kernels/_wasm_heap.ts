/**
 * The WebAssembly heap behind the engine's kernels: one shared memory that
 * holds a control block, resident CSR matrices, scratch buffers and the
 * buffers callers allocate (tables, optimizer moments, layer outputs), and
 * the worker threads that share it. Allocations never move, so a
 * `Float32Array` view of one stays valid for its lifetime: a shared
 * memory's old buffers alias the grown one instead of detaching.
 *
 * Private to kernels/: the public faces are spmm.ts and table_adam.ts.
 *
 * @module
 */

import type { CsrMatrix } from "./adjacency.ts";
import { instantiateKernels, type Kernels } from "./_wasm_kernels.ts";

const PAGE = 65536;
/** 2 GiB: the kernels compare byte addresses as signed i32. */
export const MAX_PAGES = 32768;
/** Control block words: [gen, done, op, args 3 .. CTL_RANGES), then per-thread row ranges. */
const CTL_WORDS = 128;
export const CTL_ARGS = 3, CTL_RANGES = 48;
/** Most threads the control block has room for. */
export const MAX_THREADS = (CTL_WORDS - CTL_RANGES) / 2;
export const OP_SPMM = 0, OP_ADAM = 1, OP_ADAM_ROWS = 2, OP_EXIT = 3, OP_SPMM_MASKED = 4;
/** How many matrices may stay resident before the oldest is evicted. */
const MAX_RESIDENT = 4;
const ALIGN = 64;

/** A matrix copied into the heap. */
export interface Resident {
  readonly matrix: CsrMatrix;
  readonly off: number;
  readonly col: number;
  readonly val: number;
  /** `threads + 1` row boundaries that balance non-zeros + rows per thread. */
  readonly bounds: Int32Array;
}

const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

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

/** `count` items split into `parts` near-equal ranges. */
export function evenBounds(count: number, parts: number): Int32Array {
  return Int32Array.from({ length: parts + 1 }, (_, t) => Math.round((count * t) / parts));
}

const bits = new Int32Array(1), asFloat = new Float32Array(bits.buffer);
/** The int32 word that carries float32 `x` through the control block. */
export function floatBits(x: number): number {
  asFloat[0] = x;
  return bits[0];
}
function bitsFloat(word: number): number {
  bits[0] = word;
  return asFloat[0];
}

/** One heap, its kernels, and the workers (if any) that share it. */
export class WasmHeap {
  readonly threads: number;
  readonly #memory: WebAssembly.Memory;
  readonly #kernels: Kernels;
  readonly #workers: Worker[];
  /** The buffers views were made on: every one aliases the same memory. */
  readonly #buffers = new Set<ArrayBufferLike>();
  /** Live allocations, sorted by address. */
  #blocks: { ptr: number; bytes: number }[] = [];
  #ctl: Int32Array;
  #residents: Resident[] = [];
  #scratch: number[] = [];
  #scratchBytes = 0;
  #closed = false;

  constructor(memory: WebAssembly.Memory, workers: Worker[]) {
    this.#memory = memory;
    this.#kernels = instantiateKernels(memory, MAX_PAGES);
    this.#workers = workers;
    this.threads = workers.length + 1;
    this.#ctl = new Int32Array(this.#buffer(), 0, CTL_WORDS);
  }

  #buffer(): ArrayBufferLike {
    const b = this.#memory.buffer;
    this.#buffers.add(b);
    return b;
  }

  /** The kernels, for ops small enough to run on the caller's thread alone. */
  get kernels(): Kernels {
    this.#open();
    return this.#kernels;
  }

  /** A float view of `count` floats at byte address `ptr`. */
  floats(ptr: number, count: number): Float32Array {
    return new Float32Array(this.#buffer(), ptr, count);
  }

  /** A byte view of `count` bytes at byte address `ptr`. */
  bytes(ptr: number, count: number): Uint8Array {
    return new Uint8Array(this.#buffer(), ptr, count);
  }

  /** An int view of `count` ints at byte address `ptr`. */
  ints(ptr: number, count: number): Int32Array {
    return new Int32Array(this.#buffer(), ptr, count);
  }

  /** Whether `view` is a view of this heap (then `view.byteOffset` is its address). */
  owns(view: ArrayBufferView): boolean {
    return this.#buffers.has(view.buffer);
  }

  /** Allocates `bytes` (64-byte aligned, zero-filled); returns the address. */
  alloc(bytes: number): number {
    this.#open();
    const size = align(Math.max(bytes, 1));
    let ptr = CTL_WORDS * 4, at = 0;
    for (; at < this.#blocks.length; at++) {
      if (this.#blocks[at].ptr - ptr >= size) break;
      ptr = align(this.#blocks[at].ptr + this.#blocks[at].bytes);
    }
    const end = ptr + size;
    const pages = Math.ceil(end / PAGE);
    if (pages > MAX_PAGES) {
      throw new RangeError(
        `Expected the engine's heap to fit in ${MAX_PAGES * PAGE} bytes but it needs ${end}`,
      );
    }
    const have = this.#memory.buffer.byteLength / PAGE;
    if (pages > have) this.#memory.grow(pages - have);
    this.#blocks.splice(at, 0, { ptr, bytes: size });
    new Uint8Array(this.#buffer(), ptr, size).fill(0);
    return ptr;
  }

  /** Frees an allocation made by {@linkcode alloc}. */
  free(ptr: number): void {
    const at = this.#blocks.findIndex((b) => b.ptr === ptr);
    if (at < 0) throw new RangeError(`Expected a live allocation at ${ptr} but found none`);
    this.#blocks.splice(at, 1);
  }

  /** Makes `matrix` resident (copied once, recognised by identity after). */
  resident(matrix: CsrMatrix): Resident {
    this.#open();
    const found = this.#residents.find((r) => r.matrix === matrix);
    if (found) return found;
    const nnz = matrix.offsets[matrix.nRows];
    const off = this.alloc((matrix.nRows + 1) * 4);
    const col = this.alloc(nnz * 4), val = this.alloc(nnz * 4);
    this.ints(off, matrix.nRows + 1).set(matrix.offsets);
    this.ints(col, nnz).set(matrix.columns.subarray(0, nnz));
    this.floats(val, nnz).set(matrix.values.subarray(0, nnz));
    const res = { matrix, off, col, val, bounds: balancedBounds(matrix, this.threads) };
    this.#residents.push(res);
    if (this.#residents.length > MAX_RESIDENT) {
      const old = this.#residents.shift()!;
      for (const p of [old.off, old.col, old.val]) this.free(p);
    }
    return res;
  }

  /** `count` scratch buffers of `floats` floats each (reused; contents undefined). */
  scratch(count: number, floats: number): number[] {
    this.#open();
    const bytes = align(floats * 4);
    if (bytes > this.#scratchBytes) {
      for (const p of this.#scratch) this.free(p);
      this.#scratch = [];
      this.#scratchBytes = bytes;
    }
    while (this.#scratch.length < count) this.#scratch.push(this.alloc(this.#scratchBytes));
    return this.#scratch.slice(0, count);
  }

  /**
   * `y = A x` and `sum = (base + A x) * alpha` (see `_spmm_wasm.ts`), rows
   * split over threads: every row, or the `count` rows listed at `list`;
   * with a `mask`, only the columns whose byte there is not 0.
   */
  spmm(
    res: Resident,
    x: number,
    y: number,
    d: number,
    sum: number,
    base: number,
    alpha = 1,
    list?: { ptr: number; count: number },
    mask = 0,
  ) {
    const args = [res.off, res.col, res.val, x, y, d, sum, base, floatBits(alpha), list?.ptr ?? 0];
    const op = mask === 0 ? OP_SPMM : OP_SPMM_MASKED;
    this.run(op, [...args, mask], list ? evenBounds(list.count, this.threads) : res.bounds);
  }

  /** Runs `op` on every thread over its range of `bounds`, the caller's thread taking part 0. */
  run(op: number, args: readonly number[], bounds: Int32Array): void {
    this.#open();
    const ctl = this.#ctl;
    if (this.#workers.length > 0) {
      ctl[2] = op;
      for (let i = 0; i < args.length; i++) ctl[CTL_ARGS + i] = args[i];
      for (let t = 0; t < this.threads; t++) {
        ctl[CTL_RANGES + 2 * t] = bounds[t];
        ctl[CTL_RANGES + 2 * t + 1] = bounds[t + 1];
      }
      Atomics.store(ctl, 1, 0);
      Atomics.add(ctl, 0, 1);
      Atomics.notify(ctl, 0);
    }
    runPart(this.#kernels, op, args, bounds[0], bounds[1]);
    if (this.#workers.length > 0) {
      const want = this.#workers.length;
      for (let done = Atomics.load(ctl, 1); done < want; done = Atomics.load(ctl, 1)) {
        Atomics.wait(ctl, 1, done);
      }
    }
  }

  #open(): void {
    if (this.#closed) throw new TypeError("Expected an open sparse engine but it was closed");
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

/** One thread's share `[r0, r1)` of an op; shared by the heap's owner and its workers. */
export function runPart(
  k: Kernels,
  op: number,
  a: ArrayLike<number>,
  r0: number,
  r1: number,
): void {
  if (r0 >= r1) return;
  if (op === OP_SPMM || op === OP_SPMM_MASKED) {
    const f = op === OP_SPMM ? k.spmm : k.spmm_masked;
    f(a[0], a[1], a[2], a[3], a[4], a[5], r0, r1, a[6], a[7], bitsFloat(a[8]), a[9], a[10]);
    return;
  }
  // Adam: p g m v, then d (dense) or rows d (by rows), then the seven floats.
  const byRows = op === OP_ADAM_ROWS;
  const c0 = byRows ? 6 : 5;
  const c = [0, 1, 2, 3, 4, 5, 6].map((i) => bitsFloat(a[c0 + i])) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (byRows) {
    k.adam_rows(a[0], a[1], a[2], a[3], a[4], r0, r1, a[5], ...c);
  } else {
    const at = r0 * a[4] * 4;
    k.adam(a[0] + at, a[1] + at, a[2] + at, a[3] + at, (r1 - r0) * a[4], ...c);
  }
}

/** Creates the heap and starts `threads - 1` workers on it. */
export async function startHeap(threads: number): Promise<WasmHeap> {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  const workers: Worker[] = [];
  try {
    for (let t = 1; t < threads; t++) {
      const w = new Worker(new URL("./_wasm_worker.ts", import.meta.url).href, { type: "module" });
      workers.push(w);
      const ready = new Promise<void>((resolve, reject) => {
        w.onmessage = () => resolve();
        w.onerror = (e) => {
          e.preventDefault();
          reject(new TypeError(`Expected kernel worker ${t} to start but it failed: ${e.message}`));
        };
      });
      w.postMessage({ memory, index: t, maxPages: MAX_PAGES });
      await ready;
    }
  } catch (e) {
    for (const w of workers) w.terminate();
    throw e;
  }
  return new WasmHeap(memory, workers);
}

/** A single-threaded heap, created synchronously. */
export function syncHeap(): WasmHeap {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  return new WasmHeap(memory, []);
}

/**
 * Adam for embedding tables whose gradients are computed outside ONNX
 * Runtime (the split steps of LightGCN, BPR-MF and SimpleX), run by the
 * engine's WebAssembly SIMD kernels (`_adam_wasm.ts`) on the tables, their
 * moments and their gradients in the engine's heap, split over its threads.
 * Nothing is copied per step: the caller scatters row gradients into
 * {@linkcode TableAdam.grad} (or writes it whole, as a propagation's
 * backward does) and reads and writes {@linkcode TableAdam.values} in place.
 *
 * Two update rules:
 *
 * - `dense`: every row of every table on every step, as `torch.optim.Adam`
 *   does (RecBole's optimizer): rows without a gradient still decay their
 *   moments and move. Per float it is the ONNX graph of `optim.ts`'s `adam`,
 *   operation for operation in float32, so the two agree to the last bit
 *   where ONNX Runtime rounds each operation (tested to 1e-6).
 * - `sparse`: only the rows that had a gradient since the last step, as
 *   `torch.optim.SparseAdam` does: an untouched row keeps its value and its
 *   moments, which decay once per step the row is touched, not per step;
 *   the bias correction counts every step. A touched row gets the dense
 *   rule's update from its own moments. (SparseAdam adds `eps` to `sqrt(v)`
 *   before the bias correction; here it is added after it, where
 *   `torch.optim.Adam` adds it, so that a row touched on every step moves
 *   exactly as under the dense rule.)
 *
 * @module
 */

import { adamConstants } from "./_adam_wasm.ts";
import { evenBounds, floatBits, OP_ADAM, OP_ADAM_ROWS, type WasmHeap } from "./_wasm_heap.ts";
import { adam } from "./optim.ts";
import type { ParamStore } from "./param_store.ts";
import type { RuntimeOptions } from "./runtime.ts";
import { heapOf } from "./_sparse_engine.ts";
import type { SparseEngine } from "./spmm.ts";
import { compileUpdate, type Update } from "./step.ts";

/** Which rows an update touches. */
export type AdamRows = "dense" | "sparse";

/** One table: `rows x dim` floats. */
export interface TableSpec {
  readonly name: string;
  readonly rows: number;
  /** Row width; a multiple of 4 (the kernels' SIMD width). */
  readonly dim: number;
  /** Initial values (copied). @default zeros */
  readonly init?: Float32Array;
  /**
   * `rows`: the caller adds row gradients ({@linkcode TableAdam.addRows});
   * a step reads and then zeroes exactly those rows. `whole`: the caller
   * writes the whole gradient before each step (a propagation's backward
   * with `out: grad(name)`), may add rows on top, and a step reads every row
   * and leaves the gradient as it is. @default "rows"
   */
  readonly gradient?: "rows" | "whole";
}

/** Options of {@linkcode createTableAdam}. */
export interface TableAdamOptions {
  lr: number;
  /** @default 0.9 */
  beta1?: number;
  /** @default 0.999 */
  beta2?: number;
  /** @default 1e-8 */
  eps?: number;
  /** @default "dense" */
  rows?: AdamRows;
}

/** Adam over embedding tables whose gradients are scattered in by rows. */
export interface TableAdam {
  readonly rows: AdamRows;
  /** Steps taken so far. */
  readonly steps: number;
  /** The values of table `name`, updated in place by each step. */
  values(name: string): Float32Array;
  /** The gradient of table `name` that the next step consumes. */
  grad(name: string): Float32Array;
  /**
   * `grad[ids[k]] += scale * from[k]` (rows of `dim` floats) for `k < count`,
   * and marks those rows as touched by this step.
   */
  addRows(name: string, ids: Int32Array, from: Float32Array, scale?: number, count?: number): void;
  /** Marks rows `ids[0 .. count)` as touched, for a caller that wrote their gradient itself. */
  touch(name: string, ids: ArrayLike<number>, count?: number): void;
  /** One update of every table at learning rate `lr` (default: the options' `lr`). */
  step(lr?: number): Promise<void>;
  /**
   * Makes `store`'s entry of each table this optimizer's array (so that
   * scorers, snapshots and checkpoints read the current values in place),
   * first copying in a value that was stored there since (a restored
   * snapshot).
   */
  syncStore(store: ParamStore): void;
  /** Releases the tables' memory; the views must not be used after. */
  free(): void;
}

/** A table's gradient and the rows touched since the last step. */
interface Table {
  readonly spec: TableSpec;
  readonly whole: boolean;
  readonly g: Float32Array;
  /** Rows touched this step, and how many (in the heap: the kernel reads them). */
  readonly touched: Int32Array;
  count: number;
  /** `stamp[r] === mark` when row r is in `touched`. */
  readonly stamp: Int32Array;
  mark: number;
}

function checkSpec(spec: TableSpec): void {
  const { name, rows, dim } = spec;
  if (!Number.isInteger(dim) || dim < 4 || dim % 4 !== 0) {
    throw new RangeError(`Expected the dim of "${name}" to be a multiple of 4 but found ${dim}`);
  }
  if (spec.init && spec.init.length !== rows * dim) {
    throw new TypeError(`Expected ${rows} x ${dim} initial values for "${name}"`);
  }
}

/** What both optimizers share: the options, the tables' gradients and their touched rows. */
abstract class RowGradients implements TableAdam {
  readonly rows: AdamRows;
  protected readonly options: Required<TableAdamOptions>;
  protected readonly tables = new Map<string, Table>();
  protected stepCount = 0;

  constructor(options: TableAdamOptions) {
    const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, rows = "dense" } = options;
    this.options = { lr, beta1, beta2, eps, rows };
    this.rows = this.options.rows;
    if (this.rows !== "dense" && this.rows !== "sparse") {
      throw new RangeError(`Expected rows "dense" or "sparse" but found "${this.rows}"`);
    }
  }

  protected add(spec: TableSpec, g: Float32Array, touched: Int32Array): void {
    checkSpec(spec);
    if (this.tables.has(spec.name)) throw new TypeError(`Expected one table named "${spec.name}"`);
    const stamp = new Int32Array(spec.rows);
    const whole = spec.gradient === "whole";
    this.tables.set(spec.name, { spec, whole, g, touched, count: 0, stamp, mark: 1 });
  }

  get steps(): number {
    return this.stepCount;
  }

  protected table(name: string): Table {
    const t = this.tables.get(name);
    if (!t) {
      const names = [...this.tables.keys()].join(", ");
      throw new TypeError(`Expected one of the tables ${names} but found "${name}"`);
    }
    return t;
  }

  abstract values(name: string): Float32Array;
  abstract step(lr?: number): Promise<void>;
  abstract free(): void;

  grad(name: string): Float32Array {
    return this.table(name).g;
  }

  syncStore(store: ParamStore): void {
    for (const { spec } of this.tables.values()) {
      const held = this.values(spec.name), stored = store.get(spec.name)?.data;
      if (stored === held) continue;
      if (stored) held.set(stored);
      store.set(spec.name, held, [spec.rows, spec.dim]);
    }
  }

  touch(name: string, ids: ArrayLike<number>, count = ids.length): void {
    const t = this.table(name);
    const stamp = t.stamp, mark = t.mark;
    for (let k = 0; k < count; k++) {
      const r = ids[k];
      if (stamp[r] !== mark) {
        stamp[r] = mark;
        t.touched[t.count++] = r;
      }
    }
  }

  addRows(name: string, ids: Int32Array, from: Float32Array, scale = 1, count = ids.length) {
    this.touch(name, ids, count);
    const t = this.table(name), d = t.spec.dim, g = t.g;
    for (let k = 0; k < count; k++) {
      const o = ids[k] * d, f = k * d;
      if (scale === 1) { for (let j = 0; j < d; j++) g[o + j] += from[f + j]; }
      else for (let j = 0; j < d; j++) g[o + j] += scale * from[f + j];
    }
  }

  /** Forgets the step's touched rows, first zeroing their gradient when `zero` (not a whole one). */
  protected consumed(t: Table, zero: boolean): void {
    if (zero && !t.whole) {
      const d = t.spec.dim;
      for (let k = 0; k < t.count; k++) t.g.fill(0, t.touched[k] * d, t.touched[k] * d + d);
    }
    t.count = 0;
    t.mark++;
  }
}

/** The tables, moments and gradients in the engine's heap; updated by its kernels. */
class WasmAdam extends RowGradients {
  readonly #engine: SparseEngine;
  readonly #heap: WasmHeap;
  readonly #state = new Map<string, { p: Float32Array; m: Float32Array; v: Float32Array }>();

  constructor(engine: SparseEngine, specs: readonly TableSpec[], options: TableAdamOptions) {
    super(options);
    this.#engine = engine;
    this.#heap = heapOf(engine);
    for (const spec of specs) {
      checkSpec(spec);
      const n = spec.rows * spec.dim;
      const [p, g, m, v, list] = [n, n, n, n, spec.rows].map((k) => engine.alloc(k));
      if (spec.init) p.set(spec.init);
      this.add(spec, g, new Int32Array(list.buffer, list.byteOffset, spec.rows));
      this.#state.set(spec.name, { p, m, v });
    }
  }

  values(name: string): Float32Array {
    this.table(name);
    return this.#state.get(name)!.p;
  }

  override addRows(
    name: string,
    ids: Int32Array,
    from: Float32Array,
    scale = 1,
    count = ids.length,
  ): void {
    if (scale !== 1) return super.addRows(name, ids, from, scale, count);
    this.touch(name, ids, count);
    const d = this.table(name).spec.dim;
    this.#engine.addRows(this.grad(name), ids.subarray(0, count), from.subarray(0, count * d));
  }

  step(lr = this.options.lr): Promise<void> {
    const { beta1, beta2, eps } = this.options;
    const c = adamConstants(lr, beta1, beta2, eps, ++this.stepCount).map(floatBits);
    const heap = this.#heap, threads = heap.threads;
    for (const t of this.tables.values()) {
      const { p, m, v } = this.#state.get(t.spec.name)!;
      const args = [p.byteOffset, t.g.byteOffset, m.byteOffset, v.byteOffset];
      const d = t.spec.dim;
      if (this.rows === "dense" || t.whole) {
        heap.run(OP_ADAM, [...args, d, ...c], evenBounds(t.spec.rows, threads));
        this.consumed(t, true);
      } else {
        // The kernel zeroes each row's gradient as it goes.
        const list = [...args, t.touched.byteOffset, d, ...c];
        heap.run(OP_ADAM_ROWS, list, evenBounds(t.count, threads));
        this.consumed(t, false);
      }
    }
    return Promise.resolve();
  }

  free(): void {
    for (const t of this.tables.values()) {
      const { p, m, v } = this.#state.get(t.spec.name)!;
      for (const view of [p, t.g, m, v]) this.#engine.free(view);
      this.#engine.free(new Float32Array(t.touched.buffer, t.touched.byteOffset, t.spec.rows));
    }
    this.tables.clear();
  }
}

/**
 * The same optimizer as an ONNX Runtime session (`compileUpdate` over a
 * store): the path of the embedding baselines before their update moved
 * into the kernels, kept as the reference and the benchmark's baseline.
 * Dense only.
 */
class OnnxAdam extends RowGradients {
  readonly #store: ParamStore;
  #update: Update | undefined;

  constructor(store: ParamStore, specs: readonly TableSpec[], options: TableAdamOptions) {
    super(options);
    if (this.rows !== "dense") throw new RangeError(`Expected rows "dense" for the ONNX update`);
    this.#store = store;
    for (const spec of specs) {
      checkSpec(spec);
      const n = spec.rows * spec.dim;
      if (spec.init || !store.has(spec.name)) {
        store.set(spec.name, spec.init?.slice() ?? new Float32Array(n), [spec.rows, spec.dim]);
      }
      this.add(spec, new Float32Array(n), new Int32Array(spec.rows));
    }
  }

  async compile(runtime: RuntimeOptions): Promise<this> {
    const { lr, beta1, beta2, eps } = this.options;
    this.#update = await compileUpdate([...this.tables.keys()], this.#store, {
      ...runtime,
      optimizer: adam({ lr, beta1, beta2, eps }),
    });
    return this;
  }

  values(name: string): Float32Array {
    this.table(name);
    return this.#store.get(name)!.data;
  }

  async step(lr = this.options.lr): Promise<void> {
    const grads = Object.fromEntries([...this.tables].map(([name, t]) => [name, t.g]));
    await this.#update!.run(grads, { lr });
    this.stepCount++;
    for (const t of this.tables.values()) this.consumed(t, true);
  }

  free(): void {
    this.tables.clear();
  }
}

/**
 * Allocates `tables` (values, gradients and both moments) in `engine`'s heap
 * and returns their optimizer, run by the engine's kernels and threads.
 *
 * @example
 * ```ts
 * import { createSparseEngine } from "./spmm.ts";
 * import { createTableAdam } from "./table_adam.ts";
 * const engine = await createSparseEngine({ threads: 1 });
 * const adam = createTableAdam(engine, [{ name: "items", rows: 3, dim: 4 }], { lr: 0.1 });
 * adam.addRows("items", new Int32Array([2]), new Float32Array([1, 1, 1, 1]));
 * await adam.step();
 * console.log(adam.values("items")[8]); // about -0.1: Adam's first step is lr * sign(g)
 * engine.close();
 * ```
 */
export function createTableAdam(
  engine: SparseEngine,
  tables: readonly TableSpec[],
  options: TableAdamOptions,
): TableAdam {
  return new WasmAdam(engine, tables, options);
}

/**
 * The dense optimizer of {@linkcode createTableAdam} as an ONNX Runtime
 * update session over `store`, which keeps the tables under their names (as
 * `compileUpdate` keeps params): the reference the kernels are tested
 * against and the path the benchmark compares them with.
 *
 * @example
 * ```ts
 * import { ParamStore } from "./param_store.ts";
 * import { createOnnxTableAdam } from "./table_adam.ts";
 * const store = new ParamStore();
 * const adam = await createOnnxTableAdam(store, [{ name: "items", rows: 3, dim: 4 }], { lr: 0.1 });
 * adam.addRows("items", new Int32Array([2]), new Float32Array([1, 1, 1, 1]));
 * await adam.step();
 * console.log(store.get("items")!.data[8]); // about -0.1
 * ```
 */
export function createOnnxTableAdam(
  store: ParamStore,
  tables: readonly TableSpec[],
  options: TableAdamOptions & RuntimeOptions,
): Promise<TableAdam> {
  const { lr, beta1, beta2, eps, rows, ...runtime } = options;
  return new OnnxAdam(store, tables, { lr, beta1, beta2, eps, rows }).compile(runtime);
}

/**
 * Named float32 values that outlive a session: parameters and optimizer
 * state. Train steps read and replace them, inference sessions read them, and
 * checkpoints save and load them under the same names.
 *
 * @module
 */

import type { Rng } from "./rng.ts";
import type { Graph, Tensor } from "./graph.ts";
import { zeros } from "./init.ts";

/** One stored value: row-major data and its shape. */
export interface ParamEntry {
  readonly data: Float32Array;
  /** Copied on {@linkcode ParamStore.set}. */
  readonly shape: number[];
}

/**
 * A copy of stored values on a device (GPU memory a train step updates in
 * place of the host arrays). The store asks it for a value only when the
 * host reads one whose newest copy is there.
 */
export interface DeviceCopy {
  /** The device's value of `name`, copied into a new host array. */
  download(name: string): Float32Array;
}

/**
 * A map from structural names (`encoder.block.0.attn.q.weight`,
 * `opt.m.encoder.block.0.attn.q.weight`) to float32 values.
 *
 * @example
 * ```ts
 * import { ParamStore } from "./param_store.ts";
 * const store = new ParamStore();
 * store.set("w", new Float32Array([1, 2]), [2]);
 * for (const [name, { shape }] of store.entries()) console.log(name, shape);
 * ```
 */
export class ParamStore {
  readonly #values = new Map<string, ParamEntry>();
  /** Names whose newest value is on a device, and that device's copy. */
  readonly #newerOn = new Map<string, DeviceCopy>();
  /** Bumped by every host write, so a device copy knows when to upload again. */
  readonly #versions = new Map<string, number>();

  /** The value under `name`, if any (downloaded first when a device holds a newer one). */
  get(name: string): ParamEntry | undefined {
    this.#pull(name);
    return this.#values.get(name);
  }

  /** How many times `name` was written on the host; device copies compare it. */
  version(name: string): number {
    return this.#versions.get(name) ?? 0;
  }

  /**
   * Records that `copy` now holds a newer value of `name` than the host: the
   * next host read downloads it. A later {@linkcode set} makes the host newer.
   */
  markNewerOn(name: string, copy: DeviceCopy): void {
    if (!this.#values.has(name)) throw new TypeError(`Expected a stored value for "${name}"`);
    this.#newerOn.set(name, copy);
  }

  /** Whether the newest value of `name` is on `copy` (no host read since). */
  isNewerOn(name: string, copy: DeviceCopy): boolean {
    return this.#newerOn.get(name) === copy;
  }

  #pull(name: string): void {
    const copy = this.#newerOn.get(name);
    if (!copy) return;
    this.#newerOn.delete(name);
    const entry = this.#values.get(name)!;
    // Not a host write: the version stays, so the device copy stays current.
    this.#values.set(name, { data: copy.download(name), shape: entry.shape });
  }

  /** Whether a value is stored under `name`. */
  has(name: string): boolean {
    return this.#values.has(name);
  }

  /** Stores `data` (kept, not copied) under `name`. */
  set(name: string, data: Float32Array, shape: readonly number[]): void {
    const n = shape.reduce((p, d) => p * d, 1);
    if (!(data instanceof Float32Array) || data.length !== n) {
      throw new TypeError(
        `Expected a Float32Array of ${n} values for "${name}" of shape [${shape}] but found ${data?.constructor?.name} of ${data?.length}`,
      );
    }
    this.#values.set(name, { data, shape: [...shape] });
    this.#newerOn.delete(name);
    this.#versions.set(name, this.version(name) + 1);
  }

  /** Removes `name`; returns whether it was there. */
  delete(name: string): boolean {
    this.#newerOn.delete(name);
    return this.#values.delete(name);
  }

  /** Every stored value, in insertion order (device-newer ones downloaded first). */
  entries(): IterableIterator<[string, ParamEntry]> {
    for (const name of [...this.#newerOn.keys()]) this.#pull(name);
    return this.#values.entries();
  }

  /** Stored names, in insertion order. */
  names(): string[] {
    return [...this.#values.keys()];
  }

  /** How many values are stored. */
  get size(): number {
    return this.#values.size;
  }

  /**
   * Draws every param of `graph` (or of the list) that is not stored yet,
   * each from `rng.fork(name)`: the values do not depend on declaration order.
   */
  init(params: Graph | readonly Tensor[], rng: Rng): void {
    const list = Array.isArray(params) ? params : (params as Graph).params();
    for (const p of list) {
      if (this.has(p.name)) continue;
      if (p.dtype !== "float32") {
        throw new TypeError(`Expected float32 param "${p.name}" but found ${p.dtype}`);
      }
      this.set(p.name, (p.init ?? zeros())(rng.fork(p.name), p.shape), p.shape);
    }
  }

  /** Copies every value (new arrays), e.g. to keep a snapshot. */
  clone(): ParamStore {
    const out = new ParamStore();
    for (const [name, { data, shape }] of this.entries()) out.set(name, data.slice(), shape);
    return out;
  }
}

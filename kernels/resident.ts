/**
 * A {@linkcode ParamStore}'s values kept in device memory: the copy that
 * bound sessions read and write, shared by every session of one store on one
 * memory (a T5's direct and sequential train steps, its inference sessions).
 * A train step writes each new value into a spare buffer and the two swap,
 * so nothing is copied between steps; the host sees a value only when it
 * reads it (a checkpoint, a host-side kernel), and a host write is uploaded
 * before the next device run.
 *
 * @module
 */

import { DeviceValue } from "./bound_session.ts";
import type { DeviceMemory } from "./device_memory.ts";
import type { OrtCApi } from "./ort_capi.ts";
import type { DeviceCopy, ParamStore } from "./param_store.ts";

interface Slot {
  current: DeviceValue;
  spare?: DeviceValue;
  /** The store's version of the value last uploaded. */
  version: number;
}

/** Device copies of one store's values. */
export class ResidentValues implements DeviceCopy {
  readonly #slots = new Map<string, Slot>();
  /** Bytes copied host -> device and device -> host so far (for benchmarks). */
  readonly traffic = { uploaded: 0, downloaded: 0 };

  constructor(
    readonly api: OrtCApi,
    readonly memory: DeviceMemory,
    readonly store: ParamStore,
  ) {}

  /** The device value holding the newest `name`, uploading the host's when that is newer. */
  input(name: string): DeviceValue {
    const slot = this.#slots.get(name);
    if (slot && this.store.isNewerOn(name, this)) return slot.current;
    const version = this.store.version(name);
    if (slot && slot.version === version) return slot.current;
    const entry = this.store.get(name);
    if (!entry) throw new TypeError(`Expected a stored value for "${name}" but found none`);
    let current = slot?.current;
    if (!current || !sameShape(current.shape, entry.shape)) {
      this.#free(slot);
      current = new DeviceValue(this.api, this.memory, "float32", entry.shape);
      this.#slots.set(name, { current, version });
    }
    this.memory.upload(current.pointer, entry.data as Float32Array<ArrayBuffer>);
    this.traffic.uploaded += entry.data.byteLength;
    this.#slots.get(name)!.version = version;
    return current;
  }

  /** The buffer a run writes the next value of `name` into; {@linkcode commit} adopts it. */
  output(name: string): DeviceValue {
    const slot = this.#slots.get(name);
    if (!slot) throw new TypeError(`Expected "${name}" to be resident before a run writes it`);
    return slot.spare ??= new DeviceValue(this.api, this.memory, "float32", slot.current.shape);
  }

  /** After a run wrote {@linkcode output}: it becomes the newest value. */
  commit(name: string): void {
    const slot = this.#slots.get(name)!;
    [slot.current, slot.spare] = [slot.spare!, slot.current];
    this.store.markNewerOn(name, this);
  }

  download(name: string): Float32Array {
    const slot = this.#slots.get(name);
    if (!slot) throw new TypeError(`Expected "${name}" to be resident but it is not`);
    const host = new Float32Array(slot.current.bytes / 4);
    this.memory.download(slot.current.pointer, host);
    this.traffic.downloaded += host.byteLength;
    return host;
  }

  /** Frees every device buffer (the store keeps, or first downloads, the newest values). */
  release(): void {
    for (const name of this.#slots.keys()) this.store.get(name);
    for (const slot of this.#slots.values()) this.#free(slot);
    this.#slots.clear();
  }

  #free(slot: Slot | undefined): void {
    slot?.current.release();
    slot?.spare?.release();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

const byStore = new WeakMap<ParamStore, Map<DeviceMemory, ResidentValues>>();

/** The resident copy of `store` in `memory` (one per pair). */
export function residentValues(
  api: OrtCApi,
  memory: DeviceMemory,
  store: ParamStore,
): ResidentValues {
  let perMemory = byStore.get(store);
  if (!perMemory) byStore.set(store, perMemory = new Map());
  let values = perMemory.get(memory);
  if (!values) perMemory.set(memory, values = new ResidentValues(api, memory, store));
  return values;
}

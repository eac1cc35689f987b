/**
 * Checkpoints of a {@linkcode ParamStore}: `params.safetensors` (float32
 * values under their structural names) and `config.json` beside it.
 * Optimizer state (`opt.*`) is left out by default: a checkpoint is for
 * scoring, and resuming training restarts Adam's moments.
 *
 * @module
 */

import { ParamStore } from "./param_store.ts";
import { readSafetensors, type TensorMap, writeSafetensors } from "./safetensors.ts";

/** Options of {@linkcode saveCheckpoint}. */
export interface SaveCheckpointOptions {
  /** Keep optimizer state (`opt.*`) too. @default false */
  optimizerState?: boolean;
}

/** What {@linkcode loadCheckpoint} returns. */
export interface Checkpoint {
  readonly store: ParamStore;
  /** The JSON object written as `config.json`. */
  readonly config: Record<string, unknown>;
}

/**
 * Writes `dir/params.safetensors` and `dir/config.json` (creating `dir`).
 *
 * @example
 * ```ts ignore
 * await saveCheckpoint("out/ckpt/lightgcn", store, { plugin: "lightgcn", dim: 64 });
 * ```
 */
export async function saveCheckpoint(
  dir: string,
  store: ParamStore,
  config: Record<string, unknown>,
  options: SaveCheckpointOptions = {},
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const tensors: TensorMap = new Map();
  for (const [name, { data, shape }] of store.entries()) {
    if (!options.optimizerState && name.startsWith("opt.")) continue;
    tensors.set(name, { dtype: "F32", shape: [...shape], data });
  }
  await writeSafetensors(`${dir}/params.safetensors`, tensors, {
    metadata: { format: "elmbench" },
  });
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config, null, 2) + "\n");
}

/**
 * Reads a checkpoint written by {@linkcode saveCheckpoint}.
 *
 * @example
 * ```ts ignore
 * const { store, config } = await loadCheckpoint("out/ckpt/lightgcn");
 * ```
 */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const { tensors } = await readSafetensors(`${dir}/params.safetensors`);
  const store = new ParamStore();
  for (const [name, t] of tensors) {
    if (!(t.data instanceof Float32Array)) {
      throw new TypeError(`Expected float32 tensor "${name}" in ${dir} but found ${t.dtype}`);
    }
    store.set(name, t.data, t.shape);
  }
  const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  return { store, config };
}

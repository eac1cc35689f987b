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

/**
 * The `config.json` of an embedding model: its plugin name, its config, and
 * the id-space sizes its tables were built for (checked on load).
 */
export function embeddingCheckpointConfig(
  plugin: string,
  config: Record<string, unknown>,
  sizes: { readonly nUsers: number; readonly nItems: number },
): Record<string, unknown> {
  return { plugin, ...config, n_users: sizes.nUsers, n_items: sizes.nItems };
}

/**
 * Throws unless `saved` (a loaded `config.json`) agrees with `config` on
 * every key in `keys`: a checkpoint of another shape cannot be scored.
 */
export function checkConfigMatches(
  dir: string,
  saved: Record<string, unknown>,
  config: Record<string, unknown>,
  keys: readonly string[],
): void {
  for (const k of keys) {
    if (saved[k] !== config[k]) {
      throw new RangeError(
        `Expected the checkpoint in ${dir} to have ${k} = ${JSON.stringify(config[k])} but found ${
          JSON.stringify(saved[k])
        }`,
      );
    }
  }
}

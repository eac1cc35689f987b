/**
 * Checkpoints as safetensors. Params carry Hugging Face T5 names, so a
 * store written here is an HF-layout `model.safetensors` (plus this
 * project's extra tables and, unless `paramsOnly`, AdamW state under
 * `opt.*`), and an HF T5 checkpoint directory (`config.json`,
 * `tokenizer.json`, `model.safetensors`) loads by name.
 *
 * @module
 */

import {
  type ParamStore,
  readSafetensors,
  type TensorMap,
  writeSafetensors,
} from "../kernels/mod.ts";
import { readHfTokenizer } from "./hf_tokenizer.ts";
import { parseHfConfig, type T5Config } from "./t5_config.ts";
import type { Tokenizer } from "./tokenizer.ts";

/** Options of {@linkcode writeStore}. */
export interface WriteStoreOptions {
  /** Leave out optimizer state (`opt.*`). @default false */
  readonly paramsOnly?: boolean;
}

/** Writes every stored value (or every param) to a safetensors file. */
export async function writeStore(
  path: string,
  store: ParamStore,
  options: WriteStoreOptions = {},
): Promise<void> {
  const tensors: TensorMap = new Map();
  for (const [name, { data, shape }] of store.entries()) {
    if (options.paramsOnly && name.startsWith("opt.")) continue;
    tensors.set(name, { dtype: "F32", shape, data });
  }
  // Write to a temporary name first so an interrupted write never leaves a torn checkpoint.
  await writeSafetensors(`${path}.tmp`, tensors);
  await Deno.rename(`${path}.tmp`, path);
}

/** Reads a safetensors file into the store (every tensor, by name). */
export async function readStore(path: string, store: ParamStore): Promise<void> {
  const { tensors } = await readSafetensors(path);
  for (const [name, t] of tensors) store.set(name, t.data as Float32Array, t.shape);
}

/** A Hugging Face T5 checkpoint directory. */
export interface HfCheckpoint {
  readonly cfg: T5Config;
  readonly tokenizer: Tokenizer;
  /** Params by HF name (embedding copies and an unused tied `lm_head` left out). */
  readonly params: TensorMap;
  /** Names of the tensors left out: `*.embed_tokens.weight`, and `lm_head.weight` when tied. */
  readonly skipped: readonly string[];
}

/**
 * Reads `config.json`, `tokenizer.json` and `model.safetensors` from `dir`.
 *
 * @example
 * ```ts ignore
 * import { readHfCheckpoint } from "./checkpoint.ts";
 * const { cfg, tokenizer, params } = await readHfCheckpoint("t5-small");
 * ```
 */
export async function readHfCheckpoint(dir: string): Promise<HfCheckpoint> {
  const path = `${dir}/config.json`;
  const cfg = parseHfConfig(await Deno.readTextFile(path), path);
  const tokenizer = await readHfTokenizer(dir);
  const { tensors } = await readSafetensors(`${dir}/model.safetensors`);
  const params: TensorMap = new Map();
  const skipped: string[] = [];
  for (const [name, t] of tensors) {
    if (name.endsWith("embed_tokens.weight") || (name === "lm_head.weight" && cfg.tieEmbeddings)) {
      skipped.push(name);
      continue;
    }
    if (t.dtype !== "F32") {
      throw new TypeError(
        `Expected float tensor "${name}" in ${dir}/model.safetensors but found ${t.dtype}`,
      );
    }
    params.set(name, t);
  }
  if (!params.has("shared.weight")) {
    throw new TypeError(`Expected "shared.weight" in ${dir}/model.safetensors but found none`);
  }
  return { cfg, tokenizer, params, skipped };
}

/**
 * Puts HF params into the store. The shared embedding may have more rows
 * than the tokenizer (T5 pads its vocabulary to 32128); shapes must match
 * otherwise.
 */
export function loadHfParams(params: TensorMap, store: ParamStore): void {
  for (const [name, t] of params) store.set(name, t.data as Float32Array, t.shape);
}

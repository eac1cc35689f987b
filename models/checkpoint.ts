/**
 * Checkpoints as safetensors. Params carry Hugging Face T5 names, so a
 * store written here is an HF-layout `model.safetensors` (plus this
 * project's extra tables and, unless `paramsOnly`, AdamW state under
 * `opt.*`), and an HF T5 checkpoint directory (`config.json`,
 * `tokenizer.json`, `model.safetensors`) loads by name. A checkpoint loads
 * only if its tensors are exactly the T5 of its config: a param the model
 * reads and the file lacks would otherwise be drawn at random, and a tensor
 * the model never reads (a gated layer under a ReLU config) would be
 * dropped unseen.
 *
 * @module
 */

import {
  Graph,
  type ParamStore,
  readSafetensors,
  type TensorMap,
  writeSafetensors,
} from "../kernels/mod.ts";
import { readHfTokenizer } from "./hf_tokenizer.ts";
import { t5Forward } from "./t5.ts";
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

/**
 * A tensor Hugging Face's T5 ignores when loading (`_keys_to_ignore_on_load_unexpected`):
 * the original t5-small checkpoints carry a cross-attention position bias
 * that T5 never uses.
 */
export const HF_IGNORED = "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight";

/** A Hugging Face T5 checkpoint directory. */
export interface HfCheckpoint {
  readonly cfg: T5Config;
  readonly tokenizer: Tokenizer;
  /** Params by HF name (embedding copies, an unused tied `lm_head` and {@linkcode HF_IGNORED} left out). */
  readonly params: TensorMap;
  /** Names of the tensors left out: `*.embed_tokens.weight`, `lm_head.weight` when tied, {@linkcode HF_IGNORED}. */
  readonly skipped: readonly string[];
}

/** Options of {@linkcode readHfCheckpoint}. */
export interface ReadHfOptions {
  /**
   * `refuse`: throw unless the params are exactly those the config's T5
   * reads ({@linkcode hfCoverage}); `report`: read them as they are (the
   * parity check reports what is unused itself). @default "refuse"
   */
  readonly coverage?: "refuse" | "report";
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
export async function readHfCheckpoint(
  dir: string,
  options: ReadHfOptions = {},
): Promise<HfCheckpoint> {
  const path = `${dir}/config.json`;
  const cfg = parseHfConfig(await Deno.readTextFile(path), path);
  const tokenizer = await readHfTokenizer(dir);
  const file = `${dir}/model.safetensors`;
  const { tensors } = await readSafetensors(file);
  const params: TensorMap = new Map();
  const skipped: string[] = [];
  for (const [name, t] of tensors) {
    if (
      name.endsWith("embed_tokens.weight") || (name === "lm_head.weight" && cfg.tieEmbeddings) ||
      name === HF_IGNORED
    ) {
      skipped.push(name);
      continue;
    }
    if (t.dtype !== "F32") {
      throw new TypeError(`Expected float tensor "${name}" in ${file} but found ${t.dtype}`);
    }
    params.set(name, t);
  }
  if (!params.has("shared.weight")) {
    throw new TypeError(`Expected "shared.weight" in ${file} but found none`);
  }
  if ((options.coverage ?? "refuse") === "refuse") {
    const c = hfCoverage(cfg, params);
    const problems = [
      c.missing.length ? `missing ${c.missing.join(", ")}` : "",
      c.unexpected.length ? `unexpected ${c.unexpected.join(", ")}` : "",
      c.misshapen.length ? `of another shape ${c.misshapen.join("; ")}` : "",
    ].filter(Boolean);
    if (problems.length) {
      throw new TypeError(
        `Expected the tensors of ${file} to be those of a T5 with feed_forward_proj ` +
          `"${cfg.feedForward}" and ${cfg.encoderLayers} + ${cfg.decoderLayers} blocks ` +
          `(config.json) but found them ${problems.join("; ")}`,
      );
    }
  }
  return { cfg, tokenizer, params, skipped };
}

/** How a checkpoint's params match the T5 of its config. */
export interface HfCoverage {
  /** Params the T5 reads that the checkpoint lacks, sorted. */
  readonly missing: string[];
  /** Checkpoint params the T5 never reads, sorted. */
  readonly unexpected: string[];
  /** `name [checkpoint shape] where the model needs [shape]`, sorted. */
  readonly misshapen: string[];
}

/**
 * Compares `params` with the params that plain T5 of `cfg` reads (its
 * teacher-forced graph, built but never run). An empty result means every
 * param loads and nothing is left over.
 *
 * @example
 * ```ts
 * import { hfCoverage } from "./checkpoint.ts";
 * import { t5Config, T5_SIZES } from "./t5_config.ts";
 * const c = hfCoverage(t5Config(T5_SIZES.tiny, 50), new Map());
 * console.log(c.missing.includes("shared.weight")); // true
 * ```
 */
export function hfCoverage(cfg: T5Config, params: TensorMap): HfCoverage {
  const g = new Graph();
  t5Forward(g, cfg, { batch: 1, encLen: 2, decLen: 2 });
  const read = new Map(g.params().map((p) => [p.name, p.shape]));
  const missing: string[] = [], misshapen: string[] = [];
  for (const [name, shape] of read) {
    const t = params.get(name);
    if (!t) missing.push(name);
    else if (t.shape.join() !== shape.join()) {
      misshapen.push(`${name} [${t.shape}] where the model needs [${shape}]`);
    }
  }
  const unexpected = [...params.keys()].filter((n) => !read.has(n));
  return { missing: missing.sort(), unexpected: unexpected.sort(), misshapen: misshapen.sort() };
}

/** Puts HF params into the store (their shapes were checked by {@linkcode readHfCheckpoint}). */
export function loadHfParams(params: TensorMap, store: ParamStore): void {
  for (const [name, t] of params) store.set(name, t.data as Float32Array, t.shape);
}

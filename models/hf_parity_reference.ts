/**
 * The files a Hugging Face run leaves for the T5 parity check
 * (`results/reference/hf_t5_parity.py`, read by `hf_parity.ts`):
 * `reference.json` holds the inputs, the loss, versions and HF's own checks,
 * and each float output is a raw little-endian float32 file beside it
 * (`reference.logits.f32`), named with its shape in the JSON. Also the
 * decoder-input shift HF applies to labels and the error metrics the check
 * reports.
 *
 * @module
 */

import { dirname, join } from "node:path";

/** The `format` field this code reads and writes. */
export const REFERENCE_FORMAT = "elmbench-hf-t5-parity/1";

/** The float outputs compared, in report order. */
export const OUTPUT_NAMES = ["encoder_hidden", "decoder_hidden", "logits"] as const;
/** One of {@linkcode OUTPUT_NAMES}. */
export type OutputName = typeof OUTPUT_NAMES[number];

/** A float output and its shape. */
export interface FloatOutput {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** A teacher-forced pass: its inputs and what it computed. */
export interface ParityCase {
  /** `[batch, encLen]`, pad 0; the encoder mask is `ids != 0`. */
  readonly inputIds: BigInt64Array;
  /** `[batch, decLen]`, ignored positions -100. */
  readonly labels: BigInt64Array;
  /** `[batch, decLen]`: the labels shifted right (see {@linkcode shiftRight}). */
  readonly decoderInputIds: BigInt64Array;
  readonly batch: number;
  readonly encLen: number;
  readonly decLen: number;
  /** `encoder_hidden` `[B, encLen, D]`, `decoder_hidden` `[B, decLen, D]`, `logits` `[B, decLen, V]`. */
  readonly outputs: Readonly<Record<OutputName, FloatOutput>>;
  /** Mean cross entropy over the labels that are not -100. */
  readonly loss: number;
  /** Texts and the ids HF's tokenizer gave them (no special tokens added). */
  readonly tokenizerChecks: readonly { readonly text: string; readonly ids: readonly number[] }[];
}

/** A reference read from disk: the case and the rest of the JSON (versions, device, checks). */
export interface ParityReference extends ParityCase {
  readonly path: string;
  readonly meta: Readonly<Record<string, unknown>>;
}

function matrix(json: Record<string, unknown>, key: string, path: string): number[][] {
  const m = json[key];
  if (
    !Array.isArray(m) || m.length === 0 ||
    !m.every((r) => Array.isArray(r) && r.length === m[0].length && r.every(Number.isInteger))
  ) {
    throw new TypeError(
      `Expected "${key}" in ${path} to be a non-empty rectangular integer matrix`,
    );
  }
  return m;
}

const flat = (m: number[][]) => BigInt64Array.from(m.flat(), BigInt);

/**
 * Reads `reference.json` and the float32 files it names. The encoder mask
 * must be `ids != 0`: elmbench derives it from the pad id.
 */
export async function readReference(path: string): Promise<ParityReference> {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new TypeError(`Cannot read the parity reference ${path}: ${(e as Error).message}`);
  }
  if (json.format !== REFERENCE_FORMAT) {
    throw new TypeError(
      `Expected format "${REFERENCE_FORMAT}" in ${path} but found ${JSON.stringify(json.format)}`,
    );
  }
  const ids = matrix(json, "input_ids", path);
  const mask = matrix(json, "attention_mask", path);
  const labels = matrix(json, "labels", path);
  const dec = matrix(json, "decoder_input_ids", path);
  const [batch, encLen, decLen] = [ids.length, ids[0].length, labels[0].length];
  if (labels.length !== batch || dec.length !== batch || dec[0].length !== decLen) {
    throw new TypeError(
      `Expected labels and decoder_input_ids in ${path} of shape [${batch}, ${decLen}]`,
    );
  }
  ids.forEach((row, b) =>
    row.forEach((id, t) => {
      if (mask[b]?.[t] !== (id === 0 ? 0 : 1)) {
        throw new TypeError(
          `Expected attention_mask[${b}][${t}] in ${path} to be ${
            id === 0 ? 0 : 1
          } (elmbench masks exactly the pad id 0) but found ${mask[b]?.[t]}`,
        );
      }
    })
  );
  const loss = json.loss;
  if (typeof loss !== "number") throw new TypeError(`Expected a number "loss" in ${path}`);
  const specs = (json.outputs ?? {}) as Record<string, { file?: string; shape?: number[] }>;
  const outputs = {} as Record<OutputName, FloatOutput>;
  for (const name of OUTPUT_NAMES) {
    const spec = specs[name];
    if (!spec?.file || !Array.isArray(spec.shape)) {
      throw new TypeError(`Expected outputs.${name} with a file and a shape in ${path}`);
    }
    const file = join(dirname(path), spec.file);
    const bytes = await Deno.readFile(file);
    const n = spec.shape.reduce((a, d) => a * d, 1);
    if (bytes.byteLength !== 4 * n) {
      throw new TypeError(
        `Expected ${file} to hold ${n} float32 values (shape [${spec.shape}]) but it has ${bytes.byteLength} bytes`,
      );
    }
    // Copy into an aligned buffer; the platform is little-endian (checked by safetensors.ts).
    outputs[name] = { data: new Float32Array(bytes.slice().buffer), shape: spec.shape };
  }
  const want = { encoder_hidden: [batch, encLen], decoder_hidden: [batch, decLen] };
  for (const [name, lead] of Object.entries(want)) {
    const shape = outputs[name as OutputName].shape;
    if (shape[0] !== lead[0] || shape[1] !== lead[1]) {
      throw new TypeError(
        `Expected outputs.${name} in ${path} to start [${lead}] but found [${shape}]`,
      );
    }
  }
  const tokenizer = (json.tokenizer ?? {}) as { checks?: { text: string; ids: number[] }[] };
  const meta = { ...json };
  for (const k of ["outputs", "input_ids", "attention_mask", "labels", "decoder_input_ids"]) {
    delete meta[k];
  }
  return {
    path,
    meta,
    batch,
    encLen,
    decLen,
    inputIds: flat(ids),
    labels: flat(labels),
    decoderInputIds: flat(dec),
    outputs,
    loss,
    tokenizerChecks: tokenizer.checks ?? [],
  };
}

const rows = (a: BigInt64Array, width: number) =>
  Array.from(
    { length: a.length / width },
    (_, r) => Array.from(a.subarray(r * width, (r + 1) * width), Number),
  );

/**
 * Writes a case in the layout {@linkcode readReference} reads, as the
 * Python side does (for fixtures and tests; `meta` fields are copied in).
 */
export async function writeReference(
  path: string,
  c: ParityCase,
  meta: Record<string, unknown> = {},
): Promise<void> {
  const base = path.replace(/\.json$/, "");
  const outputs: Record<string, unknown> = {};
  for (const name of OUTPUT_NAMES) {
    const file = `${base}.${name}.f32`;
    const { data, shape } = c.outputs[name];
    await Deno.writeFile(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    outputs[name] = { file: file.slice(dirname(file).length + 1), shape, dtype: "float32" };
  }
  const ids = rows(c.inputIds, c.encLen);
  const json = {
    ...meta,
    format: REFERENCE_FORMAT,
    input_ids: ids,
    attention_mask: ids.map((r) => r.map((id) => (id === 0 ? 0 : 1))),
    labels: rows(c.labels, c.decLen),
    decoder_input_ids: rows(c.decoderInputIds, c.decLen),
    outputs,
    loss: c.loss,
    tokenizer: { checks: c.tokenizerChecks },
  };
  await Deno.writeTextFile(path, JSON.stringify(json, null, 1));
}

/**
 * Hugging Face's `T5ForConditionalGeneration._shift_right`: each row of
 * `labels` `[batch, len]` moved right by one, `start` in front, and -100
 * replaced by `pad`.
 *
 * @example
 * ```ts
 * import { shiftRight } from "./hf_parity_reference.ts";
 * console.log(shiftRight(BigInt64Array.of(5n, 1n, -100n), 1)); // [0n, 5n, 1n]
 * ```
 */
export function shiftRight(
  labels: BigInt64Array,
  batch: number,
  start = 0,
  pad = 0,
): BigInt64Array {
  const len = labels.length / batch;
  if (!Number.isInteger(len)) {
    throw new RangeError(`Expected ${labels.length} labels to split into ${batch} rows`);
  }
  const out = new BigInt64Array(labels.length);
  for (let b = 0; b < batch; b++) {
    out[b * len] = BigInt(start);
    for (let t = 1; t < len; t++) {
      const v = labels[b * len + t - 1];
      out[b * len + t] = v === -100n ? BigInt(pad) : v;
    }
  }
  return out;
}

/** How far `ours` is from `ref`. */
export interface ErrorStats {
  /** max |a - b|. */
  readonly maxAbs: number;
  /** max |b|. */
  readonly maxRef: number;
  /** maxAbs / maxRef. */
  readonly relMax: number;
  /** ‖a - b‖ / ‖b‖. */
  readonly relL2: number;
  /** Flat index of the largest difference. */
  readonly worst: number;
}

/**
 * Error metrics of `ours` against `ref` (accumulated in float64). A NaN in
 * either makes every metric NaN, so it can never pass a tolerance.
 *
 * @example
 * ```ts
 * import { compareArrays } from "./hf_parity_reference.ts";
 * console.log(compareArrays([1, 2, 3], [1, 2, 4]).relMax); // 0.25
 * ```
 */
export function compareArrays(ours: ArrayLike<number>, ref: ArrayLike<number>): ErrorStats {
  if (ours.length !== ref.length) {
    throw new RangeError(`Expected ${ref.length} values to compare but found ${ours.length}`);
  }
  let maxAbs = 0, maxRef = 0, d2 = 0, r2 = 0, worst = 0, nan = false;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ours[i] - ref[i]);
    if (Number.isNaN(d)) nan = true;
    if (d > maxAbs) [maxAbs, worst] = [d, i];
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
    d2 += d * d;
    r2 += ref[i] * ref[i];
  }
  if (nan) return { maxAbs: NaN, maxRef, relMax: NaN, relL2: NaN, worst };
  const div = (a: number, b: number) => (b === 0 ? (a === 0 ? 0 : Infinity) : a / b);
  return {
    maxAbs,
    maxRef,
    relMax: div(maxAbs, maxRef),
    relL2: div(Math.sqrt(d2), Math.sqrt(r2)),
    worst,
  };
}

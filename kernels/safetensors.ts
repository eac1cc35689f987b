/**
 * Reads and writes the safetensors format: an 8-byte little-endian header
 * length, a JSON header mapping tensor names to
 * `{dtype, shape, data_offsets: [begin, end]}` (offsets relative to the data
 * section) plus an optional `__metadata__` string map, then the raw
 * little-endian tensor bytes.
 *
 * Reading accepts F32, F64, F16 and BF16 (all returned as float32, dtype
 * "F32") and I32, I64. Writing supports F32, I32 and I64. Tensors are written
 * in name order so that equal checkpoints are equal bytes.
 *
 * @module
 */

/** The dtypes a {@linkcode Tensor} can hold after reading. */
export type TensorDtype = "F32" | "I32" | "I64";

/** One tensor: its dtype, shape and row-major data. */
export interface Tensor {
  dtype: TensorDtype;
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array;
}

/** Tensors by name, in the order they were read (or are to be written). */
export type TensorMap = Map<string, Tensor>;

/** A parsed file: its tensors and its `__metadata__`. */
export interface Safetensors {
  tensors: TensorMap;
  metadata: Record<string, string>;
}

/** Options of {@linkcode encodeSafetensors} and {@linkcode writeSafetensors}. */
export interface SafetensorsWriteOptions {
  /** Stored as the header's `__metadata__`. @default {} */
  metadata?: Record<string, string>;
}

const ITEM_SIZE: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2, I32: 4, I64: 8 };
/** Headers beyond this are refused: the reference implementation caps at 100 MB. */
const MAX_HEADER = 100_000_000;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new TypeError("Expected a little-endian platform but found a big-endian one");
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function shapeSize(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Parses safetensors bytes. `source` names the file in error messages.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors(
 *   new Map([["w", { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) }]]),
 * );
 * console.log(decodeSafetensors(bytes).tensors.get("w")?.data); // Float32Array(2) [1, 2]
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array, source = "<bytes>"): Safetensors {
  const bad = (what: string) => new SyntaxError(`Malformed safetensors file ${source}: ${what}`);
  if (bytes.length < 8) throw bad(`expected at least 8 bytes but found ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > bytes.length) {
    throw bad(`header length ${headerLen} exceeds the file's ${bytes.length - 8} bytes after it`);
  }
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)),
    );
  } catch (e) {
    throw bad(`header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw bad(`expected the header to be a JSON object but found ${JSON.stringify(header)}`);
  }
  const data = bytes.subarray(8 + headerLen);
  const tensors: TensorMap = new Map();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
        throw bad(`expected __metadata__ to be an object but found ${JSON.stringify(entry)}`);
      }
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== "string") {
          throw bad(`expected __metadata__ "${k}" to be a string but found ${JSON.stringify(v)}`);
        }
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    tensors.set(name, decodeTensor(name, entry, data, bad, source));
  }
  return { tensors, metadata };
}

function decodeTensor(
  name: string,
  entry: unknown,
  data: Uint8Array,
  bad: (what: string) => SyntaxError,
  source: string,
): Tensor {
  const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof e !== "object" || e === null || typeof e.dtype !== "string") {
    throw bad(`tensor "${name}" has no dtype: ${JSON.stringify(entry)}`);
  }
  const dtype = e.dtype;
  const size = ITEM_SIZE[dtype];
  if (size === undefined) {
    throw new TypeError(
      `Unsupported dtype "${dtype}" for tensor "${name}" in ${source}; expected one of ${
        Object.keys(ITEM_SIZE).join(", ")
      }`,
    );
  }
  const shape = e.shape;
  if (!Array.isArray(shape) || !shape.every((s) => Number.isInteger(s) && s >= 0)) {
    throw bad(
      `tensor "${name}" has shape ${JSON.stringify(shape)}, expected non-negative integers`,
    );
  }
  const offs = e.data_offsets;
  if (
    !Array.isArray(offs) || offs.length !== 2 ||
    !offs.every((o) => Number.isInteger(o) && o >= 0) ||
    offs[0] > offs[1] || offs[1] > data.length
  ) {
    throw bad(
      `tensor "${name}" has data_offsets ${
        JSON.stringify(offs)
      } outside the ${data.length} data bytes`,
    );
  }
  const count = shapeSize(shape);
  if (offs[1] - offs[0] !== count * size) {
    throw bad(
      `tensor "${name}" of dtype ${dtype} and shape ${JSON.stringify(shape)} needs ${
        count * size
      } bytes but data_offsets span ${offs[1] - offs[0]}`,
    );
  }
  // slice() copies into a fresh, aligned buffer that the typed array can own.
  const raw = data.slice(offs[0], offs[1]).buffer;
  switch (dtype) {
    case "F32":
      return { dtype: "F32", shape, data: new Float32Array(raw) };
    case "F64":
      return { dtype: "F32", shape, data: Float32Array.from(new Float64Array(raw)) };
    case "F16": {
      const h = new Uint16Array(raw);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(h[i]);
      return { dtype: "F32", shape, data: out };
    }
    case "BF16": {
      // bfloat16 is the top half of a float32.
      const h = new Uint16Array(raw);
      const bits = new Uint32Array(count);
      for (let i = 0; i < count; i++) bits[i] = h[i] << 16;
      return { dtype: "F32", shape, data: new Float32Array(bits.buffer) };
    }
    case "I32":
      return { dtype: "I32", shape, data: new Int32Array(raw) };
    default:
      return { dtype: "I64", shape, data: new BigInt64Array(raw) };
  }
}

/**
 * Serialises tensors (F32, I32, I64) to safetensors bytes, in name order, with
 * the header padded by spaces to a multiple of 8 bytes.
 *
 * @example
 * ```ts
 * import { encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors(
 *   new Map([["ids", { dtype: "I32", shape: [1, 2], data: new Int32Array([4, 5]) }]]),
 *   { metadata: { format: "pt" } },
 * );
 * console.log(bytes.length % 8); // 0
 * ```
 */
export function encodeSafetensors(
  tensors: TensorMap,
  options: SafetensorsWriteOptions = {},
): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (options.metadata !== undefined && Object.keys(options.metadata).length > 0) {
    header.__metadata__ = options.metadata;
  }
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    checkTensor(name, t);
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((new TextEncoder().encode(json).length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const name of names) {
    const d = tensors.get(name)!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), p);
    p += d.byteLength;
  }
  return out;
}

function checkTensor(name: string, t: Tensor): void {
  const want = { F32: Float32Array, I32: Int32Array, I64: BigInt64Array }[t.dtype];
  if (want === undefined) {
    throw new TypeError(
      `Expected dtype F32, I32 or I64 for tensor "${name}" but found "${t.dtype}"`,
    );
  }
  if (!(t.data instanceof want)) {
    throw new TypeError(
      `Expected tensor "${name}" of dtype ${t.dtype} to hold a ${want.name} but found a ${t.data.constructor.name}`,
    );
  }
  if (
    !t.shape.every((s) => Number.isInteger(s) && s >= 0) || shapeSize(t.shape) !== t.data.length
  ) {
    throw new TypeError(
      `Expected tensor "${name}" of shape ${JSON.stringify(t.shape)} to hold ${
        shapeSize(t.shape)
      } values but found ${t.data.length}`,
    );
  }
}

/**
 * Reads a safetensors file.
 *
 * @example
 * ```ts ignore
 * import { readSafetensors } from "./safetensors.ts";
 * const { tensors, metadata } = await readSafetensors("checkpoint.safetensors");
 * ```
 */
export async function readSafetensors(path: string): Promise<Safetensors> {
  return decodeSafetensors(await Deno.readFile(path), path);
}

/**
 * Writes tensors to a safetensors file (F32, I32, I64).
 *
 * @example
 * ```ts ignore
 * import { writeSafetensors } from "./safetensors.ts";
 * await writeSafetensors("w.safetensors", new Map([["w", { dtype: "F32", shape: [1], data: new Float32Array([1]) }]]));
 * ```
 */
export async function writeSafetensors(
  path: string,
  tensors: TensorMap,
  options: SafetensorsWriteOptions = {},
): Promise<void> {
  await Deno.writeFile(path, encodeSafetensors(tensors, options));
}

/**
 * A tiny WebAssembly emitter, so that the engine's SIMD kernels are
 * generated from readable TypeScript instead of shipped as opaque bytes (no
 * .wat compiler is needed at build time). It knows the handful of opcodes
 * the kernels use, a few structured-control helpers, and how to assemble a
 * module that imports one (optionally shared) memory `env.mem`.
 *
 * Private to kernels/.
 *
 * @module
 */

// Value types and opcodes, named as in the WebAssembly spec.
export const T_I32 = 0x7f;
export const T_F32 = 0x7d;
export const T_V128 = 0x7b;
export const BLOCK = 0x02, LOOP = 0x03, IF = 0x04, ELSE = 0x05, END = 0x0b, BR = 0x0c;
export const BR_IF = 0x0d;
export const VOID = 0x40;
export const LOCAL_GET = 0x20, LOCAL_SET = 0x21;
export const I32_LOAD = 0x28, F32_LOAD = 0x2a, I32_LOAD8_U = 0x2d, I32_CONST = 0x41;
export const I32_EQZ = 0x45, I32_NE = 0x47, I32_GE_S = 0x4e, I32_GT_S = 0x4a;
export const I32_ADD = 0x6a, I32_MUL = 0x6c, I32_SHL = 0x74;
export const F32_NE = 0x5c;
const SIMD = 0xfd;
export const V128_LOAD = 0x00, V128_STORE = 0x0b, V128_CONST = 0x0c, F32X4_SPLAT = 0x13;
export const F32X4_ADD = 0xe4, F32X4_SUB = 0xe5, F32X4_MUL = 0xe6, F32X4_DIV = 0xe7;
export const F32X4_SQRT = 0xe3;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export function simd(op: number): number[] {
  return [SIMD, ...uleb(op)];
}

export const get = (i: number): number[] => [LOCAL_GET, ...uleb(i)];
export const set = (i: number): number[] => [LOCAL_SET, ...uleb(i)];
export const i32 = (v: number): number[] => [I32_CONST, ...sleb(v)];
export const memarg = (
  align: number,
  offset: number,
): number[] => [...uleb(align), ...uleb(offset)];
/** `local[i] += delta` (i32) */
export const inc = (i: number, delta: number[]): number[] => [
  ...get(i),
  ...delta,
  I32_ADD,
  ...set(i),
];
/** A v128 of zeros. */
export const zero128 = (): number[] => [...simd(V128_CONST), ...new Array(16).fill(0)];
/** `v128.load` at `addr + offset` (16-byte aligned hint). */
export const load128 = (addr: number[], offset = 0): number[] => [
  ...addr,
  ...simd(V128_LOAD),
  ...memarg(4, offset),
];
/** `v128.store` of `value` at `addr + offset`. */
export const store128 = (addr: number[], value: number[], offset = 0): number[] => [
  ...addr,
  ...value,
  ...simd(V128_STORE),
  ...memarg(4, offset),
];
/** `addr + index * 4` as i32: the byte address of float or int `index`. */
export const at4 = (addr: number[], index: number[]): number[] => [
  ...addr,
  ...index,
  ...i32(2),
  I32_SHL,
  I32_ADD,
];

/** `if (cond) { body }` */
export const ifThen = (cond: number[], body: number[]): number[] => [
  ...cond,
  IF,
  VOID,
  ...body,
  END,
];

/** `cond ? then : otherwise`, both of value type `type`. */
export const ifElse = (
  cond: number[],
  type: number,
  then: number[],
  otherwise: number[],
): number[] => [...cond, IF, type, ...then, ELSE, ...otherwise, END];

/**
 * `while (!(exit)) { body }`: a block around a loop whose head branches out
 * when `exit` (an i32 condition) holds and whose tail branches back. Inside
 * `body`, `br 1` leaves the loop (`br 0` continues it).
 */
export const whileNot = (exit: number[], body: number[]): number[] => [
  BLOCK,
  VOID,
  LOOP,
  VOID,
  ...exit,
  BR_IF,
  1,
  ...body,
  BR,
  0,
  END,
  END,
];

/** One function of a module: its signature, locals (runs of one type) and code. */
export interface WasmFunction {
  readonly name: string;
  readonly params: readonly number[];
  /** `[count, type]` runs, numbered after the params. */
  readonly locals: readonly (readonly [number, number])[];
  readonly code: readonly number[];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  const bytes = Array.from(new TextEncoder().encode(s));
  return [...uleb(bytes.length), ...bytes];
}

/**
 * Assembles a module of `funcs` (no results; each exported under its name)
 * over an imported memory `env.mem`: shared when `shared` (needed to share
 * one heap with worker threads), of at most `maxPages` pages.
 */
export function emitModule(
  funcs: readonly WasmFunction[],
  shared: boolean,
  maxPages: number,
): Uint8Array<ArrayBuffer> {
  const types = vec(funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), 0]));
  const limits = [shared ? 0x03 : 0x01, ...uleb(1), ...uleb(maxPages)];
  const imports = vec([[...name("env"), ...name("mem"), 0x02, ...limits]]);
  const decls = vec(funcs.map((_, i) => uleb(i)));
  const exports = vec(funcs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]));
  const code = vec(funcs.map((f) => {
    const body = [...vec(f.locals.map(([n, t]) => [...uleb(n), t])), ...f.code, END];
    return [...uleb(body.length), ...body];
  }));
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, types),
    ...section(2, imports),
    ...section(3, decls),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

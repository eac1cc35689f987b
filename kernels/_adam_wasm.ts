/**
 * Adam's update as WebAssembly SIMD kernels (emitted by `_wasm_emit.ts`),
 * for tables whose gradients are computed outside ONNX Runtime:
 *
 * - `adam(p, g, m, v, n, b1, c1, b2, c2, stepSize, rootBc2, eps)`: every one
 *   of `n` floats (a multiple of 4);
 * - `adam_rows(p, g, m, v, rows, k0, k1, d, ...)`: the `d` floats of rows
 *   `rows[k0 .. k1)` only, and zeroes their gradient, which leaves the
 *   gradient table clean for the next step's scatter.
 *
 * Per float, in the order and float32 rounding of the ONNX graph of
 * `optim.ts` (f32x4 arithmetic rounds each operation, and WebAssembly never
 * fuses a multiply into an add), so the two agree to the last bit where
 * ONNX Runtime rounds each operation too:
 *
 * ```
 * m' = m * b1 + g * c1                 (c1 = 1 - b1 in float32)
 * v' = v * b2 + (g * g) * c2           (c2 = 1 - b2)
 * p' = p - (m' / (sqrt(v') / rootBc2 + eps)) * stepSize
 * ```
 *
 * with `stepSize = lr / (1 - b1^t)` and `rootBc2 = sqrt(1 - b2^t)`, computed
 * by the caller as the graph computes them.
 *
 * @module
 */

import {
  at4,
  F32X4_ADD,
  F32X4_DIV,
  F32X4_MUL,
  F32X4_SPLAT,
  F32X4_SQRT,
  F32X4_SUB,
  get,
  i32,
  I32_ADD,
  I32_GE_S,
  I32_LOAD,
  I32_MUL,
  I32_SHL,
  inc,
  load128,
  memarg,
  set,
  simd,
  store128,
  T_F32,
  T_I32,
  T_V128,
  type WasmFunction,
  whileNot,
  zero128,
} from "./_wasm_emit.ts";

/** The seven float arguments, in order. */
const CONSTS = 7;

interface Layout {
  /** Param indices of p, g, m, v and of the first float argument. */
  readonly p: number;
  readonly g: number;
  readonly m: number;
  readonly v: number;
  readonly consts: number;
  /** i32 locals: the byte offset and its end. */
  readonly o: number;
  readonly end: number;
  /** v128 locals: the splatted constants, then g, m', v'. */
  readonly splat: number;
}

/** Splats the float arguments into v128 locals. */
function splats(l: Layout): number[] {
  return Array.from({ length: CONSTS }, (_, i) => [
    ...get(l.consts + i),
    ...simd(F32X4_SPLAT),
    ...set(l.splat + i),
  ]).flat();
}

/** The update of bytes `o .. end` of the four tables, 16 at a time. */
function span(l: Layout, zeroGrad: boolean): number[] {
  const [B1, C1, B2, C2, SS, RB2, EPS] = Array.from({ length: CONSTS }, (_, i) => l.splat + i);
  const GV = l.splat + CONSTS, MV = GV + 1, VV = GV + 2;
  const addr = (t: number) => [...get(t), ...get(l.o), I32_ADD];
  const mul = simd(F32X4_MUL), add = simd(F32X4_ADD);
  return whileNot([...get(l.o), ...get(l.end), I32_GE_S], [
    ...load128(addr(l.g)),
    ...set(GV),
    // m' = m * b1 + g * c1
    ...load128(addr(l.m)),
    ...get(B1),
    ...mul,
    ...get(GV),
    ...get(C1),
    ...mul,
    ...add,
    ...set(MV),
    ...store128(addr(l.m), get(MV)),
    // v' = v * b2 + (g * g) * c2
    ...load128(addr(l.v)),
    ...get(B2),
    ...mul,
    ...get(GV),
    ...get(GV),
    ...mul,
    ...get(C2),
    ...mul,
    ...add,
    ...set(VV),
    ...store128(addr(l.v), get(VV)),
    // p' = p - (m' / (sqrt(v') / rootBc2 + eps)) * stepSize
    ...store128(addr(l.p), [
      ...load128(addr(l.p)),
      ...get(MV),
      ...get(VV),
      ...simd(F32X4_SQRT),
      ...get(RB2),
      ...simd(F32X4_DIV),
      ...get(EPS),
      ...add,
      ...simd(F32X4_DIV),
      ...get(SS),
      ...mul,
      ...simd(F32X4_SUB),
    ]),
    ...(zeroGrad ? store128(addr(l.g), zero128()) : []),
    ...inc(l.o, i32(16)),
  ]);
}

function denseAdam(): WasmFunction {
  // params: p g m v n, 7 floats; locals: o end (i32), 7 splats + 3 (v128)
  const l: Layout = { p: 0, g: 1, m: 2, v: 3, consts: 5, o: 12, end: 13, splat: 14 };
  return {
    name: "adam",
    params: [...new Array(5).fill(T_I32), ...new Array(CONSTS).fill(T_F32)],
    locals: [[2, T_I32], [CONSTS + 3, T_V128]],
    code: [
      ...splats(l),
      ...i32(0),
      ...set(l.o),
      ...get(4),
      ...i32(2),
      I32_SHL,
      ...set(l.end),
      ...span(l, false),
    ],
  };
}

function rowsAdam(): WasmFunction {
  // params: p g m v rows k0 k1 d, 7 floats; locals: o end rowBytes (i32), v128s
  const P_ROWS = 4, P_K0 = 5, P_K1 = 6, P_D = 7;
  const l: Layout = { p: 0, g: 1, m: 2, v: 3, consts: 8, o: 15, end: 16, splat: 18 };
  const L_ROWB = 17;
  return {
    name: "adam_rows",
    params: [...new Array(8).fill(T_I32), ...new Array(CONSTS).fill(T_F32)],
    locals: [[3, T_I32], [CONSTS + 3, T_V128]],
    code: [
      ...splats(l),
      ...get(P_D),
      ...i32(2),
      I32_SHL,
      ...set(L_ROWB),
      ...whileNot([...get(P_K0), ...get(P_K1), I32_GE_S], [
        // o = rows[k] * rowBytes; end = o + rowBytes
        ...at4(get(P_ROWS), get(P_K0)),
        I32_LOAD,
        ...memarg(2, 0),
        ...get(L_ROWB),
        I32_MUL,
        ...set(l.o),
        ...get(l.o),
        ...get(L_ROWB),
        I32_ADD,
        ...set(l.end),
        ...span(l, true),
        ...inc(P_K0, i32(1)),
      ]),
    ],
  };
}

/** The optimizer kernels, for the engine's module. */
export const ADAM_FUNCTIONS: readonly WasmFunction[] = [denseAdam(), rowsAdam()];

/** Adam's float arguments, as {@linkcode adamConstants} computes them. */
export type AdamConstants = readonly [
  b1: number,
  c1: number,
  b2: number,
  c2: number,
  stepSize: number,
  rootBc2: number,
  eps: number,
];

/**
 * The float32 arguments of step `t` (1-based), computed as the ONNX graph
 * computes them: the bias corrections in float64, then rounded to float32,
 * and the step size as a float32 division.
 */
export function adamConstants(
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  t: number,
): AdamConstants {
  const f = Math.fround;
  const bc1 = f(1 - Math.pow(beta1, t));
  const rootBc2 = f(Math.sqrt(1 - Math.pow(beta2, t)));
  return [f(beta1), f(1 - beta1), f(beta2), f(1 - beta2), f(f(lr) / bc1), rootBc2, f(eps)];
}

/** The kernels as JS sees them (pointers are byte addresses). */
export interface AdamKernels {
  adam(p: number, g: number, m: number, v: number, n: number, ...c: AdamConstants): void;
  adam_rows(
    p: number,
    g: number,
    m: number,
    v: number,
    rows: number,
    k0: number,
    k1: number,
    d: number,
    ...c: AdamConstants
  ): void;
}

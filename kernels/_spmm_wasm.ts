/**
 * The sparse propagation kernel, emitted as WebAssembly SIMD by
 * `_wasm_emit.ts`:
 *
 * `spmm(offsets, columns, values, x, y, d, r0, r1, sum, base, alpha)`: for
 * rows `r0 .. r1` of a CSR matrix `A`, `a[r] = sum_k values[k] *
 * x[columns[k]]` (pointers are byte addresses, `d` is the row width in
 * floats, a multiple of 4); then `y[r] = a[r]` unless `y` is 0, and
 * `sum[r] = (base[r] + a[r]) * alpha` unless `sum` is 0 (`base` must then be
 * given; it may be `sum` itself). The second store fuses LightGCN's layer
 * mean into the product: the first layer starts the sum from `x0` (`base =
 * x0`), later ones add to it (`base = sum`), and the last one scales it by
 * `1 / (L + 1)` and stores no `y` at all, so neither a copy of `x0` nor a
 * scaling pass is needed. Multiplying by `alpha = 1` is exact, so the sums
 * round as `x0 + A x0 + ... + A^L x0` added in that order would.
 *
 * Accumulators for 16 floats stay in four v128 registers while the row's
 * non-zeros stream past, so the outputs are written once per row instead of
 * once per non-zero; a one-register loop handles a tail of 4..12 floats.
 * Column panels narrower than `d` were measured slower at d = 512 (more TLB
 * misses), so a row is always done whole.
 *
 * @module
 */

import {
  at4,
  F32_LOAD,
  F32X4_ADD,
  F32X4_MUL,
  F32X4_SPLAT,
  get,
  i32,
  I32_ADD,
  I32_GE_S,
  I32_GT_S,
  I32_LOAD,
  I32_MUL,
  I32_SHL,
  ifThen,
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

// Parameters.
const P_OFF = 0, P_COL = 1, P_VAL = 2, P_X = 3, P_Y = 4, P_D = 5, P_R0 = 6, P_R1 = 7;
const P_SUM = 8, P_BASE = 9, P_ALPHA = 10;
// i32 locals, then v128 locals.
const L_ROWB = 11, L_K0 = 12, L_K1 = 13, L_K = 14, L_J = 15, L_YROW = 16, L_XA = 17;
const L_SROW = 18, L_BROW = 19;
const L_W = 20, L_ACC = 21, L_ALPHA = 25; // L_ACC .. L_ACC + 3

/** Loop over j while `j + lanes * 16 <= rowBytes`, with `lanes` accumulators. */
function jLoop(lanes: number): number[] {
  const width = lanes * 16;
  const each = (f: (l: number) => number[]) => Array.from({ length: lanes }, (_, l) => f(l)).flat();
  const kBody = [
    ...at4(get(P_VAL), get(L_K)),
    F32_LOAD,
    ...memarg(2, 0),
    ...simd(F32X4_SPLAT),
    ...set(L_W),
    // xa = x + columns[k] * rowBytes + j
    ...get(P_X),
    ...at4(get(P_COL), get(L_K)),
    I32_LOAD,
    ...memarg(2, 0),
    ...get(L_ROWB),
    I32_MUL,
    I32_ADD,
    ...get(L_J),
    I32_ADD,
    ...set(L_XA),
    ...each((l) => [
      ...get(L_ACC + l),
      ...get(L_W),
      ...load128(get(L_XA), 16 * l),
      ...simd(F32X4_MUL),
      ...simd(F32X4_ADD),
      ...set(L_ACC + l),
    ]),
    ...inc(L_K, i32(1)),
  ];
  const rowAt = (row: number) => [...get(row), ...get(L_J), I32_ADD];
  return whileNot([...get(L_J), ...i32(width), I32_ADD, ...get(L_ROWB), I32_GT_S], [
    ...each((l) => [...zero128(), ...set(L_ACC + l)]),
    ...get(L_K0),
    ...set(L_K),
    ...whileNot([...get(L_K), ...get(L_K1), I32_GE_S], kBody),
    ...ifThen(get(P_Y), each((l) => store128(rowAt(L_YROW), get(L_ACC + l), 16 * l))),
    ...ifThen(
      get(P_SUM),
      each((l) =>
        store128(rowAt(L_SROW), [
          ...load128(rowAt(L_BROW), 16 * l),
          ...get(L_ACC + l),
          ...simd(F32X4_ADD),
          ...get(L_ALPHA),
          ...simd(F32X4_MUL),
        ], 16 * l)
      ),
    ),
    ...inc(L_J, i32(width)),
  ]);
}

function spmmCode(): number[] {
  const rowOf = (ptr: number) => [...get(ptr), ...get(P_R0), ...get(L_ROWB), I32_MUL, I32_ADD];
  return [
    ...get(P_D),
    ...i32(2),
    I32_SHL,
    ...set(L_ROWB),
    ...get(P_ALPHA),
    ...simd(F32X4_SPLAT),
    ...set(L_ALPHA),
    ...whileNot([...get(P_R0), ...get(P_R1), I32_GE_S], [
      // k0 = offsets[r], k1 = offsets[r + 1]
      ...at4(get(P_OFF), get(P_R0)),
      ...set(L_XA),
      ...get(L_XA),
      I32_LOAD,
      ...memarg(2, 0),
      ...set(L_K0),
      ...get(L_XA),
      I32_LOAD,
      ...memarg(2, 4),
      ...set(L_K1),
      ...rowOf(P_Y),
      ...set(L_YROW),
      ...rowOf(P_SUM),
      ...set(L_SROW),
      ...rowOf(P_BASE),
      ...set(L_BROW),
      ...i32(0),
      ...set(L_J),
      ...jLoop(4),
      ...jLoop(1),
      ...inc(P_R0, i32(1)),
    ]),
  ];
}

/** The propagation kernels, for the engine's module. */
export const SPMM_FUNCTIONS: readonly WasmFunction[] = [{
  name: "spmm",
  params: [...new Array(10).fill(T_I32), T_F32],
  locals: [[9, T_I32], [6, T_V128]],
  code: spmmCode(),
}];

/** The kernels as JS sees them (all pointers are byte addresses). */
export interface SpmmKernels {
  spmm(
    off: number,
    col: number,
    val: number,
    x: number,
    y: number,
    d: number,
    r0: number,
    r1: number,
    sum: number,
    base: number,
    alpha: number,
  ): void;
}

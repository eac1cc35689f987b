/**
 * The sparse propagation kernels, emitted as WebAssembly SIMD by
 * `_wasm_emit.ts`:
 *
 * `spmm(offsets, columns, values, x, y, d, r0, r1, sum, base, alpha, list,
 * mask)`: for rows `r0 .. r1` of a CSR matrix `A` (or, when `list` is not 0,
 * for rows `list[r0 .. r1)`), `a[r] = sum_k values[k] * x[columns[k]]`
 * (pointers are byte addresses, `d` is the row width in floats, a multiple
 * of 4); then `y[r] = a[r]` unless `y` is 0, and
 * `sum[r] = (base[r] + a[r]) * alpha` unless `sum` is 0 (`base` must then be
 * given; it may be `sum` itself). The second store fuses LightGCN's layer
 * mean into the product: the first layer starts the sum from `x0` (`base =
 * x0`), later ones add to it (`base = sum`), and the last one scales it by
 * `1 / (L + 1)` and stores no `y` at all, so neither a copy of `x0` nor a
 * scaling pass is needed. Multiplying by `alpha = 1` is exact, so the sums
 * round as `x0 + A x0 + ... + A^L x0` added in that order would.
 *
 * `spmm_masked` (same arguments) skips the non-zeros whose column has a 0
 * byte in `mask`: for an `x` known to be zero outside a few rows (a batch's
 * gradient, in the first layer of LightGCN's backward), it reads those rows
 * only (on Beauty, a batch's rows take a third of the non-zeros; the layer
 * took about half the time). Skipping zero rows leaves the sums as they are.
 *
 * Accumulators for 64 floats stay in sixteen v128 registers while the
 * row's non-zeros stream past, so the outputs are written once per row
 * instead of once per non-zero, and each non-zero's column, weight and
 * mask byte are read once per 64 floats (sixteen registers measured 5-15%
 * faster than four at d = 64 on Beauty's graph, eight in between); loops of
 * four and of one register handle the tail.
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
  I32_LOAD8_U,
  I32_MUL,
  I32_SHL,
  ifElse,
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
const P_SUM = 8, P_BASE = 9, P_ALPHA = 10, P_LIST = 11, P_MASK = 12;
// i32 locals, then v128 locals.
const L_ROWB = 13, L_K0 = 14, L_K1 = 15, L_K = 16, L_J = 17, L_YROW = 18, L_XA = 19;
const L_SROW = 20, L_BROW = 21, L_ROW = 22;
const LANES = 16;
const L_W = 23, L_ALPHA = 24, L_ACC = 25; // L_ACC .. L_ACC + LANES - 1

/** Loop over j while `j + lanes * 16 <= rowBytes`, with `lanes` accumulators. */
function jLoop(lanes: number, masked: boolean): number[] {
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
  ];
  const accumulate = each((l) => [
    ...get(L_ACC + l),
    ...get(L_W),
    ...load128(get(L_XA), 16 * l),
    ...simd(F32X4_MUL),
    ...simd(F32X4_ADD),
    ...set(L_ACC + l),
  ]);
  const column = [...at4(get(P_COL), get(L_K)), I32_LOAD, ...memarg(2, 0)];
  kBody.push(
    ...(masked
      ? ifThen([...get(P_MASK), ...column, I32_ADD, I32_LOAD8_U, ...memarg(0, 0)], accumulate)
      : accumulate),
    ...inc(L_K, i32(1)),
  );
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

function spmmCode(masked: boolean): number[] {
  const rowOf = (ptr: number) => [...get(ptr), ...get(L_ROW), ...get(L_ROWB), I32_MUL, I32_ADD];
  return [
    ...get(P_D),
    ...i32(2),
    I32_SHL,
    ...set(L_ROWB),
    ...get(P_ALPHA),
    ...simd(F32X4_SPLAT),
    ...set(L_ALPHA),
    ...whileNot([...get(P_R0), ...get(P_R1), I32_GE_S], [
      // row = list ? list[i] : i
      ...ifElse(get(P_LIST), T_I32, [...at4(get(P_LIST), get(P_R0)), I32_LOAD, ...memarg(2, 0)], [
        ...get(P_R0),
      ]),
      ...set(L_ROW),
      // k0 = offsets[row], k1 = offsets[row + 1]
      ...at4(get(P_OFF), get(L_ROW)),
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
      ...jLoop(LANES, masked),
      ...jLoop(4, masked),
      ...jLoop(1, masked),
      ...inc(P_R0, i32(1)),
    ]),
  ];
}

/** The propagation kernels, for the engine's module. */
export const SPMM_FUNCTIONS: readonly WasmFunction[] = [false, true].map((masked) => ({
  name: masked ? "spmm_masked" : "spmm",
  params: [...new Array(10).fill(T_I32), T_F32, T_I32, T_I32],
  locals: [[10, T_I32], [2 + LANES, T_V128]],
  code: spmmCode(masked),
}));

/** The arguments of both kernels (all pointers are byte addresses). */
type SpmmArgs = [
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
  list: number,
  mask: number,
];

/** The kernels as JS sees them. */
export interface SpmmKernels {
  spmm(...args: SpmmArgs): void;
  spmm_masked(...args: SpmmArgs): void;
}

/**
 * Row gathers and scatters as WebAssembly SIMD kernels (emitted by
 * `_wasm_emit.ts`), for the split steps that move a batch's rows between a
 * table in the heap and a session's inputs and gradients:
 *
 * - `rows_copy(dst, src, ids, n, d)`: `dst[k] = src[ids[k]]` for `k < n`;
 * - `rows_add(dst, src, ids, n, d)`: `dst[ids[k]] += src[k]`, in the order
 *   of `k`, so that repeated rows add up as a plain loop adds them.
 *
 * Rows are `d` floats (a multiple of 4); pointers are byte addresses.
 *
 * @module
 */

import {
  at4,
  F32X4_ADD,
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
  T_I32,
  type WasmFunction,
  whileNot,
} from "./_wasm_emit.ts";

// Parameters, then i32 locals.
const P_DST = 0, P_SRC = 1, P_IDS = 2, P_N = 3, P_D = 4;
const L_K = 5, L_ROWB = 6, L_FROM = 7, L_TO = 8, L_J = 9;

function rowsCode(add: boolean): number[] {
  // copy: from = src + ids[k] * rowBytes, to = dst + k * rowBytes; add: the reverse.
  const table = [...at4(get(P_IDS), get(L_K)), I32_LOAD, ...memarg(2, 0), ...get(L_ROWB), I32_MUL];
  const dense = [...get(L_K), ...get(L_ROWB), I32_MUL];
  const addr = (base: number) => [...get(base), ...get(L_J), I32_ADD];
  return [
    ...get(P_D),
    ...i32(2),
    I32_SHL,
    ...set(L_ROWB),
    ...whileNot([...get(L_K), ...get(P_N), I32_GE_S], [
      ...get(P_SRC),
      ...(add ? dense : table),
      I32_ADD,
      ...set(L_FROM),
      ...get(P_DST),
      ...(add ? table : dense),
      I32_ADD,
      ...set(L_TO),
      ...i32(0),
      ...set(L_J),
      ...whileNot([...get(L_J), ...get(L_ROWB), I32_GE_S], [
        ...store128(
          addr(L_TO),
          add
            ? [...load128(addr(L_TO)), ...load128(addr(L_FROM)), ...simd(F32X4_ADD)]
            : load128(addr(L_FROM)),
        ),
        ...inc(L_J, i32(16)),
      ]),
      ...inc(L_K, i32(1)),
    ]),
  ];
}

/** The row kernels, for the engine's module. */
export const ROWS_FUNCTIONS: readonly WasmFunction[] = [false, true].map((add) => ({
  name: add ? "rows_add" : "rows_copy",
  params: new Array(5).fill(T_I32),
  locals: [[5, T_I32]],
  code: rowsCode(add),
}));

/** The kernels as JS sees them. */
export interface RowsKernels {
  rows_copy(dst: number, src: number, ids: number, n: number, d: number): void;
  rows_add(dst: number, src: number, ids: number, n: number, d: number): void;
}

/**
 * A tiny WebAssembly emitter for the sparse propagation kernel, so that the
 * SIMD code is generated from readable TypeScript instead of shipped as
 * opaque bytes (no .wat compiler is needed at build time).
 *
 * The module imports one (optionally shared) memory `env.mem` and exports:
 *
 * - `spmm(offsets, columns, values, x, y, d, r0, r1, w)`: for rows `r0 .. r1`,
 *   `y[r] = sum_k values[k] * x[columns[k]]` over the first `w` floats of
 *   each row (pointers are byte addresses, `d` is the row stride in floats;
 *   `w <= d` and both are multiples of 4). A `w < d` computes a column panel;
 *   panels were measured slower at d = 512 (more TLB misses), so the engine
 *   passes `w = d`;
 * - `spmm_acc(..., w, sum)`: the same, and also `sum[r] += y[r]`, which fuses
 *   the layer mean of LightGCN-style propagation into the product;
 * - `scale(ptr, count, alpha)`: `ptr[0 .. count) *= alpha`, count % 4 == 0.
 *
 * Accumulators for 16 floats stay in four v128 registers while the row's
 * non-zeros stream past, so `y` is written once per row instead of once per
 * non-zero; a one-register loop handles a tail of 4..12 floats.
 *
 * @module
 */

// Opcodes and value types used below, named as in the WebAssembly spec.
const T_I32 = 0x7f;
const T_F32 = 0x7d;
const T_V128 = 0x7b;
const BLOCK = 0x02, LOOP = 0x03, END = 0x0b, BR = 0x0c, BR_IF = 0x0d, VOID = 0x40;
const LOCAL_GET = 0x20, LOCAL_SET = 0x21;
const I32_LOAD = 0x28, F32_LOAD = 0x2a, I32_CONST = 0x41;
const I32_GE_S = 0x4e, I32_GT_S = 0x4a, I32_ADD = 0x6a, I32_MUL = 0x6c, I32_SHL = 0x74;
const SIMD = 0xfd;
const V128_LOAD = 0x00, V128_STORE = 0x0b, V128_CONST = 0x0c, F32X4_SPLAT = 0x13;
const F32X4_ADD = 0xe4, F32X4_MUL = 0xe6;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
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

function simd(op: number): number[] {
  return [SIMD, ...uleb(op)];
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

const get = (i: number) => [LOCAL_GET, ...uleb(i)];
const set = (i: number) => [LOCAL_SET, ...uleb(i)];
const i32 = (v: number) => [I32_CONST, ...sleb(v)];
const memarg = (align: number, offset: number) => [...uleb(align), ...uleb(offset)];
/** `local[i] += delta` */
const inc = (i: number, delta: number[]) => [...get(i), ...delta, I32_ADD, ...set(i)];

// Parameters of spmm / spmm_acc.
const P_OFF = 0, P_COL = 1, P_VAL = 2, P_X = 3, P_Y = 4, P_D = 5, P_R0 = 6, P_R1 = 7, P_W = 8;
const P_SUM = 9;

/** Body of spmm (`withSum` false) or spmm_acc (true). */
function spmmBody(withSum: boolean): number[] {
  const lanes = 4;
  const nParams = withSum ? 10 : 9;
  // i32 locals, then v128 locals.
  const L_ROWB = nParams, L_K0 = nParams + 1, L_K1 = nParams + 2, L_K = nParams + 3;
  const L_J = nParams + 4, L_YROW = nParams + 5, L_XA = nParams + 6, L_SROW = nParams + 7;
  const L_W = nParams + 8, L_ACC = nParams + 9; // L_ACC .. L_ACC + 3
  const L_WB = nParams + 9 + lanes;
  const locals = vec([[...uleb(8), T_I32], [...uleb(lanes + 1), T_V128], [1, T_I32]]);

  /** Loop over j while `j + lanes*16 <= rowBytes`, with `lanes` accumulators. */
  const jLoop = (lanes: number): number[] => {
    const width = lanes * 16;
    const zero = [...simd(V128_CONST), ...new Array(16).fill(0)];
    const kBody = [
      // k >= k1 -> exit
      ...get(L_K),
      ...get(L_K1),
      I32_GE_S,
      BR_IF,
      1,
      ...get(P_VAL),
      ...get(L_K),
      ...i32(2),
      I32_SHL,
      I32_ADD,
      F32_LOAD,
      ...memarg(2, 0),
      ...simd(F32X4_SPLAT),
      ...set(L_W),
      // xa = x + columns[k] * rowBytes + j
      ...get(P_X),
      ...get(P_COL),
      ...get(L_K),
      ...i32(2),
      I32_SHL,
      I32_ADD,
      I32_LOAD,
      ...memarg(2, 0),
      ...get(L_ROWB),
      I32_MUL,
      I32_ADD,
      ...get(L_J),
      I32_ADD,
      ...set(L_XA),
      ...Array.from({ length: lanes }, (_, l) => [
        ...get(L_ACC + l),
        ...get(L_W),
        ...get(L_XA),
        ...simd(V128_LOAD),
        ...memarg(4, 16 * l),
        ...simd(F32X4_MUL),
        ...simd(F32X4_ADD),
        ...set(L_ACC + l),
      ]).flat(),
      ...inc(L_K, i32(1)),
      BR,
      0,
    ];
    const stores = Array.from({ length: lanes }, (_, l) => {
      const out = [
        ...get(L_YROW),
        ...get(L_J),
        I32_ADD,
        ...get(L_ACC + l),
        ...simd(V128_STORE),
        ...memarg(4, 16 * l),
      ];
      if (withSum) {
        out.push(
          ...get(L_SROW),
          ...get(L_J),
          I32_ADD,
          ...get(L_SROW),
          ...get(L_J),
          I32_ADD,
          ...simd(V128_LOAD),
          ...memarg(4, 16 * l),
          ...get(L_ACC + l),
          ...simd(F32X4_ADD),
          ...simd(V128_STORE),
          ...memarg(4, 16 * l),
        );
      }
      return out;
    }).flat();
    return [
      BLOCK,
      VOID,
      LOOP,
      VOID,
      // j + width > widthBytes -> exit
      ...get(L_J),
      ...i32(width),
      I32_ADD,
      ...get(L_WB),
      I32_GT_S,
      BR_IF,
      1,
      ...Array.from({ length: lanes }, (_, l) => [...zero, ...set(L_ACC + l)]).flat(),
      ...get(L_K0),
      ...set(L_K),
      BLOCK,
      VOID,
      LOOP,
      VOID,
      ...kBody,
      END,
      END,
      ...stores,
      ...inc(L_J, i32(width)),
      BR,
      0,
      END,
      END,
    ];
  };

  const code = [
    ...get(P_D),
    ...i32(2),
    I32_SHL,
    ...set(L_ROWB),
    ...get(P_W),
    ...i32(2),
    I32_SHL,
    ...set(L_WB),
    BLOCK,
    VOID,
    LOOP,
    VOID,
    ...get(P_R0),
    ...get(P_R1),
    I32_GE_S,
    BR_IF,
    1,
    // k0 = offsets[r], k1 = offsets[r + 1]
    ...get(P_OFF),
    ...get(P_R0),
    ...i32(2),
    I32_SHL,
    I32_ADD,
    ...set(L_XA),
    ...get(L_XA),
    I32_LOAD,
    ...memarg(2, 0),
    ...set(L_K0),
    ...get(L_XA),
    I32_LOAD,
    ...memarg(2, 4),
    ...set(L_K1),
    ...get(P_Y),
    ...get(P_R0),
    ...get(L_ROWB),
    I32_MUL,
    I32_ADD,
    ...set(L_YROW),
    ...(withSum
      ? [...get(P_SUM), ...get(P_R0), ...get(L_ROWB), I32_MUL, I32_ADD, ...set(L_SROW)]
      : []),
    ...i32(0),
    ...set(L_J),
    ...jLoop(lanes),
    ...jLoop(1),
    ...inc(P_R0, i32(1)),
    BR,
    0,
    END,
    END,
    END,
  ];
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

function scaleBody(): number[] {
  // params: ptr, count, alpha (f32); locals: end (i32), a (v128)
  const P_PTR = 0, P_N = 1, P_ALPHA = 2, L_END = 3, L_A = 4;
  const locals = vec([[1, T_I32], [1, T_V128]]);
  const code = [
    ...get(P_PTR),
    ...get(P_N),
    ...i32(2),
    I32_SHL,
    I32_ADD,
    ...set(L_END),
    ...get(P_ALPHA),
    ...simd(F32X4_SPLAT),
    ...set(L_A),
    BLOCK,
    VOID,
    LOOP,
    VOID,
    ...get(P_PTR),
    ...get(L_END),
    I32_GE_S,
    BR_IF,
    1,
    ...get(P_PTR),
    ...get(P_PTR),
    ...simd(V128_LOAD),
    ...memarg(4, 0),
    ...get(L_A),
    ...simd(F32X4_MUL),
    ...simd(V128_STORE),
    ...memarg(4, 0),
    ...inc(P_PTR, i32(16)),
    BR,
    0,
    END,
    END,
    END,
  ];
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

/**
 * Emits the kernel module's bytes. `shared` selects a shared memory import
 * (needed to share one heap with worker threads); `maxPages` bounds it.
 */
export function emitSpmmModule(shared: boolean, maxPages: number): Uint8Array<ArrayBuffer> {
  const types = vec([
    [0x60, ...vec(new Array(9).fill([T_I32])), 0],
    [0x60, ...vec(new Array(10).fill([T_I32])), 0],
    [0x60, ...vec([[T_I32], [T_I32], [T_F32]]), 0],
  ]);
  const memLimits = shared
    ? [0x03, ...uleb(1), ...uleb(maxPages)]
    : [0x01, ...uleb(1), ...uleb(maxPages)];
  const imports = vec([[...name("env"), ...name("mem"), 0x02, ...memLimits]]);
  const funcs = vec([[0], [1], [2]]);
  const exports = vec([
    [...name("spmm"), 0x00, 0],
    [...name("spmm_acc"), 0x00, 1],
    [...name("scale"), 0x00, 2],
  ]);
  const code = vec([spmmBody(false), spmmBody(true), scaleBody()]);
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

/** The kernel functions as JS sees them (all pointers are byte addresses). */
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
    w: number,
  ): void;
  spmm_acc(
    off: number,
    col: number,
    val: number,
    x: number,
    y: number,
    d: number,
    r0: number,
    r1: number,
    w: number,
    sum: number,
  ): void;
  scale(ptr: number, count: number, alpha: number): void;
}

/** Compiles the module once per (shared, maxPages) and instantiates it over `memory`. */
export function instantiateKernels(
  memory: WebAssembly.Memory,
  shared: boolean,
  maxPages: number,
): SpmmKernels {
  const key = `${shared}:${maxPages}`;
  let mod = moduleCache.get(key);
  if (mod === undefined) {
    mod = new WebAssembly.Module(emitSpmmModule(shared, maxPages));
    moduleCache.set(key, mod);
  }
  const instance = new WebAssembly.Instance(mod, { env: { mem: memory } });
  return instance.exports as unknown as SpmmKernels;
}

const moduleCache = new Map<string, WebAssembly.Module>();

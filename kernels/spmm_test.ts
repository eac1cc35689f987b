import assert from "node:assert/strict";
import { type CsrMatrix, fromCoo, normalizeSymmetric } from "./adjacency.ts";
import {
  createSparseEngine,
  propagateMean,
  propagateMeanBackward,
  type SparseEngine,
  spmm,
  spmmJs,
  spmmT,
} from "./spmm.ts";
import { createRng, type Rng } from "./rng.ts";

function dense(a: CsrMatrix): Float64Array[] {
  const m = Array.from({ length: a.nRows }, () => new Float64Array(a.nCols));
  for (let r = 0; r < a.nRows; r++) {
    for (let k = a.offsets[r]; k < a.offsets[r + 1]; k++) m[r][a.columns[k]] += a.values[k];
  }
  return m;
}

/** Dense `op(A) x` with op = identity or transpose, in float64. */
function denseMul(m: Float64Array[], x: ArrayLike<number>, d: number, t = false): Float64Array {
  const rows = t ? m[0].length : m.length, inner = t ? m.length : m[0].length;
  const y = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < inner; c++) {
      const w = t ? m[c][r] : m[r][c];
      if (w !== 0) { for (let j = 0; j < d; j++) y[r * d + j] += w * x[c * d + j]; }
    }
  }
  return y;
}

function denseMean(m: Float64Array[], x: Float32Array, d: number, layers: number, t: boolean) {
  const sum = Float64Array.from(x);
  let cur: ArrayLike<number> = x;
  for (let l = 0; l < layers; l++) {
    cur = denseMul(m, cur, d, t);
    for (let i = 0; i < sum.length; i++) sum[i] += cur[i];
  }
  return sum.map((v) => v / (layers + 1));
}

function close(got: Float32Array, want: ArrayLike<number>, what: string) {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < got.length; i++) {
    assert.ok(
      Math.abs(got[i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])),
      `${what} [${i}]: ${got[i]} vs ${want[i]}`,
    );
  }
}

function randomMatrix(rng: Rng, rows: number, cols: number, nnz: number): CsrMatrix {
  const r = [], c = [], v = [];
  for (let k = 0; k < nnz; k++) {
    r.push(rng.int(rows));
    c.push(rng.int(cols));
    v.push(rng.normal());
  }
  return fromCoo(rows, cols, r, c, v);
}

/** The normalised adjacency of a random undirected graph on nodes 1..n-1 (node 0 isolated). */
function randomGraph(rng: Rng, n: number, edges: number): CsrMatrix {
  const r: number[] = [], c: number[] = [];
  for (let k = 0; k < edges; k++) {
    const a = 1 + rng.int(n - 1), b = 1 + rng.int(n - 1);
    if (a !== b) r.push(a, b), c.push(b, a);
  }
  const pattern = fromCoo(n, n, r, c, r.map(() => 1));
  // fromCoo sums a repeated edge; the graph has it once.
  return normalizeSymmetric({ ...pattern, values: pattern.values.fill(1), symmetric: true });
}

const randomX = (rng: Rng, n: number) => Float32Array.from({ length: n }, () => rng.normal());

async function withEngines(
  fn: (
    name: string,
    e: Pick<SparseEngine, "spmm" | "spmmT" | "propagateMean" | "propagateMeanBackward">,
  ) => void,
) {
  fn("default", { spmm, spmmT, propagateMean, propagateMeanBackward });
  const pool = await createSparseEngine({ threads: 2 });
  try {
    fn("2 threads", pool);
  } finally {
    pool.close();
  }
}

Deno.test("spmm() and spmmT() match dense products on random rectangular matrices", async () => {
  const rng = createRng(11);
  await withEngines((name, e) => {
    for (
      const [rows, cols, nnz, d] of [
        [13, 7, 40, 8],
        [40, 33, 300, 64],
        [9, 9, 30, 3],
        [5, 6, 0, 4],
        [20, 20, 90, 20],
      ]
    ) {
      const a = randomMatrix(rng, rows, cols, nnz);
      const m = dense(a);
      const x = randomX(rng, cols * d);
      close(e.spmm(a, x), denseMul(m, x, d), `${name} spmm ${rows}x${cols} d${d}`);
      close(spmmJs(a, x), denseMul(m, x, d), `spmmJs ${rows}x${cols} d${d}`);
      const g = randomX(rng, rows * d);
      close(e.spmmT(a, g), denseMul(m, g, d, true), `${name} spmmT ${rows}x${cols} d${d}`);
    }
  });
});

Deno.test("propagateMean() and its backward match dense references", async () => {
  const rng = createRng(5);
  await withEngines((name, e) => {
    const sq = randomMatrix(rng, 30, 30, 150);
    const adj = randomGraph(rng, 40, 120);
    for (const a of [sq, adj]) {
      const m = dense(a);
      for (const [d, layers] of [[16, 3], [4, 0], [6, 2], [32, 4]]) {
        const x = randomX(rng, a.nRows * d);
        close(
          e.propagateMean(a, x, { layers }),
          denseMean(m, x, d, layers, false),
          `${name} mean d${d} L${layers}`,
        );
        close(
          e.propagateMeanBackward(a, x, { layers }),
          denseMean(m, x, d, layers, true),
          `${name} backward d${d} L${layers}`,
        );
      }
    }
  });
});

Deno.test("spmm() keeps an isolated node 0 at zero", async () => {
  // One edge 1 - 2 of weight 1 / sqrt(1 * 1); node 0 has none.
  const a = normalizeSymmetric({ ...fromCoo(3, 3, [1, 2], [2, 1], [1, 1]), symmetric: true });
  assert.deepEqual(Array.from(a.values), [1, 1]);
  const x = Float32Array.from({ length: 3 * 4 }, (_, i) => i + 1);
  await withEngines((name, e) => {
    const y = e.spmm(a, x);
    assert.deepEqual(Array.from(y), [0, 0, 0, 0, 9, 10, 11, 12, 5, 6, 7, 8], name);
    const mean = e.propagateMean(a, x, { layers: 2 });
    assert.deepEqual(
      Array.from(mean.subarray(0, 4)),
      [1 / 3, 2 / 3, 1, 4 / 3].map(Math.fround),
      name,
    );
  });
});

Deno.test("spmm() writes into out and rejects mismatched shapes", () => {
  const a = fromCoo(2, 3, [0, 1], [2, 0], [1, 2]);
  const out = new Float32Array(8);
  assert.equal(spmm(a, new Float32Array(12).fill(1), { out }), out);
  assert.deepEqual(Array.from(out), [1, 1, 1, 1, 2, 2, 2, 2]);
  assert.throws(() => spmm(a, new Float32Array(7)), {
    name: "TypeError",
    message: "Expected x to hold nCols x d = 3 x d floats but found 7",
  });
  assert.throws(() => spmm(a, new Float32Array(12), { out: new Float32Array(4) }), {
    name: "TypeError",
  });
  assert.throws(() => propagateMean(a, new Float32Array(12)), { name: "TypeError" });
  const sq = fromCoo(2, 2, [0], [1], [1]);
  assert.throws(() => propagateMean(sq, new Float32Array(8), { layers: -1 }), {
    name: "RangeError",
  });
});

Deno.test("propagateMean() on views of the heap works in place and equals the copying path", async () => {
  const rng = createRng(8);
  const a = randomGraph(rng, 50, 200);
  for (const threads of [1, 2]) {
    const engine = await createSparseEngine({ threads });
    try {
      for (const layers of [1, 3]) {
        const d = 8;
        const x = randomX(rng, a.nRows * d);
        const want = engine.propagateMean(a, x, { layers });
        const x0 = engine.alloc(x.length), out = engine.alloc(x.length);
        x0.set(x);
        assert.equal(engine.propagateMean(a, x0, { layers, out }), out);
        assert.deepEqual(out, want, `${threads} threads L${layers}: in place`);
        assert.deepEqual(x0, x, "x0 is left as it was");
        // Mixed: a heap input into an ordinary output, and the reverse.
        assert.deepEqual(engine.propagateMean(a, x0, { layers }), want);
        const back = engine.alloc(x.length);
        assert.deepEqual(engine.propagateMeanBackward(a, x, { layers, out: back }), want);
        assert.throws(() => engine.propagateMean(a, out, { layers, out }), { name: "TypeError" });
        // Some rows only: those equal the full mean's.
        const rows = Int32Array.from([7, 3, 41, 0, 12]);
        const some = engine.alloc(x.length);
        engine.propagateMean(a, x0, { layers, out: some, rows });
        for (const r of rows) {
          assert.deepEqual(some.subarray(r * d, r * d + d), want.subarray(r * d, r * d + d));
        }
        engine.free(some);
        // An input that is zero outside a few rows: reading only those changes nothing.
        const sparse = engine.alloc(x.length);
        for (const r of rows) sparse.set(x.subarray(r * d, r * d + d), r * d);
        const full = engine.propagateMean(a, sparse, { layers });
        for (const inputRows of [rows, Int32Array.from([...rows, 9])]) {
          assert.deepEqual(engine.propagateMean(a, sparse, { layers, inputRows }), full);
        }
        assert.deepEqual(engine.propagateMean(a, sparse, { layers }), full, "the mask is cleared");
        engine.free(sparse);
        for (const v of [x0, out, back]) engine.free(v);
      }
      // Freed space is reused, and fresh allocations are zeros.
      const first = engine.alloc(1000);
      first.fill(7);
      engine.free(first);
      const again = engine.alloc(1000);
      assert.equal(again.byteOffset, first.byteOffset);
      assert.ok(again.every((v) => v === 0));
      assert.throws(() => engine.free(new Float32Array(4)), { name: "TypeError" });
    } finally {
      engine.close();
    }
  }
});

Deno.test("gatherRows() and addRows() move rows between heap tables and plain arrays", async () => {
  const engine = await createSparseEngine({ threads: 1 });
  try {
    const d = 8, rows = 5;
    const plain = Float32Array.from({ length: rows * d }, (_, i) => i);
    const heap = engine.alloc(rows * d);
    heap.set(plain);
    const ids = Int32Array.from([3, 0, 3]);
    for (const table of [plain, heap]) {
      const out = engine.gatherRows(table, ids, new Float32Array(3 * d));
      assert.deepEqual(Array.from(out.subarray(0, d)), [24, 25, 26, 27, 28, 29, 30, 31]);
      assert.deepEqual(Array.from(out.subarray(d, 2 * d)), [0, 1, 2, 3, 4, 5, 6, 7]);
      // Repeated rows add up, in order.
      engine.addRows(table, ids, new Float32Array(3 * d).fill(0.5));
      assert.equal(table[3 * d], 25);
      assert.equal(table[0], 0.5);
      assert.equal(table[d], 8);
    }
    assert.deepEqual(heap, plain);
    assert.throws(() => engine.gatherRows(heap, ids, new Float32Array(7)), { name: "TypeError" });
  } finally {
    engine.close();
  }
});

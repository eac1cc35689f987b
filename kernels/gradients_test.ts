import assert from "node:assert/strict";
import { createRng } from "./rng.ts";
import { gradients } from "./autodiff.ts";
import { GRADIENTS } from "./gradients.ts";
import { Graph, OP_TYPES, type Tensor } from "./graph.ts";
import { erf64, gradCheck, type PointKind, points } from "./_gradcheck.ts";
import { exportOnnx } from "./onnx_export.ts";
import { loadSession } from "./runtime.ts";

type Case = {
  shapes: number[][];
  kinds?: PointKind[];
  h?: number;
  build: (g: Graph, x: Tensor[]) => Tensor;
};

// Relu and Abs have a kink at 0 where differences and the subgradient
// disagree, so their points avoid exact zeros ("nonzero"). Max/Min points
// avoid ties for the same reason. Log, Sqrt and Pow's base need x > 0.
const CASES: Record<string, Case> = {
  "MatMul": { shapes: [[2, 3], [3, 4]], build: (g, [a, b]) => g.matMul(a, b) },
  "MatMul (batched, broadcast)": {
    shapes: [[2, 1, 3, 2], [3, 2, 4]],
    build: (g, [a, b]) => g.matMul(a, b),
  },
  "MatMul (shared weight)": { shapes: [[2, 3, 4], [4, 2]], build: (g, [a, b]) => g.matMul(a, b) },
  "Add (broadcast)": { shapes: [[2, 3], [3]], build: (g, [a, b]) => g.add(a, b) },
  "Sub (broadcast)": { shapes: [[2, 1], [1, 3]], build: (g, [a, b]) => g.sub(a, b) },
  "Mul (broadcast)": { shapes: [[2, 3], [2, 1]], build: (g, [a, b]) => g.mul(a, b) },
  "Div": { shapes: [[2, 3], [3]], kinds: ["any", "nonzero"], build: (g, [a, b]) => g.div(a, b) },
  "Pow": {
    shapes: [[2, 3], [2, 3]],
    kinds: ["positive", "any"],
    build: (g, [a, b]) => g.pow(a, b),
  },
  "Max": {
    shapes: [[2, 3], [2, 3]],
    kinds: ["nonzero", "nonzero"],
    build: (g, [a, b]) => g.max(a, g.add(b, 0.05)),
  },
  "Min": {
    shapes: [[2, 3], [3]],
    kinds: ["nonzero", "nonzero"],
    build: (g, [a, b]) => g.min(a, g.add(b, 0.05)),
  },
  "Neg": { shapes: [[2, 3]], build: (g, [a]) => g.neg(a) },
  "Abs": { shapes: [[2, 3]], kinds: ["nonzero"], build: (g, [a]) => g.abs(a) },
  "Exp": { shapes: [[2, 3]], build: (g, [a]) => g.exp(a) },
  "Log": { shapes: [[2, 3]], kinds: ["positive"], build: (g, [a]) => g.log(a) },
  "Sqrt": { shapes: [[2, 3]], kinds: ["positive"], build: (g, [a]) => g.sqrt(a) },
  "Relu": { shapes: [[2, 3]], kinds: ["nonzero"], build: (g, [a]) => g.relu(a) },
  "Tanh": { shapes: [[2, 3]], build: (g, [a]) => g.tanh(a) },
  "Sigmoid": { shapes: [[2, 3]], build: (g, [a]) => g.sigmoid(a) },
  "Where": {
    shapes: [[2, 3], [3], [2, 1]],
    kinds: ["nonzero", "any", "any"],
    build: (g, [c, a, b]) => g.where(g.less(c, 0), a, b),
  },
  // Points and step are multiples of 2^-10, so the float32 round trip is exact.
  "Cast": {
    shapes: [[2, 3]],
    kinds: ["dyadic"],
    h: 2 ** -10,
    build: (g, [a]) => g.cast(g.cast(a, "float32"), "float64"),
  },
  "ReduceSum": { shapes: [[2, 3, 2]], build: (g, [a]) => g.reduceSum(a, [0, 2], false) },
  "ReduceMean": { shapes: [[2, 3, 2]], build: (g, [a]) => g.reduceMean(a, [1], true) },
  "ReduceMax": { shapes: [[2, 3, 2]], build: (g, [a]) => g.reduceMax(a, [-1], false) },
  "Softmax": { shapes: [[2, 4]], build: (g, [a]) => g.softmax(a, 0) },
  "LogSoftmax": { shapes: [[2, 4]], build: (g, [a]) => g.logSoftmax(a) },
  "Gather (axis 0)": {
    shapes: [[4, 3]],
    build: (g, [a]) => g.gather(a, g.constant([1, 3, 0], "int64", [3])),
  },
  "Gather (axis 1, 2-D indices)": {
    shapes: [[2, 4, 3]],
    build: (g, [a]) => g.gather(a, g.constant([3, 0, 2, 1], "int32", [2, 2]), 1),
  },
  "Reshape": {
    shapes: [[2, 3]],
    build: (g, [a]) => g.mul(g.reshape(a, [3, -1]), g.constant([1, 2, 3], "float64", [3, 1])),
  },
  "Transpose": { shapes: [[2, 3, 4]], build: (g, [a]) => g.transpose(a, [2, 0, 1]) },
  "Concat": { shapes: [[2, 3], [2, 1]], build: (g, [a, b]) => g.concat([a, b, a], 1) },
  "Slice": { shapes: [[3, 4]], build: (g, [a]) => g.slice(a, [1, -3], [3, 3]) },
  "Pad": { shapes: [[2, 3]], build: (g, [a]) => g.pad(a, [1, 0, 0, 2]) },
  "Unsqueeze": { shapes: [[2, 3]], build: (g, [a]) => g.unsqueeze(a, [0, -1]) },
  "Squeeze": { shapes: [[2, 1, 3]], build: (g, [a]) => g.squeeze(a, [1]) },
  "Expand": { shapes: [[3, 1]], build: (g, [a]) => g.expand(a, [2, 3, 4]) },
};

for (const [name, c] of Object.entries(CASES)) {
  Deno.test(`${name} gradient matches central differences in float64`, async () => {
    const rng = createRng(7).fork(name);
    const inputs = c.shapes.map((shape, i) => ({
      shape,
      values: points(rng, shape.reduce((p, d) => p * d, 1), c.kinds?.[i] ?? "any"),
    }));
    const err = await gradCheck(rng, c.build, inputs, { h: c.h });
    assert.ok(err < 1e-6, `relative error ${err}`);
  });
}

Deno.test("Erf gradient matches central differences of a float64 erf", async () => {
  // ORT has no float64 Erf kernel; the gradient graph needs none, so the
  // differences come from a float64 JS erf.
  const rng = createRng(3);
  const values = points(rng, 6).map((v) => Math.max(-1.9, Math.min(1.9, v)));
  const err = await gradCheck(rng, (g, [a]) => g.erf(a), [{ shape: [2, 3], values }], {
    h: 1e-5,
    reference: ([x]) => x.map(erf64),
  });
  assert.ok(err < 1e-6, `relative error ${err}`);
});

Deno.test("every op has an entry in the gradient table", () => {
  for (const op of OP_TYPES) assert.ok(op in GRADIENTS, op);
  assert.equal(Object.keys(GRADIENTS).length, OP_TYPES.length);
});

Deno.test("Gather gradient accumulates repeated indices", async () => {
  const g = new Graph();
  const table = g.input("table", "float32", [4, 2]);
  const idx = g.constant([2, 0, 2, 2, 3], "int64", [5]);
  const rows = g.gather(table, idx);
  const w = g.constant([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "float32", [5, 2]);
  const [d] = gradients(g.reduceSum(g.mul(rows, w), undefined, false), [table]);
  const session = await loadSession(exportOnnx({ d }));
  const { d: out } = await session.run({ table: { data: new Float32Array(8), shape: [4, 2] } });
  // Row 2 is picked at positions 0, 2, 3: 1+5+7, 2+6+8.
  assert.deepEqual(Array.from(out.data as Float32Array), [3, 4, 0, 0, 13, 16, 9, 10]);
});

Deno.test("Gather gradient is exact with many repeats across two threads", async () => {
  // ORT's ScatterND(add) races here; this guards the choice of ScatterElements.
  const v = 7, d = 32, n = 100_000;
  const g = new Graph();
  const table = g.input("table", "float32", [v, d]);
  const idx = g.input("idx", "int64", [n]);
  const w = g.input("w", "float32", [n, d]);
  const [dt] = gradients(g.reduceSum(g.mul(g.gather(table, idx), w), undefined, false), [table]);
  const session = await loadSession(exportOnnx({ dt }), { intraOpThreads: 2 });
  const iv = BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 7919) % v));
  const wv = Float32Array.from({ length: n * d }, (_, i) => ((i * 31) % 17) - 8);
  const want = new Float64Array(v * d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) want[Number(iv[i]) * d + k] += wv[i * d + k];
  }
  for (let rep = 0; rep < 3; rep++) {
    const { dt: out } = await session.run({
      table: { data: new Float32Array(v * d), shape: [v, d] },
      idx: { data: iv, shape: [n] },
      w: { data: wv, shape: [n, d] },
    });
    assert.deepEqual(Array.from(out.data as Float32Array), Array.from(want));
  }
});

Deno.test("differentiating through a non-differentiable op is a TypeError naming it", () => {
  const g = new Graph();
  const x = g.input("x", "float32", [2]);
  const y = g.scatterElements(g.zeros([3]), g.constant([0, 1], "int64", [2]), x);
  assert.throws(
    () => gradients(g.reduceSum(y, undefined, false), [x]),
    /ScatterElements is not differentiable/,
  );
});

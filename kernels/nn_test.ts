import assert from "node:assert/strict";
import { createRng } from "./rng.ts";
import { Graph } from "./graph.ts";
import { DROPOUT_SEED } from "./dropout_mask.ts";
import { ParamStore } from "./param_store.ts";
import { compileInference } from "./step.ts";
import { erf64, gradCheck, points } from "./_gradcheck.ts";
import {
  attention,
  cosineSimilarity,
  crossEntropy,
  dropout,
  embedding,
  gelu,
  linear,
  rmsNorm,
  softplus,
  t5Block,
} from "./nn.ts";
import { exportOnnx } from "./onnx_export.ts";
import { loadSession } from "./runtime.ts";

const input = (
  rng: ReturnType<typeof createRng>,
  shape: number[],
  kind: "any" | "nonzero" = "any",
) => ({
  shape,
  values: points(rng, shape.reduce((p, d) => p * d, 1), kind),
});

async function check(name: string, build: Parameters<typeof gradCheck>[1], shapes: number[][]) {
  const rng = createRng(11).fork(name);
  const err = await gradCheck(rng, build, shapes.map((s) => input(rng, s)));
  assert.ok(err < 1e-6, `${name}: relative error ${err}`);
}

Deno.test("linear gradient matches central differences for input, weight and bias", async () => {
  await check("linear", (_g, [x]) => linear(x, "fc", { outFeatures: 3 }), [[2, 4, 5]]);
});

Deno.test("embedding gradient matches central differences with repeated ids", async () => {
  await check("embedding", (g) =>
    embedding(g.constant([2, 0, 2, 1], "int64", [2, 2]), "emb", {
      count: 3,
      dim: 4,
      dtype: "float64",
    }), []);
});

Deno.test("rmsNorm gradient matches central differences", async () => {
  await check("rmsNorm", (_g, [x]) => rmsNorm(x, "ln"), [[2, 3, 4]]);
});

Deno.test("attention with additive bias, padding mask and causal mask matches central differences", async () => {
  await check("attention", (g, [x, bias]) => {
    const mask = g.constant([1, 1, 0, 1, 1, 1], "bool", [2, 1, 1, 3]);
    return attention(x, "attn", { heads: 2, bias, mask, causal: true, scale: false });
  }, [[2, 3, 4], [1, 2, 3, 3]]);
});

Deno.test("scaled cross-attention matches central differences", async () => {
  await check("cross", (_g, [x, kv]) => attention(x, "attn", { heads: 2, kv }), [[2, 2, 4], [
    2,
    3,
    4,
  ]]);
});

Deno.test("crossEntropy with ignored targets matches central differences", async () => {
  await check("crossEntropy", (g, [logits]) => {
    const targets = g.constant([1, -100, 3, 0, -100], "int64", [5]);
    return crossEntropy(logits, targets);
  }, [[5, 4]]);
});

Deno.test("crossEntropy averages over non-ignored targets only", async () => {
  const g = new Graph();
  const logits = g.constant([0, 0, Math.log(3), 0, 5, 5], "float32", [3, 2]);
  const loss = crossEntropy(logits, g.constant([0, 1, -100], "int64", [3]));
  const s = await loadSession(exportOnnx({ loss }));
  const { loss: out } = await s.run({});
  // Row 0: -log(1/2); row 1: -log(1/4); row 2 ignored.
  assert.ok(Math.abs(Number(out.data[0]) - (Math.log(2) + Math.log(4)) / 2) < 1e-6);
});

Deno.test("softplus is stable for large inputs and exact at zero", async () => {
  await check("softplus", (_g, [x]) => softplus(x), [[7]]);
  const g = new Graph();
  const y = softplus(g.constant([-800, 0, 800], "float64", [3]));
  const { y: out } = await (await loadSession(exportOnnx({ y }))).run({});
  assert.deepEqual(Array.from(out.data as Float64Array), [0, Math.log(2), 800]);
});

Deno.test("cosineSimilarity matches central differences", async () => {
  await check("cosine", (_g, [a, b]) => cosineSimilarity(a, b), [[3, 4], [3, 4]]);
});

Deno.test("gelu gradient (float32 graph) matches float64 differences", async () => {
  // ORT lacks a float64 Erf, so the graph runs in float32 against a float64 JS reference.
  const rng = createRng(9);
  const x = input(rng, [8]);
  const err = await gradCheck(rng, (_g, [t]) => gelu(t), [x], {
    dtype: "float32",
    h: 1e-5,
    reference: ([v]) => v.map((t) => 0.5 * t * (1 + erf64(t * Math.SQRT1_2))),
  });
  assert.ok(err < 1e-5, `relative error ${err}`);
});

Deno.test("a T5-like block (rms norm, biased masked attention, relu FFN, residuals) matches central differences", async () => {
  await check("t5Block", (g, [x, bias]) => {
    const mask = g.constant([1, 1, 1, 1, 1, 0], "bool", [2, 1, 1, 3]);
    return t5Block(x, "block", { heads: 2, dFf: 6, bias, mask });
  }, [[2, 3, 4], [1, 2, 3, 3]]);
});

Deno.test("dropout's in-graph mask: the run's seed decides it, kept values are scaled", async () => {
  const g = new Graph();
  const x = g.input("x", "float32", [1000]);
  const y = dropout(x, "drop", { p: 0.25 });
  const infer = await compileInference({ y }, new ParamStore());
  const ones = new Float32Array(1000).fill(1);
  const run = async (seed: bigint) =>
    (await infer.run({ x: ones, [DROPOUT_SEED]: BigInt64Array.of(seed) })).y.data as Float32Array;
  const a = await run(7n), b = await run(7n), c = await run(8n);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const kept = Array.from(a).filter((v) => v !== 0);
  assert.ok(kept.every((v) => Math.abs(v - 4 / 3) < 1e-6));
  assert.ok(Math.abs(kept.length / 1000 - 0.75) < 0.05, `kept ${kept.length}`);
  assert.equal(dropout(x, "off", { p: 0.25, training: false }), x);
  assert.ok(g.random.has(DROPOUT_SEED), "the seed is a random input the runner draws");
});

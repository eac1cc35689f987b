import assert from "node:assert/strict";
import { createRng } from "./rng.ts";
import { Graph } from "./graph.ts";
import { ParamStore } from "./param_store.ts";
import { compileInference } from "./step.ts";
import { gradCheck, points } from "./_gradcheck.ts";
import { attention } from "./nn.ts";
import { gru, layerNorm, temporalConv } from "./nn_seq.ts";

const input = (rng: ReturnType<typeof createRng>, shape: number[]) => ({
  shape,
  values: points(rng, shape.reduce((p, d) => p * d, 1)),
});

async function check(name: string, build: Parameters<typeof gradCheck>[1], shapes: number[][]) {
  const rng = createRng(23).fork(name);
  const err = await gradCheck(rng, build, shapes.map((s) => input(rng, s)));
  assert.ok(err < 1e-6, `${name}: relative error ${err}`);
}

Deno.test("layerNorm gradient matches central differences for input, weight and bias", async () => {
  await check("layerNorm", (_g, [x]) => layerNorm(x, "ln", { eps: 1e-3 }), [[2, 3, 5]]);
});

Deno.test("temporalConv gradient matches central differences (kernel 1 and 3)", async () => {
  await check("conv k3", (_g, [x]) => temporalConv(x, "conv", { kernel: 3, outChannels: 2 }), [
    [2, 4, 3],
  ]);
  await check("conv k1", (_g, [x]) => temporalConv(x, "conv", { kernel: 1, outChannels: 2 }), [
    [2, 4, 3],
  ]);
});

Deno.test("gru gradient matches central differences, with a reset inside a row", async () => {
  await check("gru", (g, [x]) => {
    const resets = g.constant([1, 0, 1, 0, 1, 0, 0, 0], "float64", [2, 4]);
    return gru(x, "gru", { hidden: 3, resets });
  }, [[2, 4, 2]]);
});

Deno.test("attention with projection biases and masks matches central differences", async () => {
  await check("attention+bias", (g, [x, q]) => {
    const mask = g.constant([1, 1, 0, 1, 1, 1], "bool", [2, 1, 1, 3]);
    return attention(q, "attn", { heads: 1, kv: x, mask, causal: true, projectionBias: true });
  }, [[2, 3, 4], [2, 3, 4]]);
});

/** Runs `build` on float32 feeds with params drawn from seed 5; returns its output and the store. */
async function run(
  build: (g: Graph) => ReturnType<typeof gru>,
  feeds: Record<string, Float32Array>,
) {
  const g = new Graph();
  const y = build(g);
  const store = new ParamStore();
  store.init(g, createRng(5));
  const { y: out } = await compileInference({ y }, store).then((s) => s.run(feeds));
  return { out: out.data as Float32Array, store };
}

Deno.test("layerNorm gives zero mean and unit variance per row before its affine part", async () => {
  const x = Float32Array.from([1, 2, 3, 4, -2, 0, 2, 8]);
  const { out } = await run((g) => layerNorm(g.input("x", "float32", [2, 4]), "ln"), { x });
  // Row 0: mean 2.5, variance 1.25.
  const want = [-1.5, -0.5, 0.5, 1.5].map((v) => v / Math.sqrt(1.25));
  want.forEach((v, i) => assert.ok(Math.abs(out[i] - v) < 1e-5, `${out[i]} vs ${v}`));
  const row1 = Array.from(out.slice(4));
  assert.ok(Math.abs(row1.reduce((s, v) => s + v, 0)) < 1e-5);
  assert.ok(Math.abs(row1.reduce((s, v) => s + v * v, 0) / 4 - 1) < 1e-4);
});

Deno.test("temporalConv equals a direct convolution over time", async () => {
  const [b, t, c, k, o] = [2, 5, 3, 2, 4];
  const rng = createRng(1);
  const x = Float32Array.from({ length: b * t * c }, () => rng.normal());
  const { out, store } = await run(
    (g) => temporalConv(g.input("x", "float32", [b, t, c]), "conv", { kernel: k, outChannels: o }),
    { x },
  );
  const w = store.get("conv.weight")!.data, bias = store.get("conv.bias")!.data;
  for (let bi = 0; bi < b; bi++) {
    for (let ti = 0; ti <= t - k; ti++) {
      for (let oi = 0; oi < o; oi++) {
        let s = bias[oi];
        for (let ki = 0; ki < k; ki++) {
          for (let ci = 0; ci < c; ci++) {
            s += w[(oi * k + ki) * c + ci] * x[(bi * t + ti + ki) * c + ci];
          }
        }
        const got = out[(bi * (t - k + 1) + ti) * o + oi];
        assert.ok(Math.abs(got - s) < 1e-5, `[${bi}, ${ti}, ${oi}]: ${got} vs ${s}`);
      }
    }
  }
});

Deno.test("gru equals a step-by-step reference, and a reset restarts from zero", async () => {
  const [b, t, d, h] = [1, 4, 2, 3];
  const rng = createRng(2);
  const x = Float32Array.from({ length: b * t * d }, () => rng.normal());
  const resets = Float32Array.from([0, 0, 1, 0]);
  const { out, store } = await run((g) =>
    gru(g.input("x", "float32", [b, t, d]), "gru", {
      hidden: h,
      resets: g.input("resets", "float32", [b, t]),
    }), { x, resets });
  const p = (k: string) => store.get(`gru.${k}`)!.data;
  const [wi, wh, bi, bh] = [p("weight_ih_l0"), p("weight_hh_l0"), p("bias_ih_l0"), p("bias_hh_l0")];
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  let state = new Float64Array(h);
  for (let s = 0; s < t; s++) {
    if (resets[s]) state = new Float64Array(h);
    const gi = (r: number) => bi[r] + wi[r * d] * x[s * d] + wi[r * d + 1] * x[s * d + 1];
    const gh = (r: number) => bh[r] + [0, 1, 2].reduce((a, j) => a + wh[r * h + j] * state[j], 0);
    const next = new Float64Array(h);
    for (let j = 0; j < h; j++) {
      const r = sig(gi(j) + gh(j)), z = sig(gi(h + j) + gh(h + j));
      const n = Math.tanh(gi(2 * h + j) + r * gh(2 * h + j));
      next[j] = (1 - z) * n + z * state[j];
    }
    state = next;
    for (let j = 0; j < h; j++) {
      assert.ok(Math.abs(out[s * h + j] - state[j]) < 1e-5, `step ${s}: ${out[s * h + j]}`);
    }
  }
});

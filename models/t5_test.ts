import assert from "node:assert/strict";
import { createRng, ParamStore } from "../kernels/mod.ts";
import { gradients } from "../kernels/autodiff.ts";
import { Graph, type Tensor } from "../kernels/graph.ts";
import { exportOnnx } from "../kernels/onnx_export.ts";
import { type HostTensor, loadSession } from "../kernels/runtime.ts";
import { crossKV, decoder, encoder, encoderEmbeddings, INPUTS, lmHead, t5Loss } from "./t5.ts";
import { T5_SIZES, t5Config } from "./t5_config.ts";

const small = t5Config(
  { dModel: 4, dKv: 2, dFf: 6, heads: 2, encoderLayers: 1, decoderLayers: 1 },
  7,
  { dropout: 0, numBuckets: 4, maxDistance: 8 },
);
const ids = (xs: number[]) => BigInt64Array.from(xs, BigInt);

Deno.test("the T5 loss gradient matches float64 central differences for every param", async () => {
  const g = new Graph();
  const loss = t5Loss(g, small, { batch: 2, encLen: 4, decLen: 3 }, {
    dtype: "float64",
    extras: { wholeWordRows: 5, promptLength: 2, promptTasks: 2 },
  });
  const params = g.params();
  const grads = gradients(loss, params);
  const outs: Record<string, Tensor> = { loss };
  grads.forEach((t, i) => (outs[`g${i}`] = t));
  const session = await loadSession(exportOnnx(outs));
  const rng = createRng(5);
  const values = params.map((p) =>
    Float64Array.from({ length: p.shape.reduce((a, d) => a * d, 1) }, () => 0.7 * rng.normal())
  );
  const fixed: Record<string, HostTensor> = {
    [INPUTS.ids]: { data: ids([3, 4, 5, 1, 6, 3, 1, 0]), shape: [2, 4] },
    [INPUTS.wholeWord]: { data: ids([1, 2, 2, 0, 1, 3, 0, 0]), shape: [2, 4] },
    [INPUTS.prompt]: { data: ids([0, 1]), shape: [2] },
    [INPUTS.decoderIds]: { data: ids([0, 4, 5, 0, 6, 1]), shape: [2, 3] },
    // -100 is ignored; a pad label (0) is trained on, as with ignorePad = false.
    [INPUTS.labels]: { data: ids([4, 5, 1, 6, 0, -100]), shape: [2, 3] },
  };
  const run = async (vs: Float64Array[]) => {
    const feeds = { ...fixed };
    params.forEach((p, i) => (feeds[p.name] = { data: vs[i], shape: p.shape }));
    return await session.run(feeds);
  };
  const analytic = await run(values);
  const h = 1e-6;
  let diff2 = 0, ref2 = 0, checked = 0;
  for (let i = 0; i < params.length; i++) {
    const a = analytic[`g${i}`].data as Float64Array;
    // Three coordinates per tensor (all of the small ones) keep the test fast.
    const picks = values[i].length <= 8
      ? [...values[i].keys()]
      : [0, 1, 2].map(() => rng.int(values[i].length));
    for (const j of picks) {
      const plus = values.map((v) => v.slice()), minus = values.map((v) => v.slice());
      plus[i][j] += h;
      minus[i][j] -= h;
      const num =
        (Number((await run(plus)).loss.data[0]) - Number((await run(minus)).loss.data[0])) /
        (2 * h);
      diff2 += (num - a[j]) ** 2;
      ref2 += num * num + a[j] * a[j];
      checked++;
    }
  }
  assert.ok(checked > 50);
  const rel = Math.sqrt(diff2 / ref2);
  assert.ok(rel < 1e-6, `relative error ${rel}`);
});

Deno.test("the decoder is causal: a later input token does not change earlier logits", async () => {
  const g = new Graph();
  const { embeds, bias } = encoderEmbeddings(g, small, { batch: 1, tokens: 3 });
  const enc = encoder(embeds, bias, small);
  const dec = g.input(INPUTS.decoderIds, "int64", [1, 4]);
  const logits = lmHead(decoder(dec, [crossKV(enc, small, 0)], bias, small), small);
  const store: Record<string, HostTensor> = {};
  const rng = createRng(2);
  for (const p of g.params()) {
    const n = p.shape.reduce((a, d) => a * d, 1);
    store[p.name] = { data: Float32Array.from({ length: n }, () => rng.normal()), shape: p.shape };
  }
  const session = await loadSession(exportOnnx({ logits }));
  const run = async (d: number[]) =>
    (await session.run({
      ...store,
      [INPUTS.ids]: { data: ids([3, 4, 1]), shape: [1, 3] },
      [INPUTS.decoderIds]: { data: ids(d), shape: [1, 4] },
    })).logits.data as Float32Array;
  const a = await run([0, 3, 4, 5]), b = await run([0, 3, 6, 2]);
  const v = small.vocabSize;
  assert.deepEqual(a.slice(0, 2 * v), b.slice(0, 2 * v));
  assert.notDeepEqual(a.slice(2 * v), b.slice(2 * v));
});

Deno.test("prompt vectors start as each release draws them: uniform in [-0.1, 0.1] (POD), N(0, 1) (ELMRec)", () => {
  const draw = (promptInit: "normal" | "uniform") => {
    const g = new Graph();
    const cfg = t5Config({ ...T5_SIZES.tiny }, 20);
    encoderEmbeddings(g, cfg, { batch: 1, tokens: 2 }, { extras: { promptLength: 3, promptInit } });
    const store = new ParamStore();
    store.init(g, createRng(1));
    return [...store.get("prompt_embeddings.weight")!.data];
  };
  const pod = draw("uniform"), elmrec = draw("normal");
  assert.equal(pod.length, 2 * 3 * 32);
  assert.ok(pod.every((v) => v >= -0.1 && v < 0.1));
  const rms = (xs: number[]) => Math.sqrt(xs.reduce((s, x) => s + x * x, 0) / xs.length);
  // Uniform in [-0.1, 0.1] has RMS 0.1 / sqrt(3) = 0.058; N(0, 1) has 1.
  assert.ok(Math.abs(rms(pod) - 0.0577) < 0.01, `${rms(pod)}`);
  assert.ok(Math.abs(rms(elmrec) - 1) < 0.15, `${rms(elmrec)}`);
});

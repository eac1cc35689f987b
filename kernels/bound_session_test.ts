/**
 * Bound I/O (stored values resident in device memory between runs) run on
 * the CPU over host memory: the same code path CUDA takes, held to the
 * host-I/O path's numbers.
 */
import assert from "node:assert/strict";
import { createRng } from "./rng.ts";
import { Graph } from "./graph.ts";
import { crossEntropy, dropout, linear } from "./nn.ts";
import { adamw } from "./optim.ts";
import { ParamStore } from "./param_store.ts";
import { residentValues } from "./resident.ts";
import type { RuntimeOptions } from "./runtime.ts";
import { compileInference, compileTrainStep, compileUpdate } from "./step.ts";
import { boundMemory, endBoundProfiling } from "./step_runner.ts";
import { summarizeProfile } from "./ort_profile.ts";
import { openOrtCApi } from "./ort_capi.ts";

const N = 64;

function model(withDropout: boolean) {
  const g = new Graph();
  const x = g.input("x", "float32", [N, 4]);
  const y = g.input("y", "int64", [N]);
  let h = g.relu(linear(x, "mlp.0", { outFeatures: 8 }));
  if (withDropout) h = dropout(h, "mlp.drop", { p: 0.2 });
  const logits = linear(h, "mlp.1", { outFeatures: 3 });
  return { g, logits, loss: crossEntropy(logits, y) };
}

function batch(seed: number) {
  const rng = createRng(seed);
  const x = new Float32Array(N * 4).map(() => rng.normal());
  const y = BigInt64Array.from({ length: N }, (_, i) => BigInt((x[4 * i] > 0 ? 1 : 0) + (i % 2)));
  return { x, y };
}

async function train(io: RuntimeOptions["io"], steps: number, withDropout = true) {
  const { g, loss, logits } = model(withDropout);
  const store = new ParamStore();
  store.init(g, createRng(7));
  const step = await compileTrainStep(loss, store, {
    optimizer: adamw({ lr: 0.01 }),
    rng: createRng(3),
    io,
  });
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push((await step.run(batch(i))).loss);
  return { store, losses, logits };
}

Deno.test("bound I/O gives the losses and params of host I/O, step for step", async () => {
  const copy = await train("copy", 6);
  const bound = await train("bound", 6);
  assert.deepEqual(bound.losses, copy.losses);
  for (const name of copy.store.names()) {
    assert.deepEqual(bound.store.get(name)!.data, copy.store.get(name)!.data, name);
  }
});

Deno.test("bound I/O uploads once, downloads only what the host reads", async () => {
  const { g, loss } = model(false);
  const store = new ParamStore();
  store.init(g, createRng(1));
  const step = await compileTrainStep(loss, store, { optimizer: adamw({ lr: 0.01 }), io: "bound" });
  // 4 params of 4*8 + 8 + 8*3 + 3 = 67 floats; Adam's m and v as many; a step count per param.
  const all = [...store.entries()].reduce((n, [, e]) => n + e.data.byteLength, 0);
  assert.equal(all, (3 * 67 + 4) * 4);
  for (let i = 0; i < 4; i++) await step.run(batch(i));
  const resident = residentValues(openOrtCApi(), boundMemory("cpu"), store);
  assert.equal(resident.traffic.uploaded, all);
  assert.equal(resident.traffic.downloaded, 0);
  const w = store.get("mlp.1.weight")!;
  assert.equal(resident.traffic.downloaded, 8 * 3 * 4);
  // A host write goes up before the next run, and the run sees it.
  store.set("mlp.1.weight", new Float32Array(w.data.length), w.shape);
  await step.run(batch(9));
  assert.equal(resident.traffic.uploaded, all + 8 * 3 * 4);
  assert.ok(store.get("mlp.1.weight")!.data.some((v) => v !== 0));
});

Deno.test("an inference session reads the values a bound train step left on the device", async () => {
  const { g, loss, logits } = model(false);
  const store = new ParamStore();
  store.init(g, createRng(2));
  const step = await compileTrainStep(loss, store, { optimizer: adamw({ lr: 0.05 }), io: "bound" });
  const infer = await compileInference({ logits }, store, { io: "bound" });
  const hostInfer = await compileInference({ logits }, store, { io: "copy" });
  for (let i = 0; i < 3; i++) await step.run(batch(i));
  const { x } = batch(0);
  const onDevice = (await infer.run({ x })).logits.data;
  const onHost = (await hostInfer.run({ x })).logits.data;
  assert.deepEqual(onDevice, onHost);
});

Deno.test("a bound optimizer-only update matches the host one", async () => {
  const run = async (io: RuntimeOptions["io"]) => {
    const store = new ParamStore();
    store.set("emb", new Float32Array([1, -2, 3, 0.5]), [2, 2]);
    const update = await compileUpdate(["emb"], store, { optimizer: adamw({ lr: 0.1 }), io });
    for (let i = 0; i < 3; i++) await update.run({ emb: new Float32Array([1, 1, -1, 0.25 * i]) });
    return store.get("emb")!.data;
  };
  assert.deepEqual(await run("bound"), await run("copy"));
});

Deno.test("ORT's profiler on a bound session: runs and operators by provider", async () => {
  const dir = await Deno.makeTempDir();
  const { g, loss } = model(false);
  const store = new ParamStore();
  store.init(g, createRng(4));
  const step = await compileTrainStep(loss, store, {
    optimizer: adamw({ lr: 0.01 }),
    io: "bound",
    profile: `${dir}/step`,
  });
  for (let i = 0; i < 3; i++) await step.run(batch(i));
  const files = endBoundProfiling();
  assert.equal(files.length, 1);
  const summary = summarizeProfile(await Deno.readTextFile(files[0]));
  assert.equal(summary.runs, 3);
  const matmul = summary.ops.find((o) => o.op === "MatMul" || o.op === "Gemm");
  assert.ok(matmul && matmul.provider === "CPU", JSON.stringify(summary.ops.slice(0, 5)));
  assert.ok(Math.abs(summary.ops.reduce((s, o) => s + o.share, 0) - 1) < 1e-9);
});

import assert from "node:assert/strict";
import type * as ort from "onnxruntime-node";
import { createRng } from "./rng.ts";
import { Graph } from "./graph.ts";
import { crossEntropy, linear } from "./nn.ts";
import { exportOnnx } from "./onnx_export.ts";
import { adamw } from "./optim.ts";
import { ParamStore } from "./param_store.ts";
import { type Device, loadOrt, loadSession, type OrtApi, releaseSessions } from "./runtime.ts";
import { compileTrainStep } from "./step.ts";

function tiny() {
  const g = new Graph();
  const x = g.input("x", "float32", [2, 3]);
  return exportOnnx({ y: g.exp(x) });
}

Deno.test("loadOrt() loads onnxruntime-node once, and its types fit what runtime.ts uses", async () => {
  // Checked when this file compiles: the package's API is an OrtApi.
  const fits = (api: typeof ort): OrtApi => api;
  const api = await loadOrt();
  assert.equal(await loadOrt(), api);
  assert.equal(typeof fits, "function");
  assert.equal(typeof api.InferenceSession.create, "function");
  assert.ok(api.listSupportedBackends().some((b) => b.name === "cpu"));
});

/** Why a provider cannot start here, or undefined when it can. */
async function unavailable(device: Device): Promise<string | undefined> {
  try {
    await loadSession(tiny(), { device });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const cudaReason = await unavailable("cuda");
if (cudaReason === undefined) {
  console.log("runtime_test: CUDA starts here, so its refusal cannot be seen (test ignored)");
}

Deno.test({
  name: "asking for cuda without its provider is an Error naming the provider and the reason",
  ignore: cudaReason === undefined,
  fn: () => assert.match(cudaReason!, /^Cannot start the "cuda" execution provider: .+/),
});

Deno.test("feeds of the wrong type or length are a TypeError naming the input", async () => {
  const session = await loadSession(tiny());
  await assert.rejects(
    () => session.run({ x: { data: new Float64Array(6), shape: [2, 3] } }),
    /Expected input "x" as a Float32Array of 6 values \(shape \[2,3\]\) but found a Float64Array of 6/,
  );
  await assert.rejects(() => session.run({}), /Expected a feed for input "x" but found none/);
});

async function trainOn(device: Device): Promise<{ losses: number[]; w: Float32Array }> {
  const g = new Graph();
  const x = g.input("x", "float32", [8, 4]), y = g.input("y", "int64", [8]);
  const loss = crossEntropy(
    linear(g.relu(linear(x, "a", { outFeatures: 8 })), "b", { outFeatures: 3 }),
    y,
  );
  const store = new ParamStore();
  store.init(g, createRng(0));
  const step = await compileTrainStep(loss, store, { device, optimizer: adamw({ lr: 0.01 }) });
  const rng = createRng(1);
  const feeds = {
    x: Float32Array.from({ length: 32 }, () => rng.normal()),
    y: BigInt64Array.from({ length: 8 }, () => BigInt(rng.int(3))),
  };
  const losses = [];
  for (let i = 0; i < 3; i++) losses.push((await step.run(feeds)).loss);
  return { losses, w: store.get("a.weight")!.data };
}

const webgpuReason = await unavailable("webgpu");
if (webgpuReason !== undefined) {
  console.log(`runtime_test: the WebGPU test is ignored: ${webgpuReason}`);
}

Deno.test({
  name: "webgpu that cannot start is an Error naming the provider and the reason",
  ignore: webgpuReason === undefined,
  fn: () => assert.match(webgpuReason!, /^Cannot start the "webgpu" execution provider: .+/),
});

Deno.test({
  name:
    "a train step on webgpu matches cpu within 1e-4 relative (ignored when webgpu cannot start)",
  ignore: webgpuReason !== undefined,
  fn: async () => {
    const cpu = await trainOn("cpu"), gpu = await trainOn("webgpu");
    cpu.losses.forEach((l, i) =>
      assert.ok(Math.abs(l - gpu.losses[i]) <= 1e-4 * Math.abs(l), `loss ${i}`)
    );
    cpu.w.forEach((w, i) =>
      assert.ok(Math.abs(w - gpu.w[i]) <= 1e-4 * (Math.abs(w) + 1e-3), `a.weight[${i}]`)
    );
  },
});

Deno.test("releaseSessions() frees every cached session; the next load creates a new one", async () => {
  const first = await loadSession(tiny());
  assert.equal(await loadSession(tiny()), first, "cached by graph hash");
  assert.ok((await releaseSessions()) >= 1);
  const second = await loadSession(tiny());
  assert.notEqual(second, first);
  const { y } = await second.run({ x: { data: new Float32Array(6), shape: [2, 3] } });
  assert.deepEqual([...y.data], [1, 1, 1, 1, 1, 1]);
  assert.equal(await loadSession(tiny(), { memoryPattern: false }) === second, false);
});

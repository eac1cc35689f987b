/**
 * `--device` reaches every ONNX Runtime session a plugin opens: asked for
 * CUDA where its provider cannot start, a plugin that computes with ONNX
 * Runtime fails naming the provider instead of quietly training on the CPU.
 */
import { strict as assert } from "node:assert";
import { BUILTIN_PLUGINS } from "../plugins.ts";
import { runCells } from "../harness/runner.ts";
import { generateSynthetic } from "../harness/synthetic.ts";
import { Graph } from "../kernels/graph.ts";
import { exportOnnx } from "../kernels/onnx_export.ts";
import { loadSession } from "../kernels/runtime.ts";
import { createRng } from "../kernels/mod.ts";
import { normalizedAdjacency } from "../models/interaction_graph.ts";
import { ParamStore } from "../kernels/param_store.ts";
import { createLightGcnTrainer, EMBEDDING } from "../baselines/lightgcn.ts";
import { t5Step } from "../models/device_bench.ts";

/** Counting and graph heuristics: no tensor math, so no device to honour. */
const NO_ONNX = new Set(["pop", "idleak"]);

async function cudaStarts(): Promise<boolean> {
  const g = new Graph();
  const model = exportOnnx({ y: g.exp(g.input("x", "float32", [1])) });
  return await loadSession(model, { device: "cuda" }).then(() => true, () => false);
}

const data = await generateSynthetic({ users: 40, items: 150 });

/** One tiny-preset cell of `plugin`'s first task on the synthetic data, asked for CUDA. */
const tinyCudaCell = (plugin: (typeof BUILTIN_PLUGINS)[string]) =>
  runCells(data, {
    task: plugin.tasks[0],
    plugins: [plugin],
    preset: "tiny",
    device: "cuda",
    resultsPath: null,
    cacheDir: null,
  });
const cuda = await cudaStarts();

if (cuda) console.log("device_test: CUDA starts here, so the refusal tests are ignored");
for (const plugin of Object.values(BUILTIN_PLUGINS)) {
  if (NO_ONNX.has(plugin.name)) continue;
  Deno.test({
    name: `${plugin.name} asked for --device cuda opens its sessions there`,
    ignore: cuda,
    fn: async () => {
      await assert.rejects(
        () => tinyCudaCell(plugin),
        /Cannot start the "cuda" execution provider/,
      );
    },
  });
}

Deno.test("every plugin exempted from the device check is registered (a rename would hide it)", () => {
  assert.deepEqual(
    Object.keys(BUILTIN_PLUGINS).filter((n) => NO_ONNX.has(n)).sort(),
    [...NO_ONNX].sort(),
  );
});

// Where CUDA starts (after `elmbench setup cuda`): the same work on the CPU
// and on CUDA, held to 1e-4 relative, and every plugin through a whole cell.
const relDiff = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
if (!cuda) console.log("device_test: CUDA does not start here, so the CUDA-only tests are ignored");
const cudaOnly = (name: string, fn: () => Promise<void>) => Deno.test({ name, ignore: !cuda, fn });

cudaOnly("a tiny T5 step's first loss on CUDA equals the CPU's (1e-4), both tasks", async () => {
  for (const task of ["direct", "sequential"] as const) {
    const cpu = await t5Step("cpu", task, { size: "tiny", threads: 2, iters: 1 });
    const gpu = await t5Step("cuda", task, { size: "tiny", threads: 2, iters: 1 });
    console.log(`${task}: cpu ${cpu.firstLoss}, cuda ${gpu.firstLoss}`);
    assert.ok(
      relDiff(gpu.firstLoss, cpu.firstLoss) < 1e-4,
      `${task}: ${gpu.firstLoss} vs ${cpu.firstLoss}`,
    );
  }
});

cudaOnly("LightGCN's first losses on CUDA equal the CPU's (1e-4)", async () => {
  const nUsers = 30, nItems = 40, n = nUsers + nItems + 1;
  const rng = createRng(3);
  // Each user's row of the ragged training lists: four random items.
  const rows = Array.from(
    { length: nUsers },
    () => Array.from({ length: 4 }, () => 1 + rng.int(nItems)),
  );
  const a = normalizedAdjacency(nUsers, nItems, {
    offsets: Uint32Array.from({ length: nUsers + 1 }, (_, u) => 4 * u),
    values: Int32Array.from(rows.flat()),
  });
  const e0 = Float32Array.from({ length: n * 8 }, () => 0.1 * rng.normal());
  const losses = async (device: "cpu" | "cuda") => {
    const store = new ParamStore();
    store.set(EMBEDDING, e0.slice(), [n, 8]);
    const trainer = await createLightGcnTrainer(a, store, {
      dim: 8,
      layers: 3,
      lr: 0.01,
      batchSize: 16,
      reg: 1e-4,
      regPow: false,
      device,
    });
    const draw = createRng(5), out: number[] = [];
    for (let s = 0; s < 4; s++) {
      const pick = (base: number, k: number) =>
        Int32Array.from({ length: 16 }, () => base + draw.int(k));
      out.push(
        await trainer.step(
          pick(1, nUsers),
          pick(nUsers + 1, nItems),
          pick(nUsers + 1, nItems),
          new Float32Array(16).fill(1),
        ),
      );
    }
    return out;
  };
  const cpu = await losses("cpu"), gpu = await losses("cuda");
  console.log(`cpu ${cpu}\ncuda ${gpu}`);
  gpu.forEach((l, s) => assert.ok(relDiff(l, cpu[s]) < 1e-4, `step ${s}: ${l} vs ${cpu[s]}`));
});

for (const plugin of Object.values(BUILTIN_PLUGINS)) {
  if (NO_ONNX.has(plugin.name)) continue;
  cudaOnly(`${plugin.name} trains and scores with --device cuda (tiny, synthetic)`, async () => {
    const records = await tinyCudaCell(plugin);
    const hr = records[0].metrics["HR@10"];
    console.log(`${plugin.name} ${plugin.tasks[0]} on cuda: HR@10 ${hr}`);
    assert.ok(Number.isFinite(hr) && hr >= 0 && hr <= 1);
  });
}

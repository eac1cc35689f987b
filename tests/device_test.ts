/**
 * `--device` reaches every ONNX Runtime session a plugin opens: asked for
 * CUDA where its provider cannot start, a plugin that computes with ONNX
 * Runtime fails naming the provider instead of quietly training on the CPU.
 */
import { strict as assert } from "node:assert";
import { BUILTIN_PLUGINS } from "../baselines/mod.ts";
import { runCells } from "../harness/runner.ts";
import { generateSynthetic } from "../harness/synthetic.ts";
import { Graph } from "../kernels/graph.ts";
import { exportOnnx } from "../kernels/onnx_export.ts";
import { loadSession } from "../kernels/runtime.ts";

/** Counting and graph heuristics: no tensor math, so no device to honour. */
const NO_ONNX = new Set(["pop", "idleak"]);

async function cudaStarts(): Promise<boolean> {
  const g = new Graph();
  const model = exportOnnx({ y: g.exp(g.input("x", "float32", [1])) });
  return await loadSession(model, { device: "cuda" }).then(() => true, () => false);
}

const data = await generateSynthetic({ users: 40, items: 150 });
const cuda = await cudaStarts();

for (const plugin of Object.values(BUILTIN_PLUGINS)) {
  if (NO_ONNX.has(plugin.name)) continue;
  Deno.test(`${plugin.name} asked for --device cuda opens its sessions there`, async () => {
    if (cuda) return console.log("skipped: CUDA starts here, so the refusal cannot be seen");
    await assert.rejects(
      () =>
        runCells(data, {
          task: plugin.tasks[0],
          plugins: [plugin],
          preset: "tiny",
          device: "cuda",
          resultsPath: null,
          cacheDir: null,
        }),
      /Cannot start the "cuda" execution provider/,
    );
  });
}

Deno.test("every plugin exempted from the device check is registered (a rename would hide it)", () => {
  assert.deepEqual(
    Object.keys(BUILTIN_PLUGINS).filter((n) => NO_ONNX.has(n)).sort(),
    [...NO_ONNX].sort(),
  );
});

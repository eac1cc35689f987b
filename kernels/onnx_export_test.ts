import assert from "node:assert/strict";
import { Graph } from "./graph.ts";
import { linear, rmsNorm } from "./nn.ts";
import { exportOnnx } from "./onnx_export.ts";

function build() {
  const g = new Graph();
  const x = g.input("x", "float32", [2, 4]);
  return { y: linear(rmsNorm(x, "ln"), "fc", { outFeatures: 3 }) };
}

Deno.test("exporting the same graph twice gives identical bytes and hash", () => {
  const a = exportOnnx(build()), b = exportOnnx(build());
  assert.deepEqual(a.bytes, b.bytes);
  assert.equal(a.hash, b.hash);
  assert.match(a.hash, /^[0-9a-f]{64}$/);
});

Deno.test("params become ONNX inputs under their structural names unless embedded", () => {
  const outputs = build();
  assert.deepEqual(exportOnnx(outputs).inputs.map((v) => v.name), [
    "x",
    "ln.weight",
    "fc.weight",
    "fc.bias",
  ]);
  const embedded = exportOnnx(outputs, {
    initializers: (n) => new Float32Array(n === "fc.weight" ? 12 : n === "fc.bias" ? 3 : 4),
  });
  assert.deepEqual(embedded.inputs.map((v) => v.name), ["x"]);
});

Deno.test("an output that is a leaf or repeated is exported through Identity", () => {
  const g = new Graph();
  const x = g.input("x", "float32", [2]);
  const y = g.exp(x);
  const model = exportOnnx({ a: y, b: y, c: x });
  assert.deepEqual(model.outputs.map((v) => v.name), ["a", "b", "c"]);
});

Deno.test("an output may not reuse a graph value's name", () => {
  const g = new Graph();
  const x = g.input("x", "float32", [2]);
  assert.throws(() => exportOnnx({ x: g.exp(x) }), {
    name: "TypeError",
    message: 'Expected an output name unused in the graph but found "x"',
  });
});

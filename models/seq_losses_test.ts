import assert from "node:assert/strict";
import { compileInference, createRng, Graph, ParamStore } from "../kernels/mod.ts";
import { gradCheck, points } from "../kernels/_gradcheck.ts";
import { sampledBceLoss, softmaxLoss } from "./seq_losses.ts";

const input = (rng: ReturnType<typeof createRng>, shape: number[]) => ({
  shape,
  values: points(rng, shape.reduce((p, d) => p * d, 1)),
});

Deno.test("softmaxLoss gradient matches central differences, empty slots included", async () => {
  const rng = createRng(1);
  const err = await gradCheck(
    rng,
    (g, [logits]) =>
      softmaxLoss(
        logits,
        g.constant([2, 0, 4, 4], "int32", [4]),
        g.constant([1, 0, 1, 1], "float64", [4]),
      ),
    [input(rng, [4, 5])],
  );
  assert.ok(err < 1e-6, `relative error ${err}`);
});

Deno.test("sampledBceLoss gradient matches central differences", async () => {
  const rng = createRng(2);
  const err = await gradCheck(
    rng,
    (g, [p, n]) => sampledBceLoss(p, n, g.constant([1, 1, 0], "float64", [3])),
    [input(rng, [3]), input(rng, [3])],
  );
  assert.ok(err < 1e-6, `relative error ${err}`);
});

Deno.test("softmaxLoss is the weighted mean of -log p(target), and 0 with no real position", async () => {
  const g = new Graph();
  const logits = g.input("logits", "float32", [2, 3]);
  const targets = g.input("targets", "int32", [2]), weights = g.input("weights", "float32", [2]);
  const infer = await compileInference(
    { loss: softmaxLoss(logits, targets, weights) },
    new ParamStore(),
  );
  const x = Float32Array.from([0, 1, 2, 3, 0, 0]);
  const lse = (a: number[]) => Math.log(a.reduce((s, v) => s + Math.exp(v), 0));
  const want = ((lse([0, 1, 2]) - 1) + (lse([3, 0, 0]) - 3)) / 2;
  const run = async (w: number[]) =>
    Number(
      (await infer.run({
        logits: x,
        targets: Int32Array.from([1, 0]),
        weights: Float32Array.from(w),
      })).loss.data[0],
    );
  assert.ok(Math.abs((await run([1, 1])) - want) < 1e-6);
  assert.ok(Math.abs((await run([1, 0])) - (lse([0, 1, 2]) - 1)) < 1e-6);
  assert.equal(await run([0, 0]), 0);
});

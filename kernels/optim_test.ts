import assert from "node:assert/strict";
import { Graph } from "./graph.ts";
import { adamw, sgd } from "./optim.ts";
import { ParamStore } from "./param_store.ts";
import { compileTrainStep } from "./step.ts";

/** loss = sum(p * c): the gradient is exactly c. */
function linearLoss(c: number[]) {
  const g = new Graph();
  const p = g.param("p", [c.length]);
  return g.reduceSum(g.mul(p, g.constant(c, "float32", [c.length])), undefined, false);
}

Deno.test("adamw takes two steps matching a hand-computed update", async () => {
  const c = [0.5, -3, 0.001];
  const p0 = [1, -2, 0.25];
  const [lr, b1, b2, eps, wd] = [0.1, 0.9, 0.999, 1e-8, 0.01];
  const store = new ParamStore();
  store.set("p", new Float32Array(p0), [3]);
  const step = await compileTrainStep(linearLoss(c), store, {
    optimizer: adamw({ lr, beta1: b1, beta2: b2, eps, weightDecay: wd }),
  });
  let p = [...p0], m = [0, 0, 0], v = [0, 0, 0];
  for (let t = 1; t <= 2; t++) {
    await step.run({});
    m = m.map((mi, i) => b1 * mi + (1 - b1) * c[i]);
    v = v.map((vi, i) => b2 * vi + (1 - b2) * c[i] * c[i]);
    p = p.map((pi, i) => {
      const mhat = m[i] / (1 - b1 ** t), vhat = v[i] / (1 - b2 ** t);
      return pi * (1 - lr * wd) - (lr * mhat) / (Math.sqrt(vhat) + eps);
    });
    const got = Array.from(store.get("p")!.data);
    got.forEach((x, i) =>
      assert.ok(Math.abs(x - p[i]) < 1e-6, `step ${t} p[${i}]: ${x} vs ${p[i]}`)
    );
  }
  assert.equal(store.get("opt.step.p")!.data[0], 2);
  Array.from(store.get("opt.m.p")!.data).forEach((x, i) => assert.ok(Math.abs(x - m[i]) < 1e-6));
});

Deno.test("sgd with momentum follows the PyTorch recurrence and honours a per-run lr", async () => {
  const store = new ParamStore();
  store.set("p", new Float32Array([1, 1]), [2]);
  const step = await compileTrainStep(linearLoss([2, -1]), store, {
    optimizer: sgd({ lr: 0.1, momentum: 0.5 }),
  });
  await step.run({});
  // v = g; p = 1 - 0.1 g
  assert.deepEqual(Array.from(store.get("p")!.data), [Math.fround(0.8), Math.fround(1.1)]);
  await step.run({}, { lr: 0.01 });
  // v = 0.5 g + g = 1.5 g; p -= 0.01 * 1.5 g
  const want = [0.8 - 0.03, 1.1 + 0.015];
  Array.from(store.get("p")!.data).forEach((x, i) => assert.ok(Math.abs(x - want[i]) < 1e-6));
});

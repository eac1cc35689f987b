import assert from "node:assert/strict";
import { createRng } from "../kernels/mod.ts";
import { normalizedAdjacency } from "../models/interaction_graph.ts";
import { gradCheck, points } from "../kernels/_gradcheck.ts";
import { Graph } from "../kernels/graph.ts";
import { adam } from "../kernels/optim.ts";
import { ParamStore } from "../kernels/param_store.ts";
import { createSparseEngine, propagateMean } from "../kernels/spmm.ts";
import { compileTrainStep } from "../kernels/step.ts";
import { createLightGcnTrainer, EMBEDDING, lightgcnLoss } from "./lightgcn.ts";

// A small user-item graph: 5 users, 6 items; user 1 repeats item 2 (one edge).
const N_USERS = 5, N_ITEMS = 6;
const TRAIN = [[1, 2, 2], [2, 3], [1, 4, 5], [6], [2, 5, 6]];
const train = {
  offsets: Uint32Array.from([0, ...TRAIN.map((_, u) => TRAIN.slice(0, u + 1).flat().length)]),
  values: Int32Array.from(TRAIN.flat()),
};
const N = N_USERS + N_ITEMS + 1;

/** Dense mean_l (D^-1/2 A D^-1/2)^l over l = 0..L, in float64, from the raw interactions. */
function denseMeanOperator(layers: number): Float64Array {
  const adj = new Float64Array(N * N);
  TRAIN.forEach((items, u) => {
    for (const i of items) adj[(u + 1) * N + N_USERS + i] = adj[(N_USERS + i) * N + u + 1] = 1;
  });
  const deg = Array.from(
    { length: N },
    (_, r) => adj.slice(r * N, r * N + N).reduce((s, v) => s + v),
  );
  const norm = adj.map((v, k) => {
    const r = Math.floor(k / N), c = k % N;
    return v ? v / Math.sqrt(deg[r] * deg[c]) : 0;
  });
  const mean = new Float64Array(N * N);
  let power = Float64Array.from({ length: N * N }, (_, k) => (k % (N + 1) === 0 ? 1 : 0));
  for (let l = 0; l <= layers; l++) {
    for (let k = 0; k < mean.length; k++) mean[k] += power[k] / (layers + 1);
    const next = new Float64Array(N * N);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let m = 0; m < N; m++) s += norm[i * N + m] * power[m * N + j];
        next[i * N + j] = s;
      }
    }
    power = next;
  }
  return mean;
}

Deno.test("lightgcnLoss gradient matches central differences (both EmbLoss conventions)", async () => {
  for (const regPow of [false, true]) {
    const rng = createRng(3).fork(`lightgcn-${regPow}`);
    const b = 4, d = 3;
    const err = await gradCheck(
      rng,
      (g, [pu, pi, pj, eu, ei, ej]) => {
        const w = g.constant([1, 1, 1, 0], "float64", [b]);
        return lightgcnLoss({ users: pu, pos: pi, neg: pj }, { users: eu, pos: ei, neg: ej }, w, {
          reg: 0.3,
          regPow,
        });
      },
      Array.from({ length: 6 }, () => ({ shape: [b, d], values: points(rng, b * d, "nonzero") })),
    );
    assert.ok(err < 1e-6, `regPow ${regPow}: relative error ${err}`);
  }
});

Deno.test("propagateMean on the normalized training graph equals the dense mean of layers", () => {
  const a = normalizedAdjacency(N_USERS, N_ITEMS, train);
  for (const layers of [1, 3]) {
    const m = denseMeanOperator(layers);
    for (const d of [4, 3]) { // the wasm kernel (d % 4 == 0) and the JS fallback
      const rng = createRng(d);
      const e = Float32Array.from({ length: N * d }, () => rng.normal());
      const got = propagateMean(a, e, { layers });
      for (let i = 0; i < N; i++) {
        for (let k = 0; k < d; k++) {
          let want = 0;
          for (let j = 0; j < N; j++) want += m[i * N + j] * e[j * d + k];
          assert.ok(Math.abs(got[i * d + k] - want) < 1e-5, `L=${layers} d=${d} [${i},${k}]`);
        }
      }
    }
  }
});

Deno.test("the split LightGCN step matches one dense graph step for step", async () => {
  const cases = [
    { regPow: false, update: "dense", threads: 1 },
    { regPow: true, update: "dense", threads: 2 },
    { regPow: false, update: "onnx", threads: 1 },
  ] as const;
  for (const { regPow, update, threads } of cases) {
    const layers = 3, d = 4, b = 6, lr = 0.01, reg = 0.1;
    const a = normalizedAdjacency(N_USERS, N_ITEMS, train);
    const m = denseMeanOperator(layers);
    const rng = createRng(7);
    const e0 = Float32Array.from({ length: N * d }, () => 0.1 * rng.normal());
    e0.fill(0, 0, d);

    // Reference: P = M E0 inside one graph, Adam in the same session.
    const ref = new ParamStore();
    ref.set(EMBEDDING, e0.slice(), [N, d]);
    const rg = new Graph();
    const table = rg.param(EMBEDDING, [N, d]);
    const p = rg.matMul(rg.constant(Float32Array.from(m), "float32", [N, N]), table);
    const ids = ["users", "pos", "neg"].map((k) => rg.input(k, "int32", [b]));
    const w = rg.input("weights", "float32", [b]);
    const rows = (t: typeof table) => {
      const [users, pos, neg] = ids.map((i) => rg.gather(t, i));
      return { users, pos, neg };
    };
    const refLoss = lightgcnLoss(rows(p), rows(table), w, { reg, regPow });
    const refStep = await compileTrainStep(refLoss, ref, { optimizer: adam({ lr }) });

    const store = new ParamStore();
    store.set(EMBEDDING, e0.slice(), [N, d]);
    const engine = await createSparseEngine({ threads });
    const trainer = await createLightGcnTrainer(a, store, {
      dim: d,
      layers,
      lr,
      batchSize: b,
      reg,
      regPow,
      update,
      engine,
    });
    for (let s = 0; s < 3; s++) {
      const users = Int32Array.from({ length: b }, () => 1 + rng.int(N_USERS));
      const pos = Int32Array.from({ length: b }, () => N_USERS + 1 + rng.int(N_ITEMS));
      const neg = Int32Array.from({ length: b }, () => N_USERS + 1 + rng.int(N_ITEMS));
      // The last step pads two samples, as a wrapped last batch does.
      const weights = Float32Array.from({ length: b }, (_, k) => (s === 2 && k >= b - 2 ? 0 : 1));
      const want = (await refStep.run({ users, pos, neg, weights })).loss;
      const got = await trainer.step(users, pos, neg, weights);
      assert.ok(Math.abs(got - want) < 1e-5, `step ${s}: loss ${got} vs ${want}`);
      const x = store.get(EMBEDDING)!.data, y = ref.get(EMBEDDING)!.data;
      y.forEach((v, k) =>
        assert.ok(Math.abs(v - x[k]) < 1e-5, `${update} step ${s}: E0[${k}] ${x[k]} vs ${v}`)
      );
      if (s === 1) {
        // A value set from outside (a restored snapshot) is what the next step starts from.
        const restored = x.slice();
        store.set(EMBEDDING, restored, [N, d]);
        assert.deepEqual(trainer.propagate(), propagateMean(a, restored, { layers }));
      }
    }
    engine.close();
  }
});

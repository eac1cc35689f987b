import assert from "node:assert/strict";
import { createRng } from "../kernels/mod.ts";
import { gradCheck, points } from "../kernels/_gradcheck.ts";
import { Graph } from "../kernels/graph.ts";
import { adam } from "../kernels/optim.ts";
import { ParamStore } from "../kernels/param_store.ts";
import { cclLoss, embLoss } from "../models/rec_losses.ts";
import { compileTrainStep } from "../kernels/step.ts";
import { createSparseEngine } from "../kernels/spmm.ts";
import { createSimplexTrainer, simplexRowLoss, userTower } from "./simplex_tower.ts";

const tower = { nUsers: 3, nItems: 6, dim: 4, gamma: 0.5 };

Deno.test("simplexRowLoss gradient matches central differences for rows, norms and ui_map", async () => {
  // Margin -0.5 keeps every negative term active, so the check covers it too.
  for (const [margin, regPow] of [[0, false], [-0.5, true]] as const) {
    const rng = createRng(9).fork(`${margin}`);
    const b = 3, k = 2, d = 3;
    const err = await gradCheck(
      rng,
      (g, [ue, pe, ne, hmean, hsq]) =>
        simplexRowLoss(
          { ue, pe, ne, hmean, hsq },
          g.constant([1, 1, 0], "float64", [b]),
          { ...tower, dim: d, dtype: "float64" },
          { margin, negativeWeight: 3, reg: 0.1, regPow },
        ),
      [[b, d], [b, d], [b, k, d], [b, d]].map((shape) => ({
        shape,
        values: points(rng, shape.reduce((p, q) => p * q, 1), "nonzero"),
      })).concat([{ shape: [b], values: points(rng, b, "positive") }]),
    );
    assert.ok(err < 1e-6, `margin ${margin}: relative error ${err}`);
  }
});

Deno.test("the split SimpleX step matches one graph with gathers, step for step", async () => {
  const b = 4, k = 3, h = 3, lr = 0.01, d = tower.dim;
  const loss = { margin: 0.2, negativeWeight: 5, reg: 0.05, regPow: false };
  const cases = [
    { dropout: 0, update: "dense", threads: 1 },
    { dropout: 0.3, update: "dense", threads: 2 },
    { dropout: 0.3, update: "onnx", threads: 1 },
  ] as const;
  for (const { dropout, update, threads } of cases) {
    const engine = await createSparseEngine({ threads });
    // Reference: tables as params, history gathered in the graph, one Adam.
    const rg = new Graph();
    const ids = (name: string, shape: number[]) => rg.input(name, "int32", shape);
    const inputs = {
      users: ids("users", [b]),
      history: ids("history", [b, h]),
      mask: rg.input("mask", "float32", [b, h]),
    };
    const t = userTower(inputs, { ...tower, dropout });
    const [pos, neg] = [ids("pos", [b]), ids("neg", [b, k])];
    const w = rg.input("weights", "float32", [b]);
    const pe = rg.gather(t.itemTable, pos), ne = rg.gather(t.itemTable, neg);
    const refLoss = rg.add(
      cclLoss(t.v, pe, ne, w, loss),
      rg.mul(embLoss([t.ue, pe, t.he, ne], w), loss.reg),
    );
    const ref = new ParamStore();
    ref.init(rg, createRng(1));
    ref.get("item_emb.weight")!.data.fill(0, 0, d);
    const split = ref.clone();
    const refStep = await compileTrainStep(refLoss, ref, {
      optimizer: adam({ lr }),
      rng: createRng(2),
    });
    const step = await createSimplexTrainer(split, {
      ...tower,
      ...loss,
      dropout,
      batchSize: b,
      negatives: k,
      historyLen: h,
      lr,
      rng: createRng(2),
      update,
      engine,
    });
    const rng = createRng(3);
    for (let s = 0; s < 3; s++) {
      const batch = {
        users: Int32Array.from({ length: b }, () => rng.int(tower.nUsers)),
        pos: Int32Array.from({ length: b }, () => 1 + rng.int(tower.nItems)),
        neg: Int32Array.from({ length: b * k }, () => 1 + rng.int(tower.nItems)),
        history: Int32Array.from({ length: b * h }, (_, i) => (i % h === 2 ? 0 : 1 + rng.int(6))),
        mask: Float32Array.from({ length: b * h }, (_, i) => (i % h === 2 ? 0 : 1)),
      };
      const weights = Float32Array.from({ length: b }, (_, i) => (s === 1 && i === 0 ? 0 : 1));
      const want = (await refStep.run({ ...batch, weights })).loss;
      const got = await step(batch, weights);
      assert.ok(Math.abs(got - want) < 1e-5, `dropout ${dropout} step ${s}: ${got} vs ${want}`);
      for (const name of ["user_emb.weight", "item_emb.weight", "ui_map.weight"]) {
        const x = split.get(name)!.data, y = ref.get(name)!.data;
        y.forEach((v, i) =>
          assert.ok(Math.abs(v - x[i]) < 1e-5, `${update} ${name}[${i}] step ${s}`)
        );
      }
    }
    engine.close();
  }
});

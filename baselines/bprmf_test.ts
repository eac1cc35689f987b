import assert from "node:assert/strict";
import { createRng } from "../kernels/mod.ts";
import { gradCheck, points } from "../kernels/_gradcheck.ts";
import { ParamStore } from "../kernels/param_store.ts";
import {
  bprmfLoss,
  type BprMfStep,
  type BprMfUpdate,
  createBprMfTrainer,
  ITEMS,
  USERS,
} from "./bprmf.ts";

Deno.test("bprmfLoss gradient matches central differences for both tables", async () => {
  for (const reg of [0, 0.2]) {
    const rng = createRng(4).fork(String(reg));
    const d = 3;
    const err = await gradCheck(
      rng,
      (g, [users, items]) => {
        // Repeated ids: gradients of a row must accumulate.
        const ids = {
          users: g.constant([0, 2, 2, 1], "int32", [4]),
          pos: g.constant([1, 3, 3, 4], "int32", [4]),
          neg: g.constant([2, 1, 4, 4], "int32", [4]),
          weights: g.constant([1, 1, 1, 0], "float64", [4]),
        };
        return bprmfLoss(users, items, ids, { reg, regPow: false });
      },
      [
        { shape: [3, d], values: points(rng, 3 * d, "nonzero") },
        { shape: [5, d], values: points(rng, 5 * d, "nonzero") },
      ],
    );
    assert.ok(err < 1e-6, `reg ${reg}: relative error ${err}`);
  }
});

Deno.test("BPR-MF's split step with the kernels' dense Adam equals the one-session step", async () => {
  const nUsers = 7, nItems = 9, d = 8, b = 16, lr = 0.01;
  for (const reg of [0, 0.1]) {
    const rng = createRng(13);
    const init = (rows: number) => Float32Array.from({ length: rows * d }, () => rng.normal());
    const tables = [init(nUsers), init(nItems + 1)];
    const stores = { onnx: new ParamStore(), dense: new ParamStore(), sparse: new ParamStore() };
    const steps: Record<string, BprMfStep> = {};
    for (const [update, store] of Object.entries(stores)) {
      store.set(USERS, tables[0].slice(), [nUsers, d]);
      store.set(ITEMS, tables[1].slice(), [nItems + 1, d]);
      steps[update] = await createBprMfTrainer(store, {
        nUsers,
        nItems,
        dim: d,
        lr,
        batchSize: b,
        reg,
        regPow: false,
        update: update as BprMfUpdate,
      });
    }
    for (let s = 0; s < 4; s++) {
      // Few items, so rows repeat within and across positives and negatives.
      const users = Int32Array.from({ length: b }, () => rng.int(nUsers));
      const pos = Int32Array.from({ length: b }, () => 1 + rng.int(nItems));
      const neg = Int32Array.from({ length: b }, () => 1 + rng.int(nItems));
      const weights = Float32Array.from({ length: b }, (_, k) => (s === 3 && k > 12 ? 0 : 1));
      const before = stores.sparse.get(ITEMS)!.data.slice();
      const losses = await Promise.all(
        Object.values(steps).map((step) => step(users, pos, neg, weights)),
      );
      assert.ok(Math.abs(losses[1] - losses[0]) < 1e-6, `reg ${reg} step ${s}: loss`);
      for (const name of [USERS, ITEMS]) {
        const want = stores.onnx.get(name)!.data, got = stores.dense.get(name)!.data;
        want.forEach((v, k) => assert.ok(Math.abs(got[k] - v) <= 1e-6, `${name}[${k}] step ${s}`));
      }
      // Sparse: an item in no triple of the batch keeps its row.
      const after = stores.sparse.get(ITEMS)!.data;
      for (let item = 0; item <= nItems; item++) {
        if (pos.includes(item) || neg.includes(item)) continue;
        const row = (x: Float32Array) => Array.from(x.subarray(item * d, item * d + d));
        assert.deepEqual(row(after), row(before), `sparse: item ${item} step ${s}`);
      }
    }
  }
});

import assert from "node:assert/strict";
import { createRng } from "../kernels/mod.ts";
import { gradCheck, points } from "../kernels/_gradcheck.ts";
import { bprmfLoss } from "./bprmf.ts";

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

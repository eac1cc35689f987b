import assert from "node:assert/strict";
import { createRng, exportOnnx, Graph, loadSession } from "../kernels/mod.ts";
import { gradCheck, points } from "../kernels/_gradcheck.ts";
import { bprLoss, embLoss, weightedBprLoss } from "./rec_losses.ts";

const input = (
  rng: ReturnType<typeof createRng>,
  shape: number[],
  kind: "any" | "nonzero" = "nonzero",
) => ({
  shape,
  values: points(rng, shape.reduce((p, d) => p * d, 1), kind),
});

Deno.test("weightedBprLoss gradient matches central differences, padding included", async () => {
  const rng = createRng(1);
  const err = await gradCheck(
    rng,
    (g, [p, n]) => weightedBprLoss(p, n, g.constant([1, 1, 0, 1, 0], "float64", [5])),
    [input(rng, [5]), input(rng, [5])],
  );
  assert.ok(err < 1e-6, `relative error ${err}`);
});

Deno.test("embLoss gradient matches central differences in both conventions", async () => {
  for (const pow of [false, true]) {
    const rng = createRng(2).fork(String(pow));
    const err = await gradCheck(
      rng,
      (g, [a, b]) => embLoss([a, b], g.constant([1, 0, 1], "float64", [3]), { pow }),
      [input(rng, [3, 4]), input(rng, [3, 2, 4])],
    );
    assert.ok(err < 1e-6, `pow ${pow}: relative error ${err}`);
  }
});

Deno.test("bprLoss matches central differences, including pos == neg", async () => {
  const rng = createRng(5);
  const pos = input(rng, [6], "any"), neg = input(rng, [6], "any");
  neg.values[1] = pos.values[1];
  const err = await gradCheck(rng, (_g, [p, n]) => bprLoss(p, n), [pos, neg]);
  assert.ok(err < 1e-6, `relative error ${err}`);
});

Deno.test("weightedBprLoss with unit weights equals bprLoss; embLoss follows RecBole's EmbLoss", async () => {
  const g = new Graph();
  const p = g.input("p", "float64", [3]), n = g.input("n", "float64", [3]);
  const x = g.input("x", "float64", [3, 2]);
  const ones = g.constant([1, 1, 1], "float64", [3]);
  const half = g.constant([1, 1, 0], "float64", [3]);
  const session = await loadSession(exportOnnx({
    weighted: weightedBprLoss(p, n, ones),
    plain: bprLoss(p, n),
    norm: embLoss([x], ones),
    squared: embLoss([x], half, { pow: true }),
  }));
  const xs = [1, 2, 3, 4, 5, 6];
  const out = await session.run({
    p: { data: Float64Array.from([1, -2, 0.5]), shape: [3] },
    n: { data: Float64Array.from([0, 1, 3]), shape: [3] },
    x: { data: Float64Array.from(xs), shape: [3, 2] },
  });
  const v = (k: string) => Number(out[k].data[0]);
  assert.ok(Math.abs(v("weighted") - v("plain")) < 1e-12);
  // require_pow = False: ||X||_F / B.
  assert.ok(Math.abs(v("norm") - Math.sqrt(91) / 3) < 1e-12);
  // require_pow = True over the 2 real rows: ||X_real||^2 / 2 / 2.
  assert.ok(Math.abs(v("squared") - (1 + 4 + 9 + 16) / 2 / 2) < 1e-12);
});

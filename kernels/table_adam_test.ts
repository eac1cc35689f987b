import assert from "node:assert/strict";
import { adam } from "./optim.ts";
import { ParamStore } from "./param_store.ts";
import { createRng, type Rng } from "./rng.ts";
import { createSparseEngine } from "./spmm.ts";
import { compileUpdate } from "./step.ts";
import { createTableAdam } from "./table_adam.ts";

const LR = 0.01;

/** Row gradients of `count` rows drawn from `rows` (repeats allowed), of width `d`. */
function rowGrads(rng: Rng, rows: number, count: number, d: number) {
  const ids = Int32Array.from({ length: count }, () => rng.int(rows));
  const grads = Float32Array.from({ length: count * d }, () => rng.normal() * 1e-2);
  return { ids, grads };
}

/** The dense gradient table the rows add up to (in the same order as addRows adds them). */
function scatter(ids: Int32Array, grads: Float32Array, rows: number, d: number): Float32Array {
  const out = new Float32Array(rows * d);
  ids.forEach((r, k) => {
    for (let j = 0; j < d; j++) out[r * d + j] += grads[k * d + j];
  });
  return out;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

Deno.test("dense table Adam equals the ONNX Runtime update within 1e-6 over 12 steps", async () => {
  for (const threads of [1, 2]) {
    const rng = createRng(21);
    const tables = [{ name: "users", rows: 37, dim: 8 }, { name: "items", rows: 23, dim: 12 }];
    const init = tables.map((t) =>
      Float32Array.from({ length: t.rows * t.dim }, () => rng.normal())
    );
    const ref = new ParamStore();
    tables.forEach((t, i) => ref.set(t.name, init[i].slice(), [t.rows, t.dim]));
    const update = await compileUpdate(tables.map((t) => t.name), ref, {
      optimizer: adam({ lr: LR }),
      intraOpThreads: 1,
    });
    const engine = await createSparseEngine({ threads });
    try {
      const opt = createTableAdam(engine, tables.map((t, i) => ({ ...t, init: init[i] })), {
        lr: LR,
      });
      let exact = 0, total = 0;
      for (let s = 0; s < 12; s++) {
        // Few rows per step, so most rows move on momentum alone, as in training.
        const grads: Record<string, Float32Array> = {};
        for (const t of tables) {
          const { ids, grads: rows } = rowGrads(rng, t.rows, 5, t.dim);
          grads[t.name] = scatter(ids, rows, t.rows, t.dim);
          opt.addRows(t.name, ids, rows);
        }
        await update.run(grads);
        await opt.step();
        for (const t of tables) {
          const want = ref.get(t.name)!.data, got = opt.values(t.name);
          const diff = maxDiff(got, want);
          assert.ok(diff <= 1e-6, `${threads} threads, step ${s}, ${t.name}: ${diff}`);
          want.forEach((v, i) => (exact += v === got[i] ? 1 : 0));
          total += want.length;
          assert.ok(opt.grad(t.name).every((v) => v === 0), "the step zeroes the added rows");
        }
      }
      assert.equal(opt.steps, 12);
      // Not required, but what was measured here: the same float32 operations in the same order.
      assert.ok(exact / total > 0.999, `${exact} of ${total} values bit-equal`);
    } finally {
      engine.close();
    }
  }
});

Deno.test("sparse table Adam updates touched rows as ONNX Runtime's Adam on those rows alone", async () => {
  const rows = 16, d = 8, perStep = 4;
  for (const threads of [1, 2]) {
    const rng = createRng(5);
    const init = Float32Array.from({ length: rows * d }, () => rng.normal());
    const engine = await createSparseEngine({ threads });
    try {
      const opt = createTableAdam(engine, [{ name: "t", rows, dim: d, init }], {
        lr: LR,
        rows: "sparse",
      });
      // Reference state per row: value and moments; the ONNX update runs on a
      // sub-table of the touched rows with the global step count.
      const p = init.slice(), m = new Float32Array(rows * d), v = new Float32Array(rows * d);
      const sub = new ParamStore();
      sub.set("t", new Float32Array(perStep * d), [perStep, d]);
      const update = await compileUpdate(["t"], sub, { optimizer: adam({ lr: LR }) });
      const lastTouch = new Int32Array(rows).fill(-1);
      let retouched = 0;
      for (let s = 0; s < 10; s++) {
        const touched = rng.shuffle(Int32Array.from({ length: rows }, (_, i) => i)).slice(
          0,
          perStep,
        );
        // Each touched row gets two gradient rows: repeats must add up.
        const ids = Int32Array.from([...touched, ...touched]);
        const grads = Float32Array.from({ length: ids.length * d }, () => rng.normal() * 1e-2);
        opt.addRows("t", ids, grads);
        const before = opt.values("t").slice();
        await opt.step();

        const gather = (x: Float32Array) => {
          const out = new Float32Array(perStep * d);
          touched.forEach((r, k) => out.set(x.subarray(r * d, r * d + d), k * d));
          return out;
        };
        const g = new Float32Array(perStep * d);
        touched.forEach((_, k) => {
          for (let j = 0; j < d; j++) {
            g[k * d + j] = grads[k * d + j] + grads[(k + perStep) * d + j];
          }
        });
        sub.set("t", gather(p), [perStep, d]);
        sub.set("opt.m.t", gather(m), [perStep, d]);
        sub.set("opt.v.t", gather(v), [perStep, d]);
        sub.set("opt.step.t", new Float32Array([s]), []);
        await update.run({ t: g });
        touched.forEach((r, k) => {
          const o = r * d, so = k * d;
          p.set(sub.get("t")!.data.subarray(so, so + d), o);
          m.set(sub.get("opt.m.t")!.data.subarray(so, so + d), o);
          v.set(sub.get("opt.v.t")!.data.subarray(so, so + d), o);
          if (lastTouch[r] >= 0 && lastTouch[r] < s - 1) retouched++;
          lastTouch[r] = s;
        });
        const got = opt.values("t");
        const diff = maxDiff(got, p);
        assert.ok(diff <= 1e-6, `${threads} threads, step ${s}: ${diff}`);
        for (let r = 0; r < rows; r++) {
          if (touched.includes(r)) continue;
          for (let j = 0; j < d; j++) {
            assert.equal(got[r * d + j], before[r * d + j], `untouched row ${r} stays`);
          }
        }
        assert.ok(opt.grad("t").every((x) => x === 0), "the step zeroes the rows it used");
      }
      assert.ok(retouched >= 5, `rows touched again after a gap: ${retouched}`);
    } finally {
      engine.close();
    }
  }
});

Deno.test("a whole-gradient table is read in full and left as written", async () => {
  const engine = await createSparseEngine({ threads: 1 });
  try {
    const opt = createTableAdam(engine, [{ name: "e", rows: 2, dim: 4, gradient: "whole" }], {
      lr: 0.5,
      rows: "sparse",
    });
    opt.grad("e").set([1, -1, 2, 0, 0, 0, 0, 3]);
    opt.addRows("e", new Int32Array([0]), new Float32Array([1, 1, 1, 1]));
    await opt.step();
    // Adam's first step is lr * sign(g) wherever g != 0, on every row.
    assert.deepEqual(
      Array.from(opt.values("e")).map((x) => Math.round(x * 1e4) / 1e4),
      [-0.5, 0, -0.5, -0.5, 0, 0, 0, -0.5],
    );
    assert.deepEqual(Array.from(opt.grad("e")), [2, 0, 3, 1, 0, 0, 0, 3]);
    assert.throws(() => opt.values("f"), { name: "TypeError" });
    assert.throws(
      () => createTableAdam(engine, [{ name: "x", rows: 2, dim: 6 }], { lr: 1 }),
      { name: "RangeError" },
    );
    opt.free();
  } finally {
    engine.close();
  }
});

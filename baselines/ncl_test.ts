import assert from "node:assert/strict";
import {
  adam,
  compileTrainStep,
  createRng,
  Graph,
  ParamStore,
  type Tensor,
} from "../kernels/mod.ts";
import { tinySplit } from "../models/test_split.ts";
import { EMBEDDING, initEmbeddings, trainGraph } from "./lightgcn.ts";
import { createNclStep, nclLoss, type NclStepOptions } from "./ncl_step.ts";
import { testContext } from "../models/test_split.ts";

Deno.test("ncl: the split step equals one graph that propagates densely (loss and Adam update)", async () => {
  const split = await tinySplit();
  const a = trainGraph(split);
  const n = a.nRows, d = 4, b = 6, nUsers = split.nUsers;
  const options: NclStepOptions = {
    dim: d,
    layers: 3,
    lr: 0.01,
    batchSize: b,
    reg: 1e-2,
    regPow: false,
    sslTemp: 0.5,
    sslReg: 0.3,
    hyperLayers: 1,
    alpha: 0.7,
    clusters: { users: 3, items: 4 },
    threads: 1,
  };
  const e0 = initEmbeddings(testContext(split, "direct", createRng(1)), d);
  const rng = createRng(2);
  const batch = {
    users: Int32Array.from({ length: b }, () => 1 + rng.int(nUsers)),
    pos: Int32Array.from({ length: b }, () => nUsers + 1 + rng.int(split.nItems)),
    neg: Int32Array.from({ length: b }, () => nUsers + 1 + rng.int(split.nItems)),
    weights: Float32Array.from([1, 1, 1, 1, 1, 0]),
  };
  const side = (k: number, count: number) => ({
    centroids: Float32Array.from({ length: k * d }, () => rng.normal()),
    assignment: Int32Array.from({ length: count }, () => rng.int(k)),
  });
  const protos = { users: side(3, nUsers), items: side(4, split.nItems) };
  for (const p of [protos.users, protos.items]) {
    for (let r = 0; r < p.centroids.length / d; r++) {
      const v = p.centroids.subarray(r * d, r * d + d);
      const norm = Math.hypot(...v);
      for (let j = 0; j < d; j++) v[j] /= norm;
    }
  }

  const split1 = new ParamStore();
  split1.set(EMBEDDING, e0.slice(), [n, d]);
  const step = await createNclStep(a, nUsers, split1, options);
  const loss1 = await step.run(batch, protos, 0.2);

  // The reference: Â as a dense constant, every layer a MatMul, one train step.
  const dense = new Float32Array(n * n);
  for (let r = 0; r < n; r++) {
    for (let k = a.offsets[r]; k < a.offsets[r + 1]; k++) dense[r * n + a.columns[k]] = a.values[k];
  }
  const g = new Graph();
  const table = g.param(EMBEDDING, [n, d]);
  const adj = g.constant(dense, "float32", [n, n]);
  const layers: Tensor[] = [table];
  for (let l = 0; l < 3; l++) layers.push(g.matMul(adj, layers[l]));
  const mean = g.div(layers.reduce((s, t) => g.add(s, t)), 4);
  const ids = (v: Int32Array) => g.constant(v, "int32", [v.length]);
  const rowsOf = (t: Tensor) => ({
    users: g.gather(t, ids(batch.users)),
    pos: g.gather(t, ids(batch.pos)),
    neg: g.gather(t, ids(batch.neg)),
  });
  const own = (p: typeof protos.users, nodes: Int32Array, offset: number) =>
    g.gather(
      g.constant(p.centroids, "float32", [p.centroids.length / d, d]),
      ids(nodes.map((v) => p.assignment[v - offset])),
    );
  const loss = nclLoss(
    {
      p: rowsOf(mean),
      ego: rowsOf(table),
      context: {
        users: g.gather(layers[2], ids(batch.users)),
        items: g.gather(layers[2], ids(batch.pos)),
      },
      e0: table,
      uidx: ids(batch.users.map((u) => u - 1)),
      iidx: ids(batch.pos.map((i) => i - nUsers - 1)),
      cent: {
        users: g.constant(protos.users.centroids, "float32", [3, d]),
        items: g.constant(protos.items.centroids, "float32", [4, d]),
      },
      own: {
        users: own(protos.users, batch.users, 1),
        items: own(protos.items, batch.pos, nUsers + 1),
      },
      weights: g.constant(batch.weights, "float32", [b]),
      protoScale: g.scalar(0.2),
    },
    nUsers,
    options,
  );
  const ref = new ParamStore();
  ref.set(EMBEDDING, e0.slice(), [n, d]);
  const refStep = await compileTrainStep(loss, ref, {
    optimizer: adam({ lr: 0.01 }),
    intraOpThreads: 1,
  });
  const { loss: loss2 } = await refStep.run({});

  assert.ok(Math.abs(loss1 - loss2) < 1e-5 * Math.abs(loss2), `loss ${loss1} vs ${loss2}`);
  const after1 = split1.get(EMBEDDING)!.data, after2 = ref.get(EMBEDDING)!.data;
  let moved = 0;
  for (let i = 0; i < after1.length; i++) {
    assert.ok(Math.abs(after1[i] - after2[i]) < 1e-5, `entry ${i}: ${after1[i]} vs ${after2[i]}`);
    moved = Math.max(moved, Math.abs(after1[i] - e0[i]));
  }
  assert.ok(moved > 1e-3, "the step moved the embeddings");
});

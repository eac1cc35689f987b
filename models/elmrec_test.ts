/**
 * ELMRec's parts on hand-sized inputs: propagation against a dense
 * reference, the gradient of E0, whole-word indices token by token, and the
 * feeds the backbone receives.
 */
import assert from "node:assert/strict";
import { createRng, row } from "../kernels/mod.ts";
import type { Task } from "../harness/types.ts";
import { normalizedAdjacency } from "./interaction_graph.ts";
import { gradients } from "../kernels/autodiff.ts";
import { Graph } from "../kernels/graph.ts";
import { exportOnnx } from "../kernels/onnx_export.ts";
import { ParamStore } from "../kernels/param_store.ts";
import { loadSession } from "../kernels/runtime.ts";
import { PromptEncoder } from "./batch.ts";
import {
  elmrecGraph,
  ElmrecTables,
  GRAPH_TABLE,
  graphGradient,
  incrementalIndices,
} from "./elmrec_embeddings.ts";
import { ID_TEMPLATES, type Sample, templateWords } from "./prompts.ts";
import { builtinTokenizer } from "./tokenizer.ts";
import { tinySplit } from "./test_split.ts";

/** Dense float64 `mean_l Â^l x0` with `Â` built from the edge list by its definition. */
function denseMean(
  nUsers: number,
  edges: [number, number][],
  n: number,
  x0: Float64Array,
  layers: number,
): Float64Array {
  const a = new Float64Array(n * n);
  for (const [u, i] of edges) a[u * n + nUsers + i] = a[(nUsers + i) * n + u] = 1;
  const deg = Array.from(
    { length: n },
    (_, r) => a.slice(r * n, (r + 1) * n).reduce((s, v) => s + v),
  );
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) if (a[r * n + c]) a[r * n + c] /= Math.sqrt(deg[r] * deg[c]);
  }
  const d = x0.length / n;
  const sum = Float64Array.from(x0);
  let x = x0;
  for (let l = 0; l < layers; l++) {
    const y = new Float64Array(n * d);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        const w = a[r * n + c];
        if (w) { for (let j = 0; j < d; j++) y[r * d + j] += w * x[c * d + j]; }
      }
    }
    x = y;
    for (let k = 0; k < sum.length; k++) sum[k] += y[k];
  }
  return sum.map((v) => v / (layers + 1));
}

Deno.test("ELMRec's propagation over the training graph matches a dense reference", async () => {
  const split = await tinySplit(30, 150);
  const a = elmrecGraph(split, "train", createRng(0));
  const edges: [number, number][] = [];
  for (let u = 0; u < split.nUsers; u++) {
    for (const i of new Set(row(split.train, u))) edges.push([u + 1, i]);
  }
  const n = a.nRows;
  assert.equal(n, split.nUsers + split.nItems + 1);
  for (const d of [8, 6]) { // SIMD kernel and the JS path
    for (const layers of [0, 1, 4]) {
      const store = new ParamStore();
      const tables = new ElmrecTables(store, {
        graph: a,
        layers,
        dModel: d,
        wholeWordRows: 8,
        scheme: { direct: "graph", sequential: "none" },
        alpha: { direct: 1, sequential: 1 },
        startTokens: new Set(),
        lr: 1e-3,
        weightDecay: 0,
        threads: 1,
      });
      tables.init(2, createRng(1), createRng(2));
      const e0 = store.get(GRAPH_TABLE)!.data;
      const got = tables.propagated();
      const want = denseMean(split.nUsers, edges, n, Float64Array.from(e0), layers);
      for (let k = 0; k < want.length; k++) {
        assert.ok(
          Math.abs(got[k] - want[k]) < 1e-5 * (1 + Math.abs(want[k])),
          `d ${d} L ${layers}`,
        );
      }
    }
  }
});

Deno.test("the gradient of E0 through the layer mean and alpha * P[node] matches finite differences", async () => {
  // 3 users, 4 items: u1 {1, 2}, u2 {2, 3}, u3 {4, 1}; nodes 0..7.
  const edges: [number, number][] = [[1, 1], [1, 2], [2, 2], [2, 3], [3, 4], [3, 1]];
  const train = {
    offsets: Uint32Array.of(0, 2, 4, 6),
    values: Int32Array.of(1, 2, 2, 3, 4, 1),
  };
  const a = normalizedAdjacency(3, 4, train);
  const n = 8, d = 4, layers = 3, alpha = 2.5, b = 2, t = 5;
  // Tokens: user_1 (3 sub-tokens, node 1), item_2 (node 5) ... and node 0 (template words).
  const nodes = Int32Array.of(1, 1, 1, 0, 5, 2, 6, 6, 0, 7);
  const rng = createRng(3);
  const tok = Float64Array.from({ length: b * t * d }, () => rng.normal());
  const w1 = Float64Array.from({ length: b * t * d }, () => rng.normal());
  const w2 = Float64Array.from({ length: b * t * d }, () => rng.normal());
  // loss = sum(w1 * x + w2 * x^3), x = tok + extra (the encoder's input sum), in float64.
  const g = new Graph();
  const extra = g.input("extra_embeds", "float64", [b, t, d]);
  const x = g.add(g.constant(tok, "float64", [b, t, d]), extra);
  const loss = g.reduceSum(
    g.add(
      g.mul(x, g.constant(w1, "float64", [b, t, d])),
      g.mul(g.mul(g.mul(x, x), x), g.constant(w2, "float64", [b, t, d])),
    ),
    undefined,
    false,
  );
  const [dExtra] = gradients(loss, [extra]);
  const session = await loadSession(exportOnnx({ loss, dExtra }));
  const run = async (e0: Float64Array) => {
    const p = denseMean(3, edges, n, e0, layers);
    const ex = new Float64Array(b * t * d);
    nodes.forEach((node, k) => {
      for (let j = 0; j < d; j++) ex[k * d + j] = alpha * p[node * d + j];
    });
    return await session.run({ extra_embeds: { data: ex, shape: [b, t, d] } });
  };
  const e0 = Float64Array.from({ length: n * d }, (_, k) => (k % 5 === 2 ? 0 : rng.normal()));
  const out = await run(e0);
  // Analytic: the plugin's backward (float32 sparse kernel).
  const grad = graphGradient(
    a,
    layers,
    nodes,
    Float32Array.from(out.dExtra.data as Float64Array),
    alpha,
    d,
  );
  const h = 1e-5;
  let diff2 = 0, num2 = 0, ana2 = 0;
  for (let k = 0; k < e0.length; k++) {
    const plus = e0.slice(), minus = e0.slice();
    plus[k] += h;
    minus[k] -= h;
    const num = (Number((await run(plus)).loss.data[0]) - Number((await run(minus)).loss.data[0])) /
      (2 * h);
    diff2 += (num - grad[k]) ** 2;
    num2 += num * num;
    ana2 += grad[k] ** 2;
  }
  const rel = Math.sqrt(diff2) / (Math.sqrt(num2) + Math.sqrt(ana2));
  assert.ok(rel < 1e-5, `relative error ${rel}`);
  assert.ok(Math.sqrt(ana2) > 0);
});

const tokenizer = builtinTokenizer(templateWords());
const tokens = (ids: BigInt64Array, from: number, to: number) =>
  [...ids.slice(from, to)].map((i) => tokenizer.token(Number(i)));

Deno.test("whole-word indices: graph nodes and incremental indices, token by token", () => {
  const encoder = new PromptEncoder(tokenizer, 3, 12345, {
    wholeWord: "none",
    templates: ID_TEMPLATES,
  });
  const start = new Set([encoder.word("user_1")[0], encoder.word("item_1")[0]]);
  const seq: Sample = {
    task: "sequential",
    user: 2,
    items: Int32Array.of(12345, 7, 12345),
    target: 0,
    template: 0,
  };
  const batch = encoder.encode([seq], 1, 20, 4);
  // History items follow one another as in the releases (`' item_'.join`).
  assert.deepEqual(tokens(batch.inputIds, 0, 20), [
    ...["user", "_", "3", "item", "_", "123", "45", "item", "_", "7"],
    ...["item", "_", "123", "45", "</s>", "<pad>", "<pad>", "<pad>", "<pad>", "<pad>"],
  ]);
  const u = 3, i12345 = 3 + 12345, i7 = 3 + 7;
  assert.deepEqual([...batch.nodes], [
    ...[u, u, u, i12345, i12345, i12345, i12345, i7, i7, i7],
    ...[i12345, i12345, i12345, i12345, 0, 0, 0, 0, 0, 0],
  ]);
  // The id changes at "item" without a separator: the start tokens tell words apart.
  assert.deepEqual(
    [...incrementalIndices(batch, start)],
    [1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4, 4, 0, 0, 0, 0, 0, 0],
  );
  // Direct prompts list candidates without separators; a repeated id still starts a new word.
  const direct: Sample = {
    task: "direct",
    user: 0,
    items: Int32Array.of(45, 45, 1000),
    target: 0,
    template: 0,
  };
  const db = encoder.encode([direct], 1, 14, 4);
  assert.deepEqual(tokens(db.inputIds, 0, 14), [
    "user",
    "_",
    "1",
    "item",
    "_",
    "45",
    "item",
    "_",
    "45",
    "item",
    "_",
    "100",
    "0",
    "</s>",
  ]);
  assert.deepEqual([...db.nodes], [1, 1, 1, 48, 48, 48, 48, 48, 48, 1003, 1003, 1003, 1003, 0]);
  assert.deepEqual([...incrementalIndices(db, start)], [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 4, 0]);
});

Deno.test("incremental indices derived from tokens equal POD's PromptEncoder indices", async () => {
  const split = await tinySplit();
  const pod = new PromptEncoder(tokenizer, split.nUsers, split.nItems, {
    wholeWord: "incremental",
    templates: ID_TEMPLATES,
  });
  const start = new Set([pod.word("user_1")[0], pod.word("item_1")[0]]);
  const rng = createRng(5);
  for (const task of ["direct", "sequential"] as Task[]) {
    const samples: Sample[] = Array.from({ length: 6 }, (_, k) => ({
      task,
      user: k,
      items: Int32Array.from({ length: 3 + rng.int(18) }, () => 1 + rng.int(split.nItems)),
      target: 0,
      template: 0,
    }));
    const batch = pod.encode(samples, 8, pod.encoderLength(task), 4);
    const want = [...batch.wholeWordIds].map(Number);
    assert.deepEqual([...incrementalIndices(batch, start, 511)], want);
  }
});

Deno.test("ELMRec's feeds are alpha * P[node] (graph) and alpha * W[index] (incremental)", async () => {
  const split = await tinySplit(20, 150);
  const a = elmrecGraph(split, "train", createRng(0));
  const store = new ParamStore();
  const encoder = new PromptEncoder(tokenizer, split.nUsers, split.nItems, {
    wholeWord: "incremental",
    templates: ID_TEMPLATES,
  });
  const tables = new ElmrecTables(store, {
    graph: a,
    layers: 2,
    dModel: 4,
    wholeWordRows: 32,
    scheme: { direct: "graph", sequential: "incremental" },
    alpha: { direct: 3, sequential: 0.5 },
    startTokens: new Set([encoder.word("user_1")[0], encoder.word("item_1")[0]]),
    lr: 1e-3,
    weightDecay: 0,
    threads: 1,
  });
  tables.init(2, createRng(1), createRng(2));
  const sample = (task: Task): Sample => ({
    task,
    user: 3,
    items: Int32Array.of(4, 9, 4),
    target: 0,
    template: 0,
  });
  const p = tables.propagated();
  const direct = encoder.encode([sample("direct")], 2, 16, 4);
  const ex = tables.extra("direct", direct);
  direct.nodes.forEach((node, k) => {
    for (let j = 0; j < 4; j++) assert.equal(ex[k * 4 + j], Math.fround(3 * p[node * 4 + j]));
  });
  const seq = encoder.encode([sample("sequential")], 2, 16, 4);
  const w = store.get("whole_word_embeddings.weight")!.data;
  const es = tables.extra("sequential", seq);
  seq.wholeWordIds.forEach((index, k) => {
    for (let j = 0; j < 4; j++) {
      assert.equal(es[k * 4 + j], Math.fround(0.5 * w[Number(index) * 4 + j]));
    }
  });
});

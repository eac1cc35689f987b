import assert from "node:assert/strict";
import { historyAt } from "../harness/evaluate.ts";
import type { FitContext, PluginConfig, Scorer } from "../harness/plugin.ts";
import { silentProgress } from "../harness/progress.ts";
import { resolveConfig } from "../harness/registry.ts";
import { createRng } from "../harness/rng.ts";
import { buildSplitRaw } from "../harness/split.ts";
import { generateSynthetic } from "../harness/synthetic.ts";
import { row, type Split, type Task } from "../harness/types.ts";
import { normalizedAdjacency } from "../kernels/adjacency.ts";
import { gradients } from "../kernels/autodiff.ts";
import { Graph } from "../kernels/graph.ts";
import { exportOnnx } from "../kernels/onnx_export.ts";
import { ParamStore } from "../kernels/param_store.ts";
import { loadSession } from "../kernels/runtime.ts";
import { pod } from "../baselines/pod.ts";
import { PromptEncoder } from "./batch.ts";
import { elmrec, rerank, resolveDatasetDefaults } from "./elmrec.ts";
import {
  elmrecGraph,
  ElmrecTables,
  GRAPH_TABLE,
  graphGradient,
  incrementalIndices,
} from "./elmrec_embeddings.ts";
import { ID_TEMPLATES, type Sample, templateWords } from "./prompts.ts";
import { fitSeq2Seq } from "./recommender.ts";
import { builtinTokenizer } from "./tokenizer.ts";

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

async function tinySplit(users = 40, items = 150): Promise<Split> {
  const data = await generateSynthetic({ users, items });
  return { ...buildSplitRaw(data, { seed: 0 }), hash: "test" };
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
  assert.deepEqual(tokens(batch.inputIds, 0, 20), [
    "user",
    "_",
    "3",
    "item",
    "_",
    "123",
    "45",
    ",",
    "item",
    "_",
    "7",
    ",",
    "item",
    "_",
    "123",
    "45",
    "</s>",
    "<pad>",
    "<pad>",
    "<pad>",
  ]); // deno-fmt-ignore
  const u = 3, i12345 = 3 + 12345, i7 = 3 + 7;
  assert.deepEqual([...batch.nodes], [
    u,
    u,
    u,
    i12345,
    i12345,
    i12345,
    i12345,
    0,
    i7,
    i7,
    i7,
    0,
    i12345,
    i12345,
    i12345,
    i12345,
    0,
    0,
    0,
    0,
  ]); // deno-fmt-ignore
  assert.deepEqual([...incrementalIndices(batch, start)], [
    1, 1, 1,
    2, 2, 2, 2,
    0,
    3, 3, 3,
    0,
    4, 4, 4, 4,
    0, 0, 0, 0,
  ]); // deno-fmt-ignore
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
  ]); // deno-fmt-ignore
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

Deno.test("rerank() never returns a history item and returns K items", () => {
  const rng = createRng(7);
  for (let trial = 0; trial < 200; trial++) {
    const nItems = 30 + rng.int(50);
    const history = Int32Array.from({ length: 1 + rng.int(20) }, () => 1 + rng.int(nItems));
    const list = Int32Array.from({ length: rng.int(25) }, () => 1 + rng.int(nItems));
    const out = rerank(list, history, 10, () => 1 + rng.int(nItems));
    assert.equal(out.length, 10);
    assert.equal(new Set(out).size, 10);
    for (const item of out) assert.ok(!history.includes(item), `history item ${item}`);
    // Order of the surviving generated items is kept.
    const kept = [...new Set(list)].filter((i) => !history.includes(i)).slice(0, 10);
    assert.deepEqual([...out.slice(0, kept.length)], kept);
  }
});

Deno.test("the leaky graph holds test edges and about 80% of all interactions; train holds none", async () => {
  const split = await tinySplit(200, 150);
  const edgeSet = (m: ReturnType<typeof elmrecGraph>) => {
    const s = new Set<string>();
    for (let u = 1; u <= split.nUsers; u++) {
      for (let k = m.offsets[u]; k < m.offsets[u + 1]; k++) {
        s.add(`${u}:${m.columns[k] - split.nUsers}`);
      }
    }
    return s;
  };
  const train = edgeSet(elmrecGraph(split, "train", createRng(0)));
  const leaky = edgeSet(elmrecGraph(split, "leaky", createRng(0), 0.8));
  let testInTrain = 0, testInLeaky = 0, all = 0;
  for (let u = 0; u < split.nUsers; u++) {
    const key = `${u + 1}:${split.test[u]}`;
    if (train.has(key) && !row(split.train, u).includes(split.test[u])) testInTrain++;
    if (leaky.has(key)) testInLeaky++;
    all += new Set(row(split.dataset.sequences, u)).size;
  }
  assert.equal(testInTrain, 0);
  assert.ok(testInLeaky > 0.6 * split.nUsers, `${testInLeaky} test edges`);
  assert.ok(Math.abs(leaky.size / all - 0.8) < 0.05, `${leaky.size} of ${all}`);
});

Deno.test("dataset defaults: beauty's values, -1 resolves, explicit keys win, bad values are errors", () => {
  const config = { ...elmrec.defaults };
  assert.deepEqual(resolveDatasetDefaults(config, "beauty"), {
    sigma: 6,
    layers: 4,
    alphaDirect: 9,
    alphaSeq: 6,
    rerankN: 15,
  });
  assert.equal(resolveDatasetDefaults({ ...config, layers: 2 }, "toys").layers, 2);
  assert.equal(resolveDatasetDefaults(config, "synthetic").sigma, 1);
  assert.throws(() => resolveDatasetDefaults({ ...config, layers: 1.5 }, "toys"), RangeError);
});

// Losses of whole fits with a shared FitContext (the runner forks rngs by plugin name).
async function trainLog(
  fit: (ctx: FitContext, c: never) => Promise<Scorer>,
  config: PluginConfig,
  split: Split,
) {
  const ctx: FitContext = {
    split,
    task: "direct",
    seed: 0,
    rng: createRng(0).fork("shared"),
    device: "cpu",
    threads: 2,
    progress: silentProgress,
    history: (u, stage) => historyAt(split, u, stage),
    validate: () => Promise.resolve({}),
  };
  const scorer = await fit(ctx, config as never);
  return (scorer.info!.train_log as { train: Record<string, number>; valid: number }[]);
}

const overrides = [["epochs", "2"], ["trainUsers", "16"], ["validUsers", "8"], ["patience", "5"]]
  .map(([key, raw]) => ({ key, raw }));

Deno.test("ELMRec with the incremental scheme on both tasks and alpha 1 reproduces POD's losses", async () => {
  const split = await tinySplit();
  const podLog = await trainLog(pod.fit, resolveConfig(pod, "tiny", overrides), split);
  const elmLog = await trainLog(
    elmrec.fit,
    resolveConfig(elmrec, "tiny", [
      ...overrides,
      ...[["directWholeWord", "incremental"], ["alphaDirect", "1"], ["alphaSeq", "1"]]
        .map(([key, raw]) => ({ key, raw })),
    ]),
    split,
  );
  podLog.forEach((e, k) => {
    for (const task of ["direct", "sequential"]) {
      assert.ok(Math.abs(e.train[task] - elmLog[k].train[task]) < 1e-4, `${task} ${k}`);
    }
    assert.ok(
      Math.abs(e.valid - elmLog[k].valid) < 1e-4,
      `valid ${k}: ${e.valid} ${elmLog[k].valid}`,
    );
  });
});

Deno.test("with sigma = 0 and alpha = 0 ELMRec's losses equal POD's backbone without whole-word vectors", async () => {
  const split = await tinySplit();
  const config = resolveConfig(elmrec, "tiny", [
    ...overrides,
    ...[["sigma", "0"], ["alphaDirect", "0"], ["alphaSeq", "0"]].map(([key, raw]) => ({
      key,
      raw,
    })),
  ]);
  const elmLog = await trainLog(elmrec.fit, config, split);
  const bare = await trainLog(
    (ctx, c) =>
      fitSeq2Seq(ctx, c as never, {
        name: "pod",
        wholeWord: "none",
        templates: "ids",
        promptLength: 3,
      }),
    resolveConfig(pod, "tiny", overrides),
    split,
  );
  bare.forEach((e, k) => {
    for (const task of ["direct", "sequential"]) {
      assert.ok(Math.abs(e.train[task] - elmLog[k].train[task]) < 1e-6, `${task} ${k}`);
    }
    assert.ok(Math.abs(e.valid - elmLog[k].valid) < 1e-6);
  });
});

Deno.test("embed-plot draws every user and item once per panel (after 1 and after L rounds)", async () => {
  const { embedPlotCommand } = await import("./elmrec_embed_plot.ts");
  const { countMarks } = await import("../harness/figures.ts");
  const dir = await Deno.makeTempDir();
  const log = console.log;
  console.log = () => {};
  try {
    const paths = await embedPlotCommand([
      ...["--data", "synthetic", "--synthetic", "users=40,items=150", "--layers", "3"],
      ...["--dim", "8", "--out", dir],
    ]);
    const svg = await Deno.readTextFile(paths!.svg);
    assert.equal(countMarks(svg, "symbol"), 2 * (40 + 150));
    assert.ok((await Deno.stat(paths!.png)).size > 1000);
    const spec = JSON.parse(await Deno.readTextFile(paths!.spec));
    const panels = new Set(spec.data.values.map((p: { panel: string }) => p.panel));
    assert.deepEqual([...panels], ["after 1 round", "after 3 rounds"]);
  } finally {
    console.log = log;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("backward() updates E0 by AdamW and the next forward propagates the new table", async () => {
  const split = await tinySplit(20, 150);
  const a = elmrecGraph(split, "train", createRng(0));
  const store = new ParamStore();
  const tables = new ElmrecTables(store, {
    graph: a,
    layers: 2,
    dModel: 4,
    wholeWordRows: 8,
    scheme: { direct: "graph", sequential: "incremental" },
    alpha: { direct: 2, sequential: 1 },
    startTokens: new Set(),
    lr: 0.1,
    weightDecay: 0,
    threads: 1,
  });
  tables.init(1, createRng(1), createRng(2));
  const before = store.get(GRAPH_TABLE)!.data.slice();
  const w = store.get("whole_word_embeddings.weight")!.data.slice();
  const batch = { rows: 1, inputIds: new BigInt64Array(3), nodes: Int32Array.of(1, 21, 0) };
  const p0 = tables.propagated().slice();
  await tables.backward("direct", batch, new Float32Array(3 * 4).fill(1));
  const after = store.get(GRAPH_TABLE)!.data;
  // Adam's first step moves every entry with a non-zero gradient by lr (sign of the gradient).
  const moved = after.filter((v, k) => Math.abs(before[k] - v - 0.1) < 1e-4).length;
  const reached = graphGradient(a, 2, batch.nodes, new Float32Array(12).fill(1), 2, 4)
    .filter((g) => g !== 0).length;
  assert.equal(moved, reached);
  assert.ok(reached > 12);
  assert.notDeepEqual(tables.propagated(), p0);
  // The incremental table is untouched by a direct batch.
  assert.deepEqual(store.get("whole_word_embeddings.weight")!.data, w);
  assert.deepEqual(tables.updateCounts, { [GRAPH_TABLE]: 1 });
});

Deno.test("ELMRec's sequential lists hold K items and never a history item (reranking end to end)", async () => {
  const split = await tinySplit();
  const ctx: FitContext = {
    split,
    task: "sequential",
    seed: 0,
    rng: createRng(0).fork("rerank"),
    device: "cpu",
    threads: 2,
    progress: silentProgress,
    history: (u, stage) => historyAt(split, u, stage),
    validate: () => Promise.resolve({}),
  };
  const config = resolveConfig(elmrec, "tiny", [
    ...overrides,
    ...[["epochs", "1"], ["trainTasks", "task"], ["seqBeams", "12"]].map(([key, raw]) => ({
      key,
      raw,
    })),
  ]);
  const scorer = await elmrec.fit(ctx, config as typeof elmrec.defaults);
  const userRows = Int32Array.from({ length: 32 }, (_, u) => u);
  const lists = await scorer.recommend!({ stage: "test", userRows, k: 10 });
  lists.forEach((list, i) => {
    assert.equal(list.length, 10);
    const history = historyAt(split, userRows[i], "test");
    for (const item of list) assert.ok(!history.includes(item), `user ${i}: history item ${item}`);
  });
  assert.equal(scorer.info!.rerankN, 10);
  assert.equal(scorer.info!.rerank, true);
});

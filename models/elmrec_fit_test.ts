/**
 * ELMRec fitted end to end on a tiny split: reranking, the leaky graph,
 * dataset defaults, equivalences with POD, the embedding plot, and the
 * update of E0.
 */
import assert from "node:assert/strict";
import { historyAt } from "../harness/evaluate.ts";
import type { FitContext, PluginConfig, Scorer } from "../harness/plugin.ts";
import { resolveConfig } from "../harness/registry.ts";
import { createRng, row } from "../kernels/mod.ts";
import type { Split, Task } from "../harness/types.ts";
import { ParamStore } from "../kernels/param_store.ts";
import { pod, POD_SPEC } from "../baselines/pod.ts";
import { elmrec, rerank, resolveDatasetDefaults } from "./elmrec.ts";
import { elmrecGraph, ElmrecTables, GRAPH_TABLE, graphGradient } from "./elmrec_embeddings.ts";
import { fitSeq2Seq } from "./recommender.ts";

import { testContext, tinySplit } from "./test_split.ts";
import { generateSynthetic } from "../harness/synthetic.ts";
import { tinyCell } from "../tests/_helpers.ts";

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
  const ctx = testContext(split, "direct", createRng(0).fork("shared"));
  const scorer = await fit(ctx, config as never);
  return (scorer.info!.train_log as { train: Record<string, number>; valid: number }[]);
}

const overrides = [["epochs", "2"], ["trainUsers", "16"], ["validUsers", "8"], ["patience", "5"]]
  .map(([key, raw]) => ({ key, raw }));

Deno.test("ELMRec with the incremental scheme on both tasks and alpha 1 reproduces POD's losses", async () => {
  const split = await tinySplit();
  // POD's input with ELMRec's start of the prompt vectors (the releases
  // differ there: POD draws them in [-0.1, 0.1], ELMRec from N(0, 1)).
  const podFit = (ctx: FitContext, config: never) =>
    fitSeq2Seq(ctx, config, { ...POD_SPEC, promptInit: "normal" });
  const podLog = await trainLog(podFit, resolveConfig(pod, "tiny", overrides), split);
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
  const ctx = testContext(split, "sequential", createRng(0).fork("rerank"));
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
  // The backbone's counts reach ELMRec's info: K + N = 20 slots per user before reranking.
  const slots = (scorer.info!.list_slots as Record<string, { generated: number; padded: number }>)
    .test;
  assert.equal(slots.generated + slots.padded, 32 * 20);
});

Deno.test("alphaPer=run trains a model per task at its own alpha when the alphas differ, one when they agree", async () => {
  const data = await generateSynthetic({ users: 24, items: 150 });
  const dir = await Deno.makeTempDir();
  const cell = async (task: Task, sets: Record<string, string>) => {
    const settings = { epochs: "1", validUsers: "8", samplesPerUser: "1", checkpointDir: dir };
    const record = await tinyCell(data, task, elmrec, { ...settings, ...sets }, 4);
    const [epoch] = record.info.train_log as { train: Record<string, number>; valid: number }[];
    return { alpha: record.info.alpha_in_training, train: epoch.train, valid: epoch.valid };
  };
  const runs = async () => (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
  const apart = { alphaDirect: "3", alphaSeq: "1" };
  const direct = await cell("direct", apart), sequential = await cell("sequential", apart);
  assert.deepEqual(direct.alpha, { direct: 3, sequential: 3 });
  assert.deepEqual(sequential.alpha, { direct: 1, sequential: 1 });
  assert.notEqual(direct.valid, sequential.valid);
  assert.equal((await runs()).length, 2, "one checkpoint per alpha");
  // One model for both cells: equal alphas, or one model with each batch's own alpha.
  await Deno.remove(dir, { recursive: true });
  await Deno.mkdir(dir);
  const same = { alphaDirect: "2", alphaSeq: "2" };
  assert.deepEqual(await cell("sequential", same), {
    ...await cell("direct", same),
    alpha: { direct: 2, sequential: 2 },
  });
  const batch = { ...apart, alphaPer: "batch" };
  const [d, s] = [await cell("direct", batch), await cell("sequential", batch)];
  assert.deepEqual(d, s);
  assert.deepEqual(d.alpha, { direct: 3, sequential: 1 });
  assert.equal((await runs()).length, 2, "alpha 2 (run) and the batch model");
  await Deno.remove(dir, { recursive: true });
});

/**
 * The training epochs that `epoch_bench.ts` times: each ID baseline's step
 * built as its plugin builds it (same init, same batches, same per-batch
 * preparation), on one of three update paths:
 *
 * - `old`: Adam in ONNX Runtime, as before issue 21 (BPR-MF's one-session
 *   step; LightGCN's and SimpleX's update session over arrays outside the
 *   kernels' heap, LightGCN's mean copied in and out and computed whole);
 * - `dense`: Adam over whole tables in the engine's kernels (the default);
 * - `sparse`: Adam over the rows a batch touched (`adamRows=sparse`;
 *   LightGCN's gradient reaches every row, so it has no such path).
 *
 * Run as a script, it times `--epochs` epochs of one (model, threads, path)
 * and prints one JSON line: epoch seconds (wall and CPU) and the process's
 * peak RSS (VmHWM), so that each path's memory is its own.
 *
 * @module
 */
import process from "node:process";
import { loadData } from "../harness/data_source.ts";
import { PairwiseSampler } from "../harness/sampling.ts";
import { loadSplit } from "../harness/split.ts";
import type { Split } from "../harness/types.ts";
import { createRng, createSparseEngine, Graph, normal, ParamStore, row } from "../kernels/mod.ts";
import { normalizedAdjacency } from "../models/interaction_graph.ts";
import { createBprMfTrainer, ITEMS as BPR_ITEMS, USERS as BPR_USERS } from "./bprmf.ts";
import { createLightGcnTrainer, EMBEDDING } from "./lightgcn.ts";
import { createSimplexTrainer, fillHistory, userTower } from "./simplex_tower.ts";

/** The models and paths the benchmark knows. */
export const MODELS = ["bprmf", "lightgcn", "simplex"] as const;
export const PATHS = ["old", "dense", "sparse"] as const;
export type Model = typeof MODELS[number];
export type Path = typeof PATHS[number];

/** Whether `model` has `path` (LightGCN has no sparse one). */
export const hasPath = (model: Model, path: Path): boolean =>
  !(model === "lightgcn" && path === "sparse");

/** One step on a batch: users, positives, negatives, weights. */
type Step = (users: Int32Array, pos: Int32Array, neg: Int32Array, w: Float32Array) => Promise<
  number
>;

/** The `cpu` preset's settings (RecBole's), as the plugins' defaults give them. */
const D = 64, B = 2048, LR = 1e-3;

async function bprmfStep(split: Split, threads: number, path: Path): Promise<Step> {
  const g = new Graph();
  const std = (n: number) => Math.sqrt(2 / (n + 1 + D));
  g.param(BPR_USERS, [split.nUsers, D], { init: normal({ std: std(split.nUsers) }) });
  g.param(BPR_ITEMS, [split.nItems + 1, D], { init: normal({ std: std(split.nItems) }) });
  const store = new ParamStore();
  store.init(g, createRng(0).fork("init"));
  const engine = await createSparseEngine({ threads });
  return createBprMfTrainer(store, {
    nUsers: split.nUsers,
    nItems: split.nItems,
    dim: D,
    lr: LR,
    batchSize: B,
    reg: 0,
    regPow: false,
    threads,
    update: path === "old" ? "onnx" : path,
    engine,
  });
}

async function lightgcnStep(split: Split, threads: number, path: Path): Promise<Step> {
  const a = normalizedAdjacency(split.nUsers, split.nItems, split.train);
  const store = new ParamStore();
  const rng = createRng(0);
  const e0 = Float32Array.from({ length: a.nRows * D }, () => (2 * rng.next() - 1) * 0.02);
  store.set(EMBEDDING, e0, [a.nRows, D]);
  const engine = threads > 1 ? await createSparseEngine({ threads }) : undefined;
  const trainer = await createLightGcnTrainer(a, store, {
    dim: D,
    layers: 3,
    lr: LR,
    batchSize: B,
    reg: 1e-4,
    regPow: false,
    threads,
    engine,
    update: path === "old" ? "onnx" : "dense",
  });
  const nodes = { users: new Int32Array(B), pos: new Int32Array(B), neg: new Int32Array(B) };
  return (users, pos, neg, w) => {
    for (let k = 0; k < B; k++) {
      nodes.users[k] = users[k] + 1;
      nodes.pos[k] = split.nUsers + pos[k];
      nodes.neg[k] = split.nUsers + neg[k];
    }
    return trainer.step(nodes.users, nodes.pos, nodes.neg, w);
  };
}

async function simplexStep(split: Split, threads: number, path: Path): Promise<Step> {
  const h = 50;
  const sizes = { nUsers: split.nUsers, nItems: split.nItems, dim: D, gamma: 0.5 };
  const g = new Graph();
  userTower({
    users: g.input("users", "int32", [1]),
    history: g.input("history", "int32", [1, 1]),
    mask: g.input("mask", "float32", [1, 1]),
  }, sizes);
  const store = new ParamStore();
  store.init(g, createRng(0).fork("init"));
  const engine = await createSparseEngine({ threads });
  const step = await createSimplexTrainer(store, {
    ...sizes,
    dropout: 0.1,
    batchSize: B,
    negatives: 1,
    historyLen: h,
    lr: LR,
    margin: 0.5,
    negativeWeight: 10,
    reg: 1e-5,
    regPow: false,
    threads,
    rng: createRng(0).fork("dropout"),
    update: path === "old" ? "onnx" : path,
    engine,
  });
  const userHistory = new Int32Array(split.nUsers * h),
    userMask = new Float32Array(split.nUsers * h);
  fillHistory((u) => row(split.train, u), split.nUsers, h, userHistory, userMask);
  const history = new Int32Array(B * h), mask = new Float32Array(B * h);
  return (users, pos, neg, w) => {
    for (let i = 0; i < B; i++) {
      const u = users[i];
      history.set(userHistory.subarray(u * h, (u + 1) * h), i * h);
      mask.set(userMask.subarray(u * h, (u + 1) * h), i * h);
    }
    return step({ users, pos, neg, history, mask }, w);
  };
}

const STEPS = { bprmf: bprmfStep, lightgcn: lightgcnStep, simplex: simplexStep };

/** Seconds of CPU this process has used (user + system, every thread). */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Peak resident set size of this process, MiB (VmHWM). */
function peakRssMiB(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

/** What one timed run reports. */
export interface EpochTimes {
  readonly model: Model;
  readonly threads: number;
  readonly path: Path;
  /** Wall and CPU seconds of each epoch, the first (warm-up) included. */
  readonly wall: number[];
  readonly cpu: number[];
  readonly peakRssMiB: number;
  readonly losses: number[];
}

/** Trains `epochs` epochs of `model` on `dataDir`'s split (seed 0) and times each. */
export async function timeEpochs(
  dataDir: string,
  model: Model,
  threads: number,
  path: Path,
  epochs: number,
): Promise<EpochTimes> {
  const split = await loadSplit(await loadData(dataDir), { seed: 0 });
  const step = await STEPS[model](split, threads, path);
  const sampler = new PairwiseSampler(split, { batchSize: B });
  const rng = createRng(0).fork("pairwise-sampler");
  const weights = new Float32Array(B);
  const out: EpochTimes = { model, threads, path, wall: [], cpu: [], peakRssMiB: 0, losses: [] };
  for (let e = 0; e < epochs; e++) {
    const t0 = performance.now(), c0 = cpuSeconds();
    let total = 0, count = 0;
    for (const batch of sampler.epoch(rng)) {
      weights.fill(1, 0, batch.size).fill(0, batch.size);
      total += (await step(batch.users, batch.positives, batch.negatives, weights)) * batch.size;
      count += batch.size;
    }
    out.wall.push((performance.now() - t0) / 1000);
    out.cpu.push(cpuSeconds() - c0);
    out.losses.push(total / count);
  }
  return { ...out, peakRssMiB: Math.round(peakRssMiB()) };
}

if (import.meta.main) {
  const [dataDir, model, threads, path, epochs] = Deno.args;
  const result = await timeEpochs(dataDir, model as Model, Number(threads), path as Path, +epochs);
  console.log(JSON.stringify(result));
  Deno.exit(0); // the engines' workers would keep the process alive
}

/**
 * Engine benchmarks: a T5-small-sized encoder block train step, the ORT
 * MatMul ceiling it is judged against, and the fixed cost of one step call.
 *
 * @module
 */

import { createRng } from "./rng.ts";
import { Graph } from "./graph.ts";
import { normal } from "./init.ts";
import { t5Block } from "./nn.ts";
import { exportOnnx } from "./onnx_export.ts";
import { adamw } from "./optim.ts";
import { ParamStore } from "./param_store.ts";
import { loadSession, type RuntimeOptions } from "./runtime.ts";
import { compileTrainStep } from "./step.ts";

/** A timing: median milliseconds per call and the rate it implies. */
export interface BenchResult {
  readonly medianMs: number;
  /** The fastest call: less sensitive than the median to other load on the machine. */
  readonly minMs: number;
  /** From the median. */
  readonly gflops: number;
  readonly flops: number;
  readonly iters: number;
}

/** Options of {@linkcode benchBlockStep}. */
export interface BlockBenchOptions extends RuntimeOptions {
  /** @default 64 */
  batch?: number;
  /** @default 32 */
  tokens?: number;
  /** @default 512 */
  dModel?: number;
  /** @default 8 */
  heads?: number;
  /** @default 2048 */
  dFf?: number;
  /** Untimed calls first (the first calls grow ORT's memory arena). @default 3 */
  warmup?: number;
  /** Timed calls. @default 7 */
  iters?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Median and fastest milliseconds of `iters` awaited calls after `warmup`
 * untimed ones.
 *
 * @example
 * ```ts
 * import { timeCalls } from "./bench_block.ts";
 * const { medianMs } = await timeCalls(1, 3, () => Promise.resolve());
 * ```
 */
export async function timeCalls(
  warmup: number,
  iters: number,
  call: () => Promise<unknown>,
): Promise<{ medianMs: number; minMs: number }> {
  for (let i = 0; i < warmup; i++) await call();
  const ms: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await call();
    ms.push(performance.now() - t0);
  }
  return { medianMs: median(ms), minMs: Math.min(...ms) };
}

/**
 * Times one train step (forward, backward, AdamW) of a T5 encoder block with
 * loss `mean(out^2)`. FLOPs count the matrix products only:
 * `6 B T (4 D^2 + 2 D F) + 3 * 2 * 2 B H T^2 (D / H)`.
 *
 * @example
 * ```ts
 * import { benchBlockStep } from "./bench_block.ts";
 * const r = await benchBlockStep({ batch: 2, tokens: 4, dModel: 16, heads: 2, dFf: 32, iters: 1 });
 * console.log(r.medianMs, r.gflops);
 * ```
 */
export async function benchBlockStep(options: BlockBenchOptions = {}): Promise<BenchResult> {
  const { batch: b = 64, tokens: t = 32, dModel: d = 512, heads: h = 8, dFf: f = 2048 } = options;
  const { warmup = 3, iters = 7 } = options;
  const g = new Graph();
  const x = g.input("x", "float32", [b, t, d]);
  const out = t5Block(x, "encoder.block.0", { heads: h, dFf: f, init: normal({ std: 0.02 }) });
  const loss = g.reduceMean(g.mul(out, out), undefined, false);
  const store = new ParamStore();
  store.init(g, createRng(0));
  const step = await compileTrainStep(loss, store, { ...options, optimizer: adamw({ lr: 1e-4 }) });
  const rng = createRng(1);
  const feeds = { x: Float32Array.from({ length: b * t * d }, () => rng.normal()) };
  const { medianMs, minMs } = await timeCalls(warmup, iters, () => step.run(feeds));
  const flops = 6 * b * t * (4 * d * d + 2 * d * f) + 3 * 2 * 2 * b * h * t * t * (d / h);
  return { medianMs, minMs, flops, gflops: flops / medianMs / 1e6, iters };
}

/** Options of {@linkcode benchMatMul}. */
export interface MatMulBenchOptions extends RuntimeOptions {
  /** Square size. @default 2048 */
  n?: number;
  /** @default 5 */
  iters?: number;
}

/**
 * Float32 `n x n` MatMul throughput in ORT: the ceiling for the block step.
 *
 * @example
 * ```ts
 * import { benchMatMul } from "./bench_block.ts";
 * const r = await benchMatMul({ n: 64, iters: 1 });
 * ```
 */
export async function benchMatMul(options: MatMulBenchOptions = {}): Promise<BenchResult> {
  const { n = 2048, iters = 5 } = options;
  const g = new Graph();
  const a = g.input("a", "float32", [n, n]), c = g.input("c", "float32", [n, n]);
  const session = await loadSession(exportOnnx({ y: g.matMul(a, c) }), options);
  const rng = createRng(2);
  const data = () => ({
    data: Float32Array.from({ length: n * n }, () => rng.normal()),
    shape: [n, n],
  });
  const feeds = { a: data(), c: data() };
  const { medianMs, minMs } = await timeCalls(1, iters, () => session.run(feeds));
  const flops = 2 * n ** 3;
  return { medianMs, minMs, flops, gflops: flops / medianMs / 1e6, iters };
}

/** Options of {@linkcode benchStepOverhead}. */
export interface OverheadBenchOptions extends RuntimeOptions {
  /** @default 200 */
  iters?: number;
}

/**
 * Microseconds of one call of a one-parameter train step: the fixed cost
 * (feeds, session run, write-back) every step pays.
 *
 * @example
 * ```ts
 * import { benchStepOverhead } from "./bench_block.ts";
 * const us = await benchStepOverhead({ iters: 10 });
 * ```
 */
export async function benchStepOverhead(options: OverheadBenchOptions = {}): Promise<number> {
  const { iters = 200 } = options;
  const g = new Graph();
  const p = g.param("p", [1]);
  const loss = g.reduceSum(g.mul(p, p), undefined, false);
  const store = new ParamStore();
  store.set("p", new Float32Array([1]), [1]);
  const step = await compileTrainStep(loss, store, { ...options, optimizer: adamw({ lr: 1e-3 }) });
  return 1000 * (await timeCalls(10, iters, () => step.run({}))).medianMs;
}

/**
 * The engine benchmark driver (`deno task bench:engine`): sparse propagation
 * on the real Beauty training graph, the ORT MatMul ceiling, one encoder
 * block train step and the per-step overhead, and PyTorch's figures for the
 * same work from the same invocation when PyTorch is installed.
 *
 * ```
 * deno task bench:engine [--json] [--data ../shared/data/beauty] [--threads N]
 *                        [--no-torch] [--torch-script PATH]
 * ```
 *
 * Ratios are ours / torch: below 1 means faster for times (`*_ms`), above 1
 * means faster for rates (`matmul_ratio`, from GFLOP/s). Progress goes to
 * stderr; `--json` prints one JSON object on stdout.
 *
 * @module
 */

import {
  createRng,
  createSparseEngine,
  type CsrMatrix,
  type Ragged,
  spmm,
} from "../kernels/mod.ts";
import { normalizedAdjacency, syntheticTrain } from "./interaction_graph.ts";

/** Parsed command line of the driver. */
export interface EngineBenchArgs {
  json: boolean;
  data: string;
  threads: number;
  torch: boolean;
  torchScript: string;
}

const fromHere = (rel: string) => new URL(rel, import.meta.url).pathname;
const USAGE = "Usage: engine_bench.ts [--json] [--data DIR] [--threads N] [--no-torch] " +
  "[--torch-script PATH]";

/**
 * Parses the driver's flags; unknown flags are an error that lists the valid ones.
 *
 * @example
 * ```ts
 * import { parseEngineBenchArgs } from "./engine_bench.ts";
 * console.log(parseEngineBenchArgs(["--json", "--threads", "1"]).threads); // 1
 * ```
 */
export function parseEngineBenchArgs(args: string[]): EngineBenchArgs {
  const out: EngineBenchArgs = {
    json: false,
    data: fromHere("../../shared/data/beauty"),
    threads: 2,
    torch: true,
    torchScript: fromHere("../../shared/tools/torch_reference.py"),
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new TypeError(`Expected a value after ${flag}. ${USAGE}`);
      return v;
    };
    if (flag === "--json") out.json = true;
    else if (flag === "--no-torch") out.torch = false;
    else if (flag === "--data") out.data = value();
    else if (flag === "--torch-script") out.torchScript = value();
    else if (flag === "--threads") {
      const v = value();
      out.threads = Number(v);
      if (!Number.isInteger(out.threads) || out.threads < 1) {
        throw new RangeError(`Expected --threads to be a positive integer but found "${v}"`);
      }
    } else throw new TypeError(`Unknown flag "${flag}". ${USAGE}`);
  }
  return out;
}

const log = (msg: string) => console.error(`[bench:engine] ${msg}`);
let peakRss = 0;
const sampleRss = () => peakRss = Math.max(peakRss, Deno.memoryUsage().rss);

function medianMs(fn: () => void, repeats: number, warmup = 2): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
    sampleRss();
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

/** The training graph of a P5-layout dataset (items[:-2]), as the torch script builds it. */
async function readTrainGraph(dir: string): Promise<{ a: CsrMatrix; source: string }> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/sequential.txt`);
  } catch (e) {
    log(
      `no ${dir}/sequential.txt (${(e as Error).name}); using a synthetic graph of Beauty's size`,
    );
    const train = syntheticTrain(22_363, 12_101, 153_776, createRng(1));
    return { a: normalizedAdjacency(22_363, 12_101, train), source: "synthetic" };
  }
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const offsets = new Uint32Array(lines.length + 1);
  const values: number[] = [];
  let nItems = 0;
  lines.forEach((line, u) => {
    const items = line.trim().split(/\s+/).slice(1).map(Number);
    for (const i of items) nItems = Math.max(nItems, i);
    values.push(...items.slice(0, -2));
    offsets[u + 1] = values.length;
  });
  const train: Ragged = { offsets, values: Int32Array.from(values) };
  return { a: normalizedAdjacency(lines.length, nItems, train), source: dir };
}

type Result = Record<string, number | string | null>;

async function benchSparse(a: CsrMatrix, threads: number, out: Result): Promise<void> {
  const pool = threads > 1 ? await createSparseEngine({ threads }) : undefined;
  try {
    const rng = createRng(7);
    for (const d of [64, 512]) {
      const x = Float32Array.from({ length: a.nRows * d }, () => rng.normal());
      const y = new Float32Array(a.nRows * d);
      const repeats = d === 64 ? 9 : 5;
      const one = medianMs(() => spmm(a, x, { out: y }), repeats);
      out[`spmm_ms_d${d}_1t`] = round(one);
      let best = one;
      if (pool !== undefined) {
        const many = medianMs(() => pool.spmm(a, x, { out: y }), repeats);
        out[`spmm_ms_d${d}_${threads}t`] = round(many);
        best = Math.min(best, many);
      }
      out[`spmm_ms_d${d}`] = round(best);
      log(
        `spmm d${d}: 1 thread ${round(one)} ms` +
          (pool ? `, ${threads} threads ${out[`spmm_ms_d${d}_${threads}t`]} ms` : ""),
      );
    }
  } finally {
    pool?.close();
  }
}

interface BlockModule {
  benchMatMul?: (o?: object) => Promise<{ gflops: number }>;
  benchBlockStep?: (o?: object) => Promise<{ ms?: number; medianMs?: number; gflops: number }>;
  benchStepOverhead?: (o?: object) => Promise<number | { us: number }>;
}

async function benchBlock(threads: number, out: Result): Promise<void> {
  let mod: BlockModule;
  try {
    mod = await import("../kernels/bench_block.ts") as BlockModule;
    for (const f of ["benchMatMul", "benchBlockStep", "benchStepOverhead"] as const) {
      if (typeof mod[f] !== "function") throw new TypeError(`bench_block.ts has no ${f}()`);
    }
  } catch (e) {
    log(`block step: not available (${(e as Error).message.split("\n")[0]})`);
    return;
  }
  const opts = { intraOpThreads: threads };
  const mm = await mod.benchMatMul!(opts);
  sampleRss();
  out.matmul_gflops = round(mm.gflops);
  log(`ORT MatMul 2048: ${out.matmul_gflops} GFLOP/s`);
  const step = await mod.benchBlockStep!(opts);
  sampleRss();
  out.block_step_ms = round(step.ms ?? step.medianMs ?? NaN);
  out.block_step_gflops = round(step.gflops);
  out.block_step_fraction = round(step.gflops / mm.gflops, 3);
  log(`block step: ${out.block_step_ms} ms, ${out.block_step_gflops} GFLOP/s`);
  const over = await mod.benchStepOverhead!(opts);
  sampleRss();
  out.step_overhead_us = round(typeof over === "number" ? over : over.us);
  log(`step overhead: ${out.step_overhead_us} us`);
}

async function benchTorch(args: EngineBenchArgs, dataOk: boolean, out: Result): Promise<void> {
  const probe = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", "import torch"],
    stdout: "null",
    stderr: "null",
  })
    .output().catch(() => undefined);
  if (probe === undefined || !probe.success) {
    log("torch: not available (/usr/bin/python3 cannot import torch)");
    return;
  }
  log(`torch: running ${args.torchScript} (takes minutes)`);
  const targs = [
    args.torchScript,
    ...(dataOk ? [args.data] : []),
    "--threads",
    String(args.threads),
  ];
  const res = await new Deno.Command("/usr/bin/python3", {
    args: targs,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(res.stdout).trim();
  if (!res.success) {
    log(`torch: script failed (${new TextDecoder().decode(res.stderr).trim().split("\n").pop()})`);
    return;
  }
  const t = JSON.parse(stdout.split("\n").pop()!) as Record<string, number | string>;
  for (const [k, v] of Object.entries(t)) out[k === "torch" ? "torch_version" : `torch_${k}`] = v;
  if (typeof t.matmul_gflops === "number" && t.matmul_gflops < 20) {
    // Debian's torch takes BLAS from the libblas.so.3 alternative: the
    // reference BLAS there makes every torch figure meaningless.
    log(
      `torch: MatMul ran at ${t.matmul_gflops} GFLOP/s, so torch is using the reference BLAS; ` +
        "install libopenblas0-pthread (apt-get) for a fair comparison",
    );
    out.torch_blas_warning = "reference BLAS";
  }
  const ratio = (ours: unknown, theirs: unknown) =>
    typeof ours === "number" && typeof theirs === "number" && theirs > 0
      ? round(ours / theirs, 3)
      : null;
  out.matmul_ratio = ratio(out.matmul_gflops, t.matmul_gflops);
  out.block_step_ratio = ratio(out.block_step_ms, t.block_step_ms);
  out.spmm_d64_ratio = ratio(out.spmm_ms_d64, t.spmm_ms_d64);
  out.spmm_d512_ratio = ratio(out.spmm_ms_d512, t.spmm_ms_d512);
}

function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Runs every measurement and returns the flat result object. */
export async function runEngineBench(args: EngineBenchArgs): Promise<Result> {
  const out: Result = { threads: args.threads };
  sampleRss();
  const { a, source } = await readTrainGraph(args.data);
  out.graph = source;
  out.graph_nodes = a.nRows;
  out.graph_nnz = a.offsets[a.nRows];
  log(`graph ${source}: ${a.nRows} nodes, ${out.graph_nnz} non-zeros`);
  await benchSparse(a, args.threads, out);
  await benchBlock(args.threads, out);
  if (args.torch) await benchTorch(args, source !== "synthetic", out);
  sampleRss();
  out.peak_rss_mib = round(peakRss / 2 ** 20, 1);
  return out;
}

if (import.meta.main) {
  const args = parseEngineBenchArgs(Deno.args);
  const out = await runEngineBench(args);
  if (args.json) console.log(JSON.stringify(out));
  else for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(24)} ${v}`);
}

/**
 * The device benchmark (`deno task bench:device`): the same work on the CPU
 * provider and on another one (`--device webgpu|cuda`), in one invocation,
 * so the ratios compare like with like: ORT's MatMul ceiling, a t5-small
 * encoder block train step, the fixed cost of a step call, and a whole T5
 * train step (forward, backward, AdamW) of a recommender at a preset's size
 * on Beauty-sized ids, for each task. The first loss of each T5 step is
 * printed for both providers: the same init and batch must give the same
 * loss up to float rounding.
 *
 * ```
 * deno task bench:device [--device webgpu|cuda] [--threads N] [--size tiny|cpu|paper]
 *                        [--iters N] [--json]
 * ```
 *
 * Speed-ups are cpu time / device time (above 1: the device is faster).
 * Progress goes to stderr; `--json` prints one JSON object on stdout.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createRng } from "../kernels/mod.ts";
import type { Task } from "../harness/types.ts";
import {
  benchBlockStep,
  benchMatMul,
  benchStepOverhead,
  timeCalls,
} from "../kernels/bench_block.ts";
import { ParamStore } from "../kernels/param_store.ts";
import type { Device } from "../kernels/runtime.ts";
import { PromptEncoder } from "./batch.ts";
import { type Sample, templateWords } from "./prompts.ts";
import { Seq2SeqRecommender } from "./seq2seq.ts";
import { T5_SIZES, t5Config } from "./t5_config.ts";
import { builtinTokenizer } from "./tokenizer.ts";

const USAGE =
  "Usage: device_bench.ts [--device webgpu|cuda] [--threads N] [--size tiny|cpu|paper] " +
  "[--iters N] [--json]";

/** Parsed command line of the driver. */
export interface DeviceBenchArgs {
  readonly device: Exclude<Device, "cpu">;
  readonly size: keyof typeof T5_SIZES;
  readonly threads: number;
  readonly iters: number;
  readonly json: boolean;
}

/**
 * Parses the driver's flags; a bad value is an error that names it and the usage.
 *
 * @example
 * ```ts
 * import { parseDeviceBenchArgs } from "./device_bench.ts";
 * console.log(parseDeviceBenchArgs(["--size", "cpu"]).size); // "cpu"
 * ```
 */
export function parseDeviceBenchArgs(args: string[]): DeviceBenchArgs {
  const { values } = parseArgs({
    args,
    options: {
      device: { type: "string", default: "webgpu" },
      threads: { type: "string", default: "2" },
      size: { type: "string", default: "paper" },
      iters: { type: "string", default: "5" },
      json: { type: "boolean", default: false },
    },
  });
  const positive = (flag: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(
        `Expected --${flag} to be a positive integer but found "${v}". ${USAGE}`,
      );
    }
    return n;
  };
  const device = values.device as DeviceBenchArgs["device"];
  if (!["webgpu", "cuda"].includes(device)) {
    throw new TypeError(`Expected --device webgpu or cuda but found "${device}". ${USAGE}`);
  }
  const size = values.size as DeviceBenchArgs["size"];
  if (!(size in T5_SIZES)) {
    throw new TypeError(`Expected --size tiny, cpu or paper but found "${size}". ${USAGE}`);
  }
  return {
    device,
    size,
    threads: positive("threads", values.threads as string),
    iters: positive("iters", values.iters as string),
    json: values.json as boolean,
  };
}

const log = (msg: string) => console.error(`[bench:device] ${msg}`);
const round = (x: number, digits = 2) => Number(x.toFixed(digits));
let peakRss = 0;
const sampleRss = () => peakRss = Math.max(peakRss, Deno.memoryUsage().rss);

// Beauty's sizes: the id words and prompt lengths of the real runs.
const nUsers = 22_363, nItems = 12_101, batchSize = 64;
const tokenizer = builtinTokenizer(templateWords());
const prompts = new PromptEncoder(tokenizer, nUsers, nItems);

/** A seeded Beauty-shaped batch of `task` (ids drawn uniformly). */
export function batchOf(task: Task, seed: number): Sample[] {
  const rng = createRng(seed);
  return Array.from({ length: batchSize }, () => ({
    task,
    user: rng.int(nUsers),
    items: Int32Array.from({ length: task === "direct" ? 100 : 20 }, () => 1 + rng.int(nItems)),
    target: 1 + rng.int(nItems),
    template: 0,
  }));
}

/** A seeded T5 recommender over Beauty's sizes, at a preset's size, on one device. */
export function t5Model(
  on: Device,
  size: keyof typeof T5_SIZES,
  threads: number,
  evalBatch = 8,
): Seq2SeqRecommender {
  return new Seq2SeqRecommender({
    cfg: t5Config(T5_SIZES[size], tokenizer.vocabSize),
    store: new ParamStore(),
    prompts,
    extras: { wholeWordRows: 512 },
    batchSize,
    evalBatch,
    lr: 1e-3,
    weightDecay: 0.01,
    threads,
    device: on,
    rng: createRng(0),
  });
}

/** Median ms of a T5 train step of `task`, and the loss of its first call. */
export async function t5Step(
  on: Device,
  task: Task,
  { size, threads, iters }: Pick<DeviceBenchArgs, "size" | "threads" | "iters">,
): Promise<{ ms: number; firstLoss: number }> {
  const model = t5Model(on, size, threads);
  const batch = batchOf(task, 1);
  // The first call compiles the session and is the loss the providers must agree on.
  const firstLoss = await model.trainStep(task, batch);
  const { medianMs } = await timeCalls(0, iters, async () => {
    await model.trainStep(task, batch);
    sampleRss();
  });
  return { ms: medianMs, firstLoss };
}

async function main(args: DeviceBenchArgs): Promise<void> {
  const { device, size, threads, iters } = args;
  const out: Record<string, number | string> = { device, size, threads };
  const both = async (name: string, run: (on: Device) => Promise<number>): Promise<void> => {
    const cpu = await run("cpu");
    const dev = await run(device);
    out[`${name}_cpu`] = round(cpu);
    out[`${name}_${device}`] = round(dev);
    out[`${name}_speedup`] = round(cpu / dev);
    log(`${name}: cpu ${round(cpu)}, ${device} ${round(dev)}, speed-up ${round(cpu / dev)}x`);
    sampleRss();
  };

  await both(
    "matmul2048_ms",
    async (on) => (await benchMatMul({ device: on, intraOpThreads: threads, iters })).medianMs,
  );
  await both(
    "block_step_ms",
    async (on) => (await benchBlockStep({ device: on, intraOpThreads: threads, iters })).medianMs,
  );
  await both(
    "step_overhead_us",
    (on) => benchStepOverhead({ device: on, intraOpThreads: threads }),
  );
  for (const task of ["direct", "sequential"] as const) {
    let first: Record<string, number> = {};
    await both(`t5_${size}_${task}_step_ms`, async (on) => {
      const r = await t5Step(on, task, args);
      first = { ...first, [on]: r.firstLoss };
      return r.ms;
    });
    out[`t5_${size}_${task}_first_loss_cpu`] = first.cpu;
    out[`t5_${size}_${task}_first_loss_${device}`] = first[device];
    log(`${task} first loss: cpu ${first.cpu}, ${device} ${first[device]}`);
  }
  out.peak_rss_mb = round(peakRss / 2 ** 20, 0);
  log(`peak RSS ${out.peak_rss_mb} MB`);
  if (args.json) console.log(JSON.stringify(out));
  else console.table(out);
}

if (import.meta.main) {
  try {
    await main(parseDeviceBenchArgs(Deno.args));
  } catch (e) {
    // The provider's own reason is the useful part; a stack adds nothing here.
    console.error(`[bench:device] ${(e as Error).message}`);
    Deno.exit(1);
  }
}

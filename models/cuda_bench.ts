/**
 * The CUDA benchmark (`deno task bench:cuda`), for a machine where `setup
 * cuda` has run: what `--device cuda` costs beside the CPU provider and
 * beside itself without resident parameters, in one invocation.
 * - the fixed cost of a step call (CPU; CUDA bound; CUDA copying);
 * - a T5 train step at a preset's size (`paper`: t5-small) for both tasks,
 *   bound and copying, with its first loss, and ORT's profile of the bound
 *   direct step (operators by time and provider);
 * - the first loss of a `tiny` step on the CPU and on CUDA (must agree);
 * - beam-20 generation in users per second, both tasks;
 * - GPU memory in use (the most seen) and the host's peak RSS.
 *
 * ```
 * deno task bench:cuda [--size paper] [--threads 16] [--iters 10] [--users 256]
 *                      [--profile DIR] [--out FILE] [--json]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { gpuInfo } from "../kernels/cuda_device.ts";
import { benchStepOverhead, timeCalls } from "../kernels/bench_block.ts";
import { openOrtCApi } from "../kernels/ort_capi.ts";
import { summarizeProfile } from "../kernels/ort_profile.ts";
import { boundMemory, endBoundProfiling } from "../kernels/step_runner.ts";
import type { Task } from "../harness/types.ts";
import type { Device } from "../kernels/runtime.ts";
import { batchOf, t5Model, t5Step } from "./device_bench.ts";
import type { T5_SIZES } from "./t5_config.ts";

const log = (msg: string) => console.error(`[bench:cuda] ${msg}`);
const round = (x: number, digits = 2) => Number(x.toFixed(digits));

/** The device under test: `cuda`, or `cpu` to try this script on a machine without a GPU. */
let on: Device = "cuda";
let gpuPeak = 0;
const sampleGpu = () => {
  try {
    gpuPeak = Math.max(gpuPeak, boundMemory(on).used());
  } catch { /* no device memory to read: the measurement's own error says why */ }
};

/** Runs `body` with `ELMBENCH_IO` set to `io` (bound or copy). */
async function withIo<T>(io: "bound" | "copy", body: () => Promise<T>): Promise<T> {
  const before = Deno.env.get("ELMBENCH_IO");
  Deno.env.set("ELMBENCH_IO", io);
  try {
    return await body();
  } finally {
    if (before === undefined) Deno.env.delete("ELMBENCH_IO");
    else Deno.env.set("ELMBENCH_IO", before);
  }
}

/** Users per second of beam-`beams` generation over `users` seeded samples of `task`. */
async function generation(
  size: keyof typeof T5_SIZES,
  task: Task,
  threads: number,
  users: number,
): Promise<number> {
  const evalBatch = 64;
  const model = t5Model(on, size, threads, evalBatch);
  const samples = batchOf(task, 5).concat(batchOf(task, 6)).slice(0, evalBatch);
  await model.generate(task, samples, { beams: 20, returns: 20 }); // compiles
  const rounds = Math.max(1, Math.round(users / evalBatch));
  const { medianMs } = await timeCalls(0, rounds, async () => {
    await model.generate(task, samples, { beams: 20, returns: 20 });
    sampleGpu();
  });
  return evalBatch / (medianMs / 1000);
}

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      size: { type: "string", default: "paper" },
      threads: { type: "string", default: "16" },
      iters: { type: "string", default: "10" },
      users: { type: "string", default: "256" },
      profile: { type: "string" },
      out: { type: "string" },
      device: { type: "string", default: "cuda" },
      json: { type: "boolean", default: false },
    },
  });
  on = values.device as Device;
  const size = values.size as keyof typeof T5_SIZES;
  const threads = Number(values.threads), iters = Number(values.iters);
  const gpu = gpuInfo();
  const out: Record<string, unknown> = {
    gpu: "name" in gpu ? gpu.name : gpu.reason,
    arch: "arch" in gpu ? gpu.arch : undefined,
    onnxruntime: openOrtCApi().version,
    size,
    threads,
  };
  const put = (key: string, value: number) => {
    out[key] = round(value, 4);
    log(`${key}: ${round(value, 4)}`);
  };

  const errors: Record<string, string> = {};
  /** Runs one measurement; a failure is recorded and the next one still runs. */
  const attempt = async (label: string, body: () => Promise<void>) => {
    try {
      await body();
    } catch (e) {
      errors[label] = (e as Error).message;
      log(`${label} failed: ${(e as Error).message}`);
    }
    sampleGpu();
    out.errors = errors;
    out.gpu_memory_used_peak_mib = round(gpuPeak / 2 ** 20, 0);
    if (values.out) Deno.writeTextFileSync(values.out, JSON.stringify(out) + "\n");
  };

  await attempt("overhead", async () => {
    put(
      "step_overhead_us_cpu",
      await benchStepOverhead({ device: "cpu", intraOpThreads: threads }),
    );
    put("step_overhead_us_cuda_bound", await benchStepOverhead({ device: on, io: "bound" }));
    put("step_overhead_us_cuda_copy", await benchStepOverhead({ device: on, io: "copy" }));
  });

  for (const task of ["direct", "sequential"] as const) {
    await attempt(`tiny_${task}`, async () => {
      const cpu = await t5Step("cpu", task, { size: "tiny", threads, iters: 1 });
      out[`tiny_${task}_first_loss_cpu`] = cpu.firstLoss;
      const cuda = await t5Step(on, task, { size: "tiny", threads, iters: 1 });
      out[`tiny_${task}_first_loss_cuda`] = cuda.firstLoss;
      put(
        `tiny_${task}_first_loss_rel_diff`,
        Math.abs(cuda.firstLoss - cpu.firstLoss) / cpu.firstLoss,
      );
    });
  }

  for (const task of ["direct", "sequential"] as const) {
    await attempt(`t5_${size}_${task}_bound`, async () => {
      if (values.profile && task === "direct") {
        Deno.mkdirSync(values.profile, { recursive: true });
        Deno.env.set("ELMBENCH_ORT_PROFILE", `${values.profile}/${task}`);
      }
      try {
        const bound = await withIo("bound", () => t5Step(on, task, { size, threads, iters }));
        put(`t5_${size}_${task}_step_ms_cuda_bound`, bound.ms);
        out[`t5_${size}_${task}_first_loss_cuda`] = bound.firstLoss;
      } finally {
        Deno.env.delete("ELMBENCH_ORT_PROFILE");
      }
    });
    await attempt(`t5_${size}_${task}_copy`, async () => {
      const copy = await withIo("copy", () => t5Step(on, task, { size, threads, iters: 3 }));
      put(`t5_${size}_${task}_step_ms_cuda_copy`, copy.ms);
      out[`t5_${size}_${task}_first_loss_cuda_copy`] = copy.firstLoss;
    });
  }
  await attempt("profile", async () => {
    for (const file of endBoundProfiling()) {
      const summary = summarizeProfile(await Deno.readTextFile(file));
      out.profile_direct = {
        runs: summary.runs,
        median_run_ms: round(summary.medianRunUs / 1000),
        top: summary.ops.slice(0, 15).map((o) => ({
          ...o,
          us: Math.round(o.us),
          share: round(o.share, 4),
        })),
      };
      log(`profile (${summary.runs} runs, median ${round(summary.medianRunUs / 1000)} ms):`);
      for (const o of summary.ops.slice(0, 15)) {
        log(
          `  ${o.op.padEnd(22)} ${o.provider.padEnd(6)} ${
            (100 * o.share).toFixed(1)
          }%  x${o.count}`,
        );
      }
    }
  });

  const users = Number(values.users);
  for (const task of ["sequential", "direct"] as const) {
    await attempt(`beam20_${task}`, async () => {
      const rate = await generation(size, task, threads, users);
      put(`beam20_${task}_users_per_s`, rate);
      put(`beam20_${task}_all_beauty_users_min`, 22_363 / rate / 60);
    });
  }
  out.peak_rss_mb = round(Deno.memoryUsage().rss / 2 ** 20, 0);
  if (values.json) console.log(JSON.stringify(out));
  else console.table(out);
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (e) {
    console.error(`[bench:cuda] ${(e as Error).stack ?? e}`);
    Deno.exit(1);
  }
}

/**
 * How a compiled step runs its session. Two ways:
 * - host I/O (`onnxruntime-node`): every stored value is fed from the host
 *   and every new value comes back, as on the CPU provider;
 * - bound I/O (ONNX Runtime's C API): stored values stay resident in device
 *   memory, `next/<name>` outputs are written there, and only batch inputs
 *   and the loss cross to the host. The default on CUDA; on the CPU it runs
 *   over host memory so the same code is tested without a GPU.
 *
 * @module
 */

import { BoundSession } from "./bound_session.ts";
import { prepareCuda, SETUP_HINT } from "./cuda_provider.ts";
import { cudaMemory, type DeviceMemory, hostMemory } from "./device_memory.ts";
import type { OnnxModel } from "./onnx_export.ts";
import { openOrtCApi } from "./ort_capi.ts";
import type { ParamStore } from "./param_store.ts";
import { residentValues } from "./resident.ts";
import { type HostTensor, loadSession, releaseSessions, type RuntimeOptions } from "./runtime.ts";

/** A session as a step sees it. */
export interface StepRunner {
  /** Whether stored values must be in the feeds (host I/O) or are bound from the device. */
  readonly feedsStored: boolean;
  /** Runs once; returns the host outputs (with host I/O, `next/` outputs too). */
  run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>>;
  /** Ends ORT's profiling and returns the trace file, where profiling was asked for. */
  endProfiling(): string | undefined;
}

/** Output name prefix of a stored value's update (see step.ts). */
const NEXT = "next/";

/** Whether `options` ask for bound I/O: `io`, else `ELMBENCH_IO`, else bound on CUDA only. */
export function usesBoundIo(options: RuntimeOptions): boolean {
  const io = options.io ?? (Deno.env.get("ELMBENCH_IO") as RuntimeOptions["io"]);
  if (io === "bound") return options.device !== "webgpu";
  if (io === "copy") return false;
  return options.device === "cuda";
}

const memories = new Map<string, DeviceMemory>();

function memoryFor(device: RuntimeOptions["device"]): DeviceMemory {
  const kind = device === "cuda" ? "cuda" : "host";
  let memory = memories.get(kind);
  if (memory) return memory;
  if (kind === "cuda") {
    try {
      const { cudart } = prepareCuda();
      memory = cudaMemory(openOrtCApi(), cudart);
    } catch (e) {
      const reason = (e as Error).message;
      throw new Error(
        `Cannot start the "cuda" execution provider: ${reason}${
          reason.includes("setup cuda") ? "" : `; ${SETUP_HINT}`
        }`,
        { cause: e },
      );
    }
  } else {
    memory = hostMemory(openOrtCApi());
  }
  memories.set(kind, memory);
  return memory;
}

/** The device memory bound sessions of `device` use (for benchmarks: bytes in use). */
export function boundMemory(device: RuntimeOptions["device"]): DeviceMemory {
  return memoryFor(device);
}

const boundCache = new Map<string, BoundSession>();

/**
 * Ends ORT's profiling of every bound session opened with a profile prefix
 * (the `profile` option or `ELMBENCH_ORT_PROFILE`); returns their trace files.
 */
export function endBoundProfiling(): string[] {
  const files: string[] = [];
  for (const [key, session] of boundCache) {
    if (key.endsWith(":")) continue;
    files.push(session.endProfiling());
    boundCache.delete(key);
  }
  return files;
}

/**
 * Releases every session that steps opened, host and bound (a bound session
 * being profiled stays until {@linkcode endBoundProfiling} ends it), so the
 * work that used them gives their memory back. Steps compiled before this
 * call must not run again; compile them anew.
 *
 * @example
 * ```ts
 * import { releaseStepSessions } from "./step_runner.ts";
 * await releaseStepSessions();
 * ```
 */
export async function releaseStepSessions(): Promise<void> {
  for (const [key, session] of boundCache) {
    if (!key.endsWith(":")) continue;
    session.release();
    boundCache.delete(key);
  }
  await releaseSessions();
}

/** Opens the session of `model` over `store` the way `options` ask. */
export async function openStepRunner(
  model: OnnxModel,
  store: ParamStore,
  options: RuntimeOptions,
): Promise<StepRunner> {
  if (!usesBoundIo(options)) {
    const session = await loadSession(model, options);
    return { feedsStored: true, run: (feeds) => session.run(feeds), endProfiling: () => undefined };
  }
  const memory = memoryFor(options.device);
  const api = openOrtCApi();
  const threads = options.intraOpThreads ?? 2;
  const profile = options.profile ?? Deno.env.get("ELMBENCH_ORT_PROFILE");
  // Ends with ":" exactly when the session is not profiled (see releaseStepSessions).
  const key = `${model.hash}:${memory.kind}:${threads}:${options.tf32 ?? false}:${profile ?? ""}`;
  let session = boundCache.get(key);
  if (!session) {
    try {
      session = BoundSession.create(api, model, {
        memory,
        intraOpThreads: threads,
        tf32: options.tf32,
        profilePrefix: profile,
      });
    } catch (e) {
      const device = options.device ?? "cpu";
      const what = device === "cpu"
        ? "Cannot load the model on cpu"
        : `Cannot start the "${device}" execution provider`;
      throw new Error(`${what}: ${(e as Error).message}`, { cause: e });
    }
    boundCache.set(key, session);
  }
  const resident = residentValues(api, memory, store);
  const outputs = model.outputs.map((v) => v.name);
  const bound = session;
  return {
    feedsStored: false,
    async run(feeds) {
      // As with host I/O, feeds the model does not read are ignored.
      const host: Record<string, HostTensor> = {};
      const inputs: Record<string, ReturnType<typeof resident.input>> = {};
      for (const { name } of model.inputs) {
        if (name in feeds) host[name] = feeds[name];
        else inputs[name] = resident.input(name);
      }
      const written: string[] = [];
      const residentOut: Record<string, ReturnType<typeof resident.output>> = {};
      const hostOut: string[] = [];
      for (const name of outputs) {
        const stored = name.startsWith(NEXT) ? name.slice(NEXT.length) : undefined;
        if (stored !== undefined && store.has(stored) && stored in inputs) {
          residentOut[name] = resident.output(stored);
          written.push(stored);
        } else {
          hostOut.push(name);
        }
      }
      const result = await bound.run({ host, resident: inputs, residentOut, hostOut });
      for (const name of written) resident.commit(name);
      return result;
    },
    endProfiling: () => bound.endProfiling(),
  };
}

/**
 * The one place in elmbench that talks to `onnxruntime-node`: sessions
 * (cached by graph hash), devices, and the conversion of feeds and fetches.
 * Sessions whose stored values stay in device memory (CUDA) run through
 * ONNX Runtime's C API instead (bound_session.ts, chosen in step_runner.ts).
 *
 * The package, and with it ONNX Runtime's native library, loads with the
 * first session, not with the engine: the harness and the public API
 * (`mod.ts`) import the engine for its generator, and an external plugin
 * that imports `mod.ts` must not load a native binding it never uses.
 *
 * @module
 */

import { prepareCuda } from "./cuda_provider.ts";
import { type DType, type HostArray, hostArray } from "./graph.ts";
import type { OnnxModel, ValueInfo } from "./onnx_export.ts";

/** Where a session runs. */
export type Device = "cpu" | "cuda" | "webgpu";

/** Options of {@linkcode loadSession}. */
export interface RuntimeOptions {
  /** Execution provider; a provider that cannot start is an error, never a fallback. @default "cpu" */
  device?: Device;
  /** Threads one op may use. @default 2 */
  intraOpThreads?: number;
  /**
   * How train steps and inference move stored values: `bound` keeps them in
   * device memory between runs (ONNX Runtime's I/O binding), `copy` feeds
   * them from the host on every run. @default bound on cuda, copy elsewhere
   * (or the `ELMBENCH_IO` environment variable)
   */
  io?: "bound" | "copy";
  /** TF32 matrix products on CUDA (bound I/O). @default false, fp32 as PyTorch's default */
  tf32?: boolean;
  /** Profile file prefix for ONNX Runtime's profiler (bound I/O). @default no profiling */
  profile?: string;
  /**
   * ONNX Runtime's memory pattern (host I/O): after the first run the session
   * plans one block for all of a run's intermediate values and keeps it for
   * its life. It pays for a train step run thousands of times; for the
   * inference graphs (an encoder, one decoder step per length, a loss) it
   * only adds up. Off for them, a `tiny` T5 cell peaks at 1.1 GB instead of
   * 1.5 GB and runs no slower.
   * @default true; false for {@linkcode compileInference}'s sessions
   */
  memoryPattern?: boolean;
}

/** A host-side tensor: a typed array and its shape. */
export interface HostTensor {
  readonly data: HostArray;
  readonly shape: readonly number[];
}

/** An `onnxruntime-node` tensor, as far as this file reads one. */
interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
}

/** An `onnxruntime-node` inference session, as far as this file uses one. */
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

/**
 * The part of `onnxruntime-node`'s API this file uses, written out because
 * the package is imported by a computed name (see {@linkcode loadOrt});
 * `runtime_test.ts` checks it against the package's own types.
 */
export interface OrtApi {
  Tensor: new (type: OrtTensorType, data: HostArray, dims: readonly number[]) => OrtTensor;
  InferenceSession: {
    create(bytes: Uint8Array, options: OrtSessionOptions): Promise<OrtSession>;
  };
  listSupportedBackends(): readonly { readonly name: string }[];
}

type OrtTensorType = "float32" | "float64" | "int64" | "int32" | "bool";

interface OrtSessionOptions {
  executionProviders: readonly string[];
  graphOptimizationLevel: "all";
  executionMode: "sequential";
  intraOpNumThreads: number;
  interOpNumThreads: number;
  logSeverityLevel: 3;
  enableMemPattern: boolean;
}

// A computed specifier keeps the package out of the static module graph:
// `deno info` and `deno check` of a module that reaches the engine do not
// pull in ONNX Runtime's binaries or types.
const ORT_PACKAGE = "onnxruntime-node";
let ortLoading: Promise<OrtApi> | undefined;

/** Loads `onnxruntime-node` once, on the first session. */
export function loadOrt(): Promise<OrtApi> {
  return ortLoading ??= import(ORT_PACKAGE) as Promise<OrtApi>;
}

const ORT_TYPE: Record<DType, OrtTensorType> = {
  float32: "float32",
  float64: "float64",
  int64: "int64",
  int32: "int32",
  bool: "bool",
};

const ARRAY_OF: Record<DType, string> = {
  float32: "Float32Array",
  float64: "Float64Array",
  int64: "BigInt64Array",
  int32: "Int32Array",
  bool: "Uint8Array",
};

/** A loaded model, ready to run. */
export class Session {
  readonly #ort: OrtApi;
  readonly #session: OrtSession;
  readonly #inputs: Map<string, ValueInfo>;
  /** Inputs the session reads, in graph order. */
  readonly inputs: readonly ValueInfo[];
  /** Outputs the session computes, in graph order. */
  readonly outputs: readonly ValueInfo[];
  /** The device the session runs on. */
  readonly device: Device;

  constructor(ort: OrtApi, session: OrtSession, model: OnnxModel, device: Device) {
    this.#ort = ort;
    this.#session = session;
    this.inputs = model.inputs;
    this.outputs = model.outputs;
    this.device = device;
    this.#inputs = new Map(model.inputs.map((v) => [v.name, v]));
  }

  /**
   * Runs the model. Every input must be fed; names the model does not read
   * are ignored, so one feed record can serve several sessions.
   */
  async run(feeds: Readonly<Record<string, HostTensor>>): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const [name, info] of this.#inputs) {
      const feed = feeds[name];
      if (!feed) throw new TypeError(`Expected a feed for input "${name}" but found none`);
      ortFeeds[name] = toOrt(this.#ort, name, info, feed);
    }
    const results = await this.#session.run(ortFeeds);
    const out: Record<string, HostTensor> = {};
    for (const v of this.outputs) {
      const t = results[v.name];
      out[v.name] = { data: t.data as HostArray, shape: t.dims as number[] };
    }
    return out;
  }

  /** Frees the native session; the cache forgets it. */
  async release(): Promise<void> {
    for (const [key, s] of cache) if ((await s) === this) cache.delete(key);
    await this.#session.release();
  }
}

function toOrt(ort: OrtApi, name: string, info: ValueInfo, feed: HostTensor): OrtTensor {
  const n = info.shape.reduce((p, d) => p * d, 1);
  const kind = feed.data.constructor.name;
  if (kind !== ARRAY_OF[info.dtype] || feed.data.length !== n) {
    throw new TypeError(
      `Expected input "${name}" as a ${
        ARRAY_OF[info.dtype]
      } of ${n} values (shape [${info.shape}]) but found a ${kind} of ${feed.data.length}`,
    );
  }
  // The binding rejects arrays on a SharedArrayBuffer (views of the kernels' heap): copy those.
  const data = feed.data.buffer instanceof SharedArrayBuffer ? feed.data.slice() : feed.data;
  return new ort.Tensor(ORT_TYPE[info.dtype], data, info.shape);
}

const cache = new Map<string, Promise<Session>>();

/**
 * Loads (or reuses) a session for a model. Sessions are cached by graph hash,
 * device and thread count.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { exportOnnx } from "./onnx_export.ts";
 * import { loadSession } from "./runtime.ts";
 * const g = new Graph();
 * const x = g.input("x", "float32", [2]);
 * const session = await loadSession(exportOnnx({ y: g.exp(x) }));
 * const { y } = await session.run({ x: { data: new Float32Array([0, 1]), shape: [2] } });
 * ```
 */
export function loadSession(model: OnnxModel, options: RuntimeOptions = {}): Promise<Session> {
  const device = options.device ?? "cpu";
  const threads = options.intraOpThreads ?? 2;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`Expected a positive integer intraOpThreads but found ${threads}`);
  }
  const pattern = options.memoryPattern ?? true;
  const key = `${model.hash}:${device}:${threads}:${pattern}`;
  let session = cache.get(key);
  if (!session) {
    session = create(model, device, threads, pattern);
    cache.set(key, session);
    session.catch(() => cache.delete(key));
  }
  return session;
}

async function create(
  model: OnnxModel,
  device: Device,
  threads: number,
  pattern: boolean,
): Promise<Session> {
  const ort = await loadOrt();
  if (device === "cuda") {
    try {
      prepareCuda();
    } catch (e) {
      throw new Error(`Cannot start the "cuda" execution provider: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
  if (device !== "cpu") {
    const backend = ort.listSupportedBackends().find((b) => b.name === device);
    if (!backend) {
      throw new Error(
        `Cannot start the "${device}" execution provider: this onnxruntime-node build does not support it (supported: ${
          ort.listSupportedBackends().map((b) => b.name).join(", ")
        })`,
      );
    }
  }
  const options: OrtSessionOptions = {
    executionProviders: [device],
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    enableMemPattern: pattern,
  };
  try {
    const session = await ort.InferenceSession.create(model.bytes, options);
    return new Session(ort, session, model, device);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    if (device === "cpu") throw new Error(`Cannot load the model on cpu: ${reason}`, { cause: e });
    throw new Error(`Cannot start the "${device}" execution provider: ${reason}`, { cause: e });
  }
}

/**
 * Releases every cached session (and the memory ONNX Runtime holds for it).
 * A caller that is done with a unit of work (the harness, after each cell)
 * calls this so that sessions of finished work do not add up; a later
 * {@linkcode loadSession} of the same graph creates it again.
 *
 * @example
 * ```ts
 * import { releaseSessions } from "./runtime.ts";
 * await releaseSessions();
 * ```
 */
export async function releaseSessions(): Promise<number> {
  const pending = [...cache.values()];
  cache.clear();
  let released = 0;
  for (const p of pending) {
    // A session that failed to start holds nothing; its error was reported where it was asked for.
    const session = await p.catch(() => undefined);
    if (session) {
      await session.release();
      released++;
    }
  }
  return released;
}

/** Zeros of a dtype and shape, as a feed. */
export function zerosHost(dtype: DType, shape: readonly number[]): HostTensor {
  return { data: hostArray(dtype, shape.reduce((p, d) => p * d, 1)), shape };
}

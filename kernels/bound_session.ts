/**
 * A session run through ONNX Runtime's I/O binding: some inputs and outputs
 * are values that stay in device memory between runs (parameters and
 * optimizer state), the rest are host arrays copied in and out per run.
 * On CUDA this is what keeps a train step from copying the whole model to
 * the GPU and back on every call.
 *
 * @module
 */

import type { DeviceMemory } from "./device_memory.ts";
import type { OnnxModel, ValueInfo } from "./onnx_export.ts";
import { ELEMENT_TYPE, type OrtCApi } from "./ort_capi.ts";
import type { HostTensor } from "./runtime.ts";
import { type DType, type HostArray, hostArray } from "./tensor.ts";

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int64: 8, int32: 4, bool: 1 };

const count = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/** A tensor whose data lives in a {@linkcode DeviceMemory}, wrapped as an `OrtValue` once. */
export class DeviceValue {
  readonly pointer: Deno.PointerValue;
  /** The `OrtValue` over {@linkcode pointer} (ORT does not own the memory). */
  readonly value: Deno.PointerValue;
  readonly bytes: number;

  constructor(
    readonly api: OrtCApi,
    readonly memory: DeviceMemory,
    readonly dtype: DType,
    readonly shape: readonly number[],
  ) {
    this.bytes = count(shape) * BYTES[dtype];
    this.pointer = memory.alloc(this.bytes);
    const out = new BigUint64Array(1);
    api.check(
      api.fn.CreateTensorWithDataAsOrtValue(
        memory.memoryInfo,
        this.pointer,
        BigInt(this.bytes),
        BigInt64Array.from(shape.map(BigInt)),
        BigInt(shape.length),
        ELEMENT_TYPE[dtype],
        out,
      ),
      "CreateTensorWithDataAsOrtValue",
    );
    this.value = this.api.out(out);
  }

  release(): void {
    this.api.fn.ReleaseValue(this.value);
    this.memory.free(this.pointer);
  }
}

/** Options of {@linkcode BoundSession.create}. */
export interface BoundSessionOptions {
  /** Where device values live; CUDA memory runs the CUDA provider, host memory the CPU one. */
  readonly memory: DeviceMemory;
  readonly intraOpThreads: number;
  /** Prefix of ORT's profile file; profiling is off when absent. */
  readonly profilePrefix?: string;
  /** TF32 matrix products on CUDA (faster, about 1e-3 relative). @default false */
  readonly tf32?: boolean;
}

/** What one bound run reads and writes. */
export interface BoundRun {
  /** Inputs copied from the host for this run. */
  readonly host: Readonly<Record<string, HostTensor>>;
  /** Inputs read from device values. */
  readonly resident: Readonly<Record<string, DeviceValue>>;
  /** Outputs written into device values. */
  readonly residentOut: Readonly<Record<string, DeviceValue>>;
  /** Outputs copied to the host. */
  readonly hostOut: readonly string[];
}

/** One ORT session with an I/O binding. */
export class BoundSession {
  readonly #api: OrtCApi;
  readonly #session: Deno.PointerValue;
  readonly #binding: Deno.PointerValue;
  readonly #hostInfo: Deno.PointerValue;
  readonly #allocator: Deno.PointerValue;
  readonly #names = new Map<string, Uint8Array<ArrayBuffer>>();
  readonly #outputs: Map<string, ValueInfo>;
  /** Device outputs ORT wrote into its own buffer (copied into ours after the run). */
  redirected = 0;

  private constructor(api: OrtCApi, model: OnnxModel, session: Deno.PointerValue) {
    this.#api = api;
    this.#session = session;
    this.#outputs = new Map(model.outputs.map((v) => [v.name, v]));
    const out = new BigUint64Array(1);
    api.check(api.fn.CreateIoBinding(session, out), "CreateIoBinding");
    this.#binding = api.out(out);
    api.check(api.fn.CreateCpuMemoryInfo(1, 0, out), "CreateCpuMemoryInfo");
    this.#hostInfo = api.out(out);
    api.check(api.fn.GetAllocatorWithDefaultOptions(out), "GetAllocatorWithDefaultOptions");
    this.#allocator = api.out(out);
  }

  /** Loads `model` on the provider that `options.memory` belongs to. */
  static create(api: OrtCApi, model: OnnxModel, options: BoundSessionOptions): BoundSession {
    const { fn } = api;
    // The environment first: ORT's provider options log through its default logger.
    const env = envOf(api);
    const out = new BigUint64Array(1);
    api.check(fn.CreateSessionOptions(out), "CreateSessionOptions");
    const so = api.out(out);
    try {
      api.check(fn.SetIntraOpNumThreads(so, options.intraOpThreads), "SetIntraOpNumThreads");
      api.check(fn.SetInterOpNumThreads(so, 1), "SetInterOpNumThreads");
      api.check(fn.SetSessionExecutionMode(so, 0), "SetSessionExecutionMode");
      api.check(fn.SetSessionGraphOptimizationLevel(so, 99), "SetSessionGraphOptimizationLevel");
      if (options.profilePrefix) {
        api.check(fn.EnableProfiling(so, api.cstr(options.profilePrefix)), "EnableProfiling");
      }
      if (options.memory.kind === "cuda") appendCuda(api, so, options.tf32 ?? false);
      const bytes = model.bytes as Uint8Array<ArrayBuffer>;
      api.check(
        fn.CreateSessionFromArray(env, bytes, BigInt(bytes.byteLength), so, out),
        "CreateSessionFromArray",
      );
      return new BoundSession(api, model, api.out(out));
    } finally {
      fn.ReleaseSessionOptions(so);
    }
  }

  #name(name: string): Uint8Array<ArrayBuffer> {
    let c = this.#names.get(name);
    if (!c) this.#names.set(name, c = this.#api.cstr(name));
    return c;
  }

  /** Runs once; returns the host outputs. Device outputs are in `run.residentOut` after it. */
  async run(run: BoundRun): Promise<Record<string, HostTensor>> {
    const { fn, check } = this.#api;
    const b = this.#binding;
    fn.ClearBoundInputs(b);
    fn.ClearBoundOutputs(b);
    const temporaries: Deno.PointerValue[] = [];
    const keepAlive: HostArray[] = [];
    try {
      for (const [name, t] of Object.entries(run.host)) {
        const value = this.#hostValue(t, keepAlive);
        temporaries.push(value);
        check(fn.BindInput(b, this.#name(name), value), `BindInput "${name}"`);
      }
      for (const [name, v] of Object.entries(run.resident)) {
        check(fn.BindInput(b, this.#name(name), v.value), `BindInput "${name}"`);
      }
      const order: string[] = [];
      for (const [name, v] of Object.entries(run.residentOut)) {
        check(fn.BindOutput(b, this.#name(name), v.value), `BindOutput "${name}"`);
        order.push(name);
      }
      for (const name of run.hostOut) {
        check(fn.BindOutputToDevice(b, this.#name(name), this.#hostInfo), `BindOutput "${name}"`);
        order.push(name);
      }
      check(await fn.RunWithBinding(this.#session, null, b), "RunWithBinding");
      return this.#collect(order, run);
    } finally {
      for (const v of temporaries) fn.ReleaseValue(v);
      keepAlive.length = 0;
    }
  }

  #hostValue(t: HostTensor, keepAlive: HostArray[]): Deno.PointerValue {
    const api = this.#api;
    // An empty array has no data pointer; ORT still wants one.
    const data = t.data.byteLength ? t.data : new Uint8Array(8);
    keepAlive.push(data as HostArray);
    const out = new BigUint64Array(1);
    api.check(
      api.fn.CreateTensorWithDataAsOrtValue(
        this.#hostInfo,
        Deno.UnsafePointer.of(data as Uint8Array<ArrayBuffer>),
        BigInt(t.data.byteLength),
        BigInt64Array.from(t.shape.map(BigInt)),
        BigInt(t.shape.length),
        ELEMENT_TYPE[dtypeOf(t.data)],
        out,
      ),
      "CreateTensorWithDataAsOrtValue",
    );
    return api.out(out);
  }

  /** Reads the bound outputs; a device output ORT wrote elsewhere is copied into its value. */
  #collect(order: readonly string[], run: BoundRun): Record<string, HostTensor> {
    const { fn, check, out } = this.#api;
    const arrayCell = new BigUint64Array(1);
    const countCell = new BigUint64Array(1);
    check(
      fn.GetBoundOutputValues(this.#binding, this.#allocator, arrayCell, countCell),
      "GetBoundOutputValues",
    );
    const n = Number(countCell[0]);
    const list = out(arrayCell);
    const result: Record<string, HostTensor> = {};
    if (!list || n === 0) return result;
    const view = new Deno.UnsafePointerView(list);
    try {
      for (let i = 0; i < n; i++) {
        const value = view.getPointer(i * 8);
        const name = order[i];
        const dataCell = new BigUint64Array(1);
        check(fn.GetTensorMutableData(value, dataCell), "GetTensorMutableData");
        const data = out(dataCell);
        const device = run.residentOut[name];
        if (device) {
          // ORT may hand back its own buffer rather than fill ours (an aliased output).
          if (Deno.UnsafePointer.value(data) !== Deno.UnsafePointer.value(device.pointer)) {
            device.memory.copy(device.pointer, data, device.bytes);
            this.redirected++;
          }
        } else {
          const info = this.#outputs.get(name)!;
          const host = hostArray(info.dtype, count(info.shape));
          if (host.byteLength) {
            new Deno.UnsafePointerView(data!).copyInto(
              new Uint8Array(host.buffer as ArrayBuffer, 0, host.byteLength),
            );
          }
          result[name] = { data: host, shape: info.shape };
        }
        fn.ReleaseValue(value);
      }
    } finally {
      check(fn.AllocatorFree(this.#allocator, list), "AllocatorFree");
    }
    return result;
  }

  /** Ends profiling and returns the path of ORT's trace file (JSON). */
  endProfiling(): string {
    const out = new BigUint64Array(1);
    this.#api.check(
      this.#api.fn.SessionEndProfiling(this.#session, this.#allocator, out),
      "SessionEndProfiling",
    );
    const p = this.#api.out(out);
    const path = Deno.UnsafePointerView.getCString(p!);
    this.#api.check(this.#api.fn.AllocatorFree(this.#allocator, p), "AllocatorFree");
    return path;
  }

  release(): void {
    const { fn } = this.#api;
    fn.ReleaseIoBinding(this.#binding);
    fn.ReleaseMemoryInfo(this.#hostInfo);
    fn.ReleaseSession(this.#session);
  }
}

function dtypeOf(data: HostArray): DType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof BigInt64Array) return "int64";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Float64Array) return "float64";
  return "bool";
}

let env: Deno.PointerValue | undefined;

function envOf(api: OrtCApi): Deno.PointerValue {
  if (env) return env;
  const out = new BigUint64Array(1);
  // ORT keeps one environment per process; onnxruntime-node's and this one are the same object.
  api.check(api.fn.CreateEnv(3, api.cstr("elmbench"), out), "CreateEnv");
  return env = api.out(out);
}

function appendCuda(api: OrtCApi, so: Deno.PointerValue, tf32: boolean): void {
  const out = new BigUint64Array(1);
  api.check(api.fn.CreateCUDAProviderOptions(out), "CreateCUDAProviderOptions");
  const cuda = api.out(out);
  try {
    const options: Record<string, string> = {
      device_id: "0",
      use_tf32: tf32 ? "1" : "0",
      // Copies of inputs run on the compute stream, so no extra synchronisation per run.
      do_copy_in_default_stream: "1",
    };
    const keys = Object.keys(options).map(api.cstr);
    const values = Object.values(options).map(api.cstr);
    const pointers = (list: Uint8Array<ArrayBuffer>[]) =>
      BigUint64Array.from(
        list.map((c) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(c)))),
      );
    api.check(
      api.fn.UpdateCUDAProviderOptions(cuda, pointers(keys), pointers(values), BigInt(keys.length)),
      "UpdateCUDAProviderOptions",
    );
    api.check(
      api.fn.SessionOptionsAppendExecutionProvider_CUDA_V2(so, cuda),
      "the CUDA execution provider",
    );
  } finally {
    api.fn.ReleaseCUDAProviderOptions(cuda);
  }
}

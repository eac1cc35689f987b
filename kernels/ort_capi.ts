/**
 * ONNX Runtime's C API through Deno's FFI, for what `onnxruntime-node` does
 * not expose: I/O binding with values that live in CUDA memory. The node
 * binding copies every input to the device and every output back on each
 * run, and its device-located tensors are WebGPU buffers only; a train step
 * that keeps parameters and optimizer state on the GPU needs `OrtIoBinding`.
 *
 * The library is the `libonnxruntime.so.1` that `onnxruntime-node` ships, so
 * the binding and this module share one runtime (one version, one provider
 * folder). The function table is `OrtApi` of ORT_API_VERSION 29: each entry
 * below names its index in that struct (onnxruntime_c_api.h of 1.29.0;
 * the struct only ever grows, so the indices hold for later versions).
 *
 * @module
 */

import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The `OrtApi` version these indices come from. */
export const ORT_API_VERSION = 29;

type Fn = Deno.ForeignFunction;
const S = "pointer" as const; // OrtStatus*: null on success

/** Index in `struct OrtApi` and signature of every function used here. */
const TABLE = {
  GetErrorMessage: [2, { parameters: ["pointer"], result: "pointer" }],
  CreateEnv: [3, { parameters: ["i32", "buffer", "buffer"], result: S }],
  CreateSessionFromArray: [8, {
    parameters: ["pointer", "buffer", "usize", "pointer", "buffer"],
    result: S,
  }],
  CreateSessionOptions: [10, { parameters: ["buffer"], result: S }],
  SetSessionExecutionMode: [13, { parameters: ["pointer", "i32"], result: S }],
  EnableProfiling: [14, { parameters: ["pointer", "buffer"], result: S }],
  SetSessionGraphOptimizationLevel: [23, { parameters: ["pointer", "i32"], result: S }],
  SetIntraOpNumThreads: [24, { parameters: ["pointer", "i32"], result: S }],
  SetInterOpNumThreads: [25, { parameters: ["pointer", "i32"], result: S }],
  CreateTensorWithDataAsOrtValue: [49, {
    parameters: ["pointer", "pointer", "usize", "buffer", "usize", "i32", "buffer"],
    result: S,
  }],
  GetTensorMutableData: [51, { parameters: ["pointer", "buffer"], result: S }],
  CreateMemoryInfo: [68, { parameters: ["buffer", "i32", "i32", "i32", "buffer"], result: S }],
  CreateCpuMemoryInfo: [69, { parameters: ["i32", "i32", "buffer"], result: S }],
  AllocatorFree: [76, { parameters: ["pointer", "pointer"], result: S }],
  GetAllocatorWithDefaultOptions: [78, { parameters: ["buffer"], result: S }],
  ReleaseStatus: [93, { parameters: ["pointer"], result: "void" }],
  ReleaseMemoryInfo: [94, { parameters: ["pointer"], result: "void" }],
  ReleaseSession: [95, { parameters: ["pointer"], result: "void" }],
  ReleaseValue: [96, { parameters: ["pointer"], result: "void" }],
  ReleaseSessionOptions: [100, { parameters: ["pointer"], result: "void" }],
  SessionEndProfiling: [110, { parameters: ["pointer", "pointer", "buffer"], result: S }],
  AddSessionConfigEntry: [130, { parameters: ["pointer", "buffer", "buffer"], result: S }],
  RunWithBinding: [133, {
    parameters: ["pointer", "pointer", "pointer"],
    result: S,
    nonblocking: true,
  }],
  CreateIoBinding: [134, { parameters: ["pointer", "buffer"], result: S }],
  ReleaseIoBinding: [135, { parameters: ["pointer"], result: "void" }],
  BindInput: [136, { parameters: ["pointer", "buffer", "pointer"], result: S }],
  BindOutput: [137, { parameters: ["pointer", "buffer", "pointer"], result: S }],
  BindOutputToDevice: [138, { parameters: ["pointer", "buffer", "pointer"], result: S }],
  GetBoundOutputValues: [140, {
    parameters: ["pointer", "pointer", "buffer", "buffer"],
    result: S,
  }],
  ClearBoundInputs: [141, { parameters: ["pointer"], result: "void" }],
  ClearBoundOutputs: [142, { parameters: ["pointer"], result: "void" }],
  SynchronizeBoundOutputs: [203, { parameters: ["pointer"], result: S }],
  SessionOptionsAppendExecutionProvider_CUDA_V2: [204, {
    parameters: ["pointer", "pointer"],
    result: S,
  }],
  CreateCUDAProviderOptions: [205, { parameters: ["buffer"], result: S }],
  UpdateCUDAProviderOptions: [206, {
    parameters: ["pointer", "buffer", "buffer", "usize"],
    result: S,
  }],
  ReleaseCUDAProviderOptions: [208, { parameters: ["pointer"], result: "void" }],
} as const satisfies Record<string, readonly [number, Fn]>;

type Table = typeof TABLE;
/** The bound functions, typed from their signatures. */
export type OrtFunctions = {
  [K in keyof Table]: Deno.UnsafeFnPointer<Table[K][1]>["call"];
};

/** ONNXTensorElementDataType values used by elmbench. */
export const ELEMENT_TYPE = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
} as const;

/** Folder of the `libonnxruntime.so.1` that `onnxruntime-node` loads (and where providers go). */
export function ortBinaryDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve("onnxruntime-node/package.json"));
  const os = Deno.build.os === "windows" ? "win32" : Deno.build.os;
  const arch = Deno.build.arch === "x86_64" ? "x64" : "arm64";
  return join(pkg, "bin", "napi-v6", os, arch);
}

/** The opened library: its version and the functions of its `OrtApi`. */
export interface OrtCApi {
  readonly version: string;
  readonly fn: OrtFunctions;
  /** Throws the status's message (prefixed by `what`) when `status` is not null. */
  check(status: Deno.PointerValue, what: string): void;
  /** A C string (NUL-terminated UTF-8) for a `buffer` argument. */
  cstr(s: string): Uint8Array<ArrayBuffer>;
  /** The pointer an out-parameter received. */
  out(cell: BigUint64Array): Deno.PointerValue;
}

let opened: OrtCApi | undefined;

/**
 * Opens ONNX Runtime's C API (once per process).
 *
 * @example
 * ```ts
 * import { openOrtCApi } from "./ort_capi.ts";
 * console.log(openOrtCApi().version); // "1.29.0"
 * ```
 */
export function openOrtCApi(libPath = join(ortBinaryDir(), libName())): OrtCApi {
  if (opened) return opened;
  const lib = Deno.dlopen(libPath, { OrtGetApiBase: { parameters: [], result: "pointer" } });
  const base = new Deno.UnsafePointerView(lib.symbols.OrtGetApiBase()!);
  const getApi = new Deno.UnsafeFnPointer(base.getPointer(0)!, {
    parameters: ["u32"],
    result: "pointer",
  });
  const getVersion = new Deno.UnsafeFnPointer(base.getPointer(8)!, {
    parameters: [],
    result: "pointer",
  });
  const version = Deno.UnsafePointerView.getCString(getVersion.call()!);
  const api = getApi.call(ORT_API_VERSION);
  if (!api) {
    throw new Error(
      `ONNX Runtime ${version} at ${libPath} does not offer C API version ${ORT_API_VERSION}`,
    );
  }
  const table = new Deno.UnsafePointerView(api);
  const fn = {} as Record<string, unknown>;
  for (const [name, [index, def]] of Object.entries(TABLE)) {
    const pointer = new Deno.UnsafeFnPointer(table.getPointer(index * 8)!, def as Fn);
    fn[name] = pointer.call.bind(pointer);
  }
  const fns = fn as OrtFunctions;
  const encoder = new TextEncoder();
  opened = {
    version,
    fn: fns,
    check(status, what) {
      if (status === null) return;
      const message = Deno.UnsafePointerView.getCString(fns.GetErrorMessage(status)!);
      fns.ReleaseStatus(status);
      throw new Error(`${what}: ${message}`);
    },
    cstr: (s) => encoder.encode(`${s}\0`) as Uint8Array<ArrayBuffer>,
    out: (cell) => Deno.UnsafePointer.create(cell[0]),
  };
  return opened;
}

function libName(): string {
  if (Deno.build.os === "darwin") return "libonnxruntime.1.dylib";
  if (Deno.build.os === "windows") return "onnxruntime.dll";
  return "libonnxruntime.so.1";
}

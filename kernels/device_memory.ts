/**
 * Raw memory that bound sessions keep values in: CUDA device memory through
 * the CUDA runtime (`libcudart`, the one ONNX Runtime's CUDA provider links),
 * or host memory from libc. The host kind runs the very same bound-session
 * code on the CPU provider, so that code is tested on machines without a GPU.
 *
 * @module
 */

import type { OrtCApi } from "./ort_capi.ts";

/** Where a {@linkcode DeviceMemory} allocates. */
export type MemoryKind = "cuda" | "host";

/** Allocation, copies and the ONNX Runtime memory description of one memory. */
export interface DeviceMemory {
  readonly kind: MemoryKind;
  /** `OrtMemoryInfo` for values whose data lives in this memory. */
  readonly memoryInfo: Deno.PointerValue;
  alloc(bytes: number): Deno.PointerValue;
  free(pointer: Deno.PointerValue): void;
  /** Host array -> memory. */
  upload(dst: Deno.PointerValue, src: ArrayBufferView<ArrayBuffer>): void;
  /** Memory -> host array (waits for work in flight on the device first). */
  download(src: Deno.PointerValue, dst: ArrayBufferView<ArrayBuffer>): void;
  /** Memory -> memory, `bytes` long. */
  copy(dst: Deno.PointerValue, src: Deno.PointerValue, bytes: number): void;
  /** Bytes in use on the device (all processes), or 0 where that cannot be told. */
  used(): number;
}

function bytesOf(view: ArrayBufferView<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function memoryInfoOf(api: OrtCApi, kind: MemoryKind): Deno.PointerValue {
  const out = new BigUint64Array(1);
  // OrtDeviceAllocator = 0, OrtMemTypeDefault = 0: the data is ours, ORT only reads the location.
  if (kind === "host") api.check(api.fn.CreateCpuMemoryInfo(0, 0, out), "CreateCpuMemoryInfo");
  else api.check(api.fn.CreateMemoryInfo(api.cstr("Cuda"), 0, 0, 0, out), "CreateMemoryInfo");
  return api.out(out);
}

/** Host memory from libc: the stand-in for a device in tests. */
export function hostMemory(api: OrtCApi): DeviceMemory {
  const libc = Deno.dlopen(Deno.build.os === "darwin" ? "libc.dylib" : "libc.so.6", {
    malloc: { parameters: ["usize"], result: "pointer" },
    free: { parameters: ["pointer"], result: "void" },
    memcpy: { parameters: ["pointer", "pointer", "usize"], result: "pointer" },
  }).symbols;
  return {
    kind: "host",
    memoryInfo: memoryInfoOf(api, "host"),
    alloc(bytes) {
      const p = libc.malloc(BigInt(Math.max(bytes, 1)));
      if (!p) throw new RangeError(`Cannot allocate ${bytes} bytes of host memory`);
      return p;
    },
    free: (p) => libc.free(p),
    upload: (dst, src) => void libc.memcpy(dst, Deno.UnsafePointer.of(src), BigInt(src.byteLength)),
    download(src, dst) {
      if (dst.byteLength) new Deno.UnsafePointerView(src!).copyInto(bytesOf(dst));
    },
    copy: (dst, src, bytes) => void libc.memcpy(dst, src, BigInt(bytes)),
    used: () => 0,
  };
}

const CUDA_MEMCPY = { hostToDevice: 1, deviceToHost: 2, deviceToDevice: 3 } as const;

/**
 * CUDA memory of device 0 through `libcudart` (`soname` or a path; the
 * provider setup preloads it, so the soname finds the same library).
 */
export function cudaMemory(api: OrtCApi, cudart = "libcudart.so.13"): DeviceMemory {
  const rt = Deno.dlopen(cudart, {
    cudaMalloc: { parameters: ["buffer", "usize"], result: "i32" },
    cudaFree: { parameters: ["pointer"], result: "i32" },
    cudaMemcpy: { parameters: ["pointer", "pointer", "usize", "i32"], result: "i32" },
    cudaDeviceSynchronize: { parameters: [], result: "i32" },
    cudaMemGetInfo: { parameters: ["buffer", "buffer"], result: "i32" },
    cudaGetErrorString: { parameters: ["i32"], result: "pointer" },
  }).symbols;
  const check = (code: number, what: string) => {
    if (code === 0) return;
    const message = Deno.UnsafePointerView.getCString(rt.cudaGetErrorString(code)!);
    throw new Error(`CUDA ${what} failed (error ${code}): ${message}`);
  };
  const memcpy = (dst: Deno.PointerValue, src: Deno.PointerValue, n: number, kind: number) => {
    if (n === 0) return;
    // ORT's streams may still be writing: copies wait for the device as a whole.
    check(rt.cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    check(rt.cudaMemcpy(dst, src, BigInt(n), kind), "cudaMemcpy");
  };
  return {
    kind: "cuda",
    memoryInfo: memoryInfoOf(api, "cuda"),
    alloc(bytes) {
      const out = new BigUint64Array(1);
      check(rt.cudaMalloc(out, BigInt(Math.max(bytes, 4))), `cudaMalloc of ${bytes} bytes`);
      return Deno.UnsafePointer.create(out[0]);
    },
    free: (p) => check(rt.cudaFree(p), "cudaFree"),
    upload: (dst, src) =>
      memcpy(dst, Deno.UnsafePointer.of(src), src.byteLength, CUDA_MEMCPY.hostToDevice),
    download: (src, dst) =>
      memcpy(Deno.UnsafePointer.of(dst), src, dst.byteLength, CUDA_MEMCPY.deviceToHost),
    copy: (dst, src, bytes) => memcpy(dst, src, bytes, CUDA_MEMCPY.deviceToDevice),
    used() {
      const free = new BigUint64Array(1);
      const total = new BigUint64Array(1);
      check(rt.cudaMemGetInfo(free, total), "cudaMemGetInfo");
      return Number(total[0] - free[0]);
    },
  };
}

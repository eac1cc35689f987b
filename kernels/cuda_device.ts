/**
 * What the NVIDIA driver says about the GPU, through `libcuda.so.1` (the
 * driver API needs no toolkit): name, compute capability and driver version,
 * for `setup cuda`'s report, the bundle's architecture and result records.
 *
 * @module
 */

/** One GPU, as the driver describes it. */
export interface GpuInfo {
  readonly name: string;
  /** e.g. "sm_90" */
  readonly arch: string;
  /** e.g. "13.0" (the newest CUDA the driver runs) */
  readonly driverCuda: string;
  readonly memoryBytes: number;
}

// CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR / _MINOR
const CC_MAJOR = 75, CC_MINOR = 76;

/**
 * The first GPU, or a reason why there is none (no driver, no device).
 *
 * @example
 * ```ts
 * import { gpuInfo } from "./cuda_device.ts";
 * const gpu = gpuInfo();
 * console.log("name" in gpu ? gpu.name : gpu.reason);
 * ```
 */
export function gpuInfo(libcuda = "libcuda.so.1"): GpuInfo | { reason: string } {
  let lib;
  try {
    lib = Deno.dlopen(libcuda, {
      cuInit: { parameters: ["u32"], result: "i32" },
      cuDriverGetVersion: { parameters: ["buffer"], result: "i32" },
      cuDeviceGetCount: { parameters: ["buffer"], result: "i32" },
      cuDeviceGet: { parameters: ["buffer", "i32"], result: "i32" },
      cuDeviceGetName: { parameters: ["buffer", "i32", "i32"], result: "i32" },
      cuDeviceGetAttribute: { parameters: ["buffer", "i32", "i32"], result: "i32" },
      cuDeviceTotalMem_v2: { parameters: ["buffer", "i32"], result: "i32" },
    }).symbols;
  } catch (e) {
    return { reason: `no NVIDIA driver (${libcuda}: ${(e as Error).message.split("\n")[0]})` };
  }
  const cell = new Int32Array(1);
  const init = lib.cuInit(0);
  if (init !== 0) return { reason: `the NVIDIA driver found no usable GPU (cuInit error ${init})` };
  lib.cuDeviceGetCount(cell);
  if (cell[0] < 1) return { reason: "the NVIDIA driver reports no GPU" };
  lib.cuDeviceGet(cell, 0);
  const device = cell[0];
  const name = new Uint8Array(256);
  lib.cuDeviceGetName(name, name.length, device);
  const major = new Int32Array(1), minor = new Int32Array(1), version = new Int32Array(1);
  lib.cuDeviceGetAttribute(major, CC_MAJOR, device);
  lib.cuDeviceGetAttribute(minor, CC_MINOR, device);
  lib.cuDriverGetVersion(version);
  const total = new BigUint64Array(1);
  lib.cuDeviceTotalMem_v2(total, device);
  return {
    name: new TextDecoder().decode(name.subarray(0, name.indexOf(0))),
    arch: `sm_${major[0]}${minor[0]}`,
    driverCuda: `${Math.floor(version[0] / 1000)}.${(version[0] % 1000) / 10}`,
    memoryBytes: Number(total[0]),
  };
}

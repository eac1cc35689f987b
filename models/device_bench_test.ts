import assert from "node:assert/strict";
import { parseDeviceBenchArgs } from "./device_bench.ts";

Deno.test("parseDeviceBenchArgs() defaults to webgpu at the paper size and reads every flag", () => {
  assert.deepEqual(parseDeviceBenchArgs([]), {
    device: "webgpu",
    size: "paper",
    threads: 2,
    iters: 5,
    json: false,
  });
  assert.deepEqual(
    parseDeviceBenchArgs([
      "--device",
      "cuda",
      "--size",
      "cpu",
      "--threads",
      "16",
      "--iters",
      "2",
      "--json",
    ]),
    { device: "cuda", size: "cpu", threads: 16, iters: 2, json: true },
  );
});

Deno.test("parseDeviceBenchArgs() names a bad value and the usage", () => {
  assert.throws(
    () => parseDeviceBenchArgs(["--device", "cpu"]),
    /--device webgpu or cuda but found "cpu"\. Usage:/,
  );
  assert.throws(
    () => parseDeviceBenchArgs(["--size", "t5-small"]),
    /--size tiny, cpu or paper but found "t5-small"/,
  );
  assert.throws(
    () => parseDeviceBenchArgs(["--threads", "0"]),
    /--threads to be a positive integer but found "0"/,
  );
  assert.throws(() => parseDeviceBenchArgs(["--iters", "1.5"]), /--iters to be a positive integer/);
  assert.throws(() => parseDeviceBenchArgs(["--gpu"]), /Unknown option '--gpu'/);
});

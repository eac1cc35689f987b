/**
 * A worker thread of the sparse engine: it shares the engine's WebAssembly
 * heap, sleeps on the control block's generation word, runs its row range of
 * each op and counts itself done. It never returns to its event loop after
 * the first message, which is why the engine stops it with `terminate()`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { instantiateKernels } from "./_spmm_wasm.ts";
import { OP_EXIT, runPart } from "./_spmm_engine.ts";

interface Start {
  memory: WebAssembly.Memory;
  index: number;
  maxPages: number;
}

self.onmessage = (e: MessageEvent<Start>) => {
  const { memory, index, maxPages } = e.data;
  const kernels = instantiateKernels(memory, true, maxPages);
  // The control block sits at byte 0 and never moves when the heap grows.
  const ctl = new Int32Array(memory.buffer, 0, 64);
  let gen = Atomics.load(ctl, 0);
  self.postMessage("ready");
  for (;;) {
    Atomics.wait(ctl, 0, gen);
    gen = Atomics.load(ctl, 0);
    const op = ctl[2];
    if (op === OP_EXIT) return;
    const d = ctl[8];
    runPart(kernels, op, ctl.subarray(3, 13), ctl[16 + 2 * index], ctl[17 + 2 * index], d);
    Atomics.add(ctl, 1, 1);
    Atomics.notify(ctl, 1);
  }
};

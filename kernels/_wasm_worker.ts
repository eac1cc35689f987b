/**
 * A worker thread of the engine's heap: it shares the heap's WebAssembly
 * memory, sleeps on the control block's generation word, runs its range of
 * each op and counts itself done. It never returns to its event loop after
 * the first message, which is why the heap stops it with `terminate()`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { instantiateKernels } from "./_wasm_kernels.ts";
import { CTL_ARGS, CTL_RANGES, OP_EXIT, runPart } from "./_wasm_heap.ts";

interface Start {
  memory: WebAssembly.Memory;
  index: number;
  maxPages: number;
}

self.onmessage = (e: MessageEvent<Start>) => {
  const { memory, index, maxPages } = e.data;
  const kernels = instantiateKernels(memory, maxPages);
  // The control block sits at byte 0 and never moves when the heap grows.
  const ctl = new Int32Array(memory.buffer, 0, CTL_RANGES + 2 * (index + 1));
  const args = ctl.subarray(CTL_ARGS, CTL_RANGES);
  let gen = Atomics.load(ctl, 0);
  self.postMessage("ready");
  for (;;) {
    Atomics.wait(ctl, 0, gen);
    gen = Atomics.load(ctl, 0);
    const op = ctl[2];
    if (op === OP_EXIT) return;
    runPart(kernels, op, args, ctl[CTL_RANGES + 2 * index], ctl[CTL_RANGES + 2 * index + 1]);
    Atomics.add(ctl, 1, 1);
    Atomics.notify(ctl, 1);
  }
};

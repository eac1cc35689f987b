/**
 * The engine's WebAssembly module: the propagation kernel
 * (`_spmm_wasm.ts`), the optimizer kernels (`_adam_wasm.ts`) and the row
 * gathers and scatters (`_rows_wasm.ts`) in one
 * module over one shared memory, compiled once per process and instantiated
 * by the caller's thread and by each worker.
 *
 * @module
 */

import { ADAM_FUNCTIONS, type AdamKernels } from "./_adam_wasm.ts";
import { ROWS_FUNCTIONS, type RowsKernels } from "./_rows_wasm.ts";
import { SPMM_FUNCTIONS, type SpmmKernels } from "./_spmm_wasm.ts";
import { emitModule } from "./_wasm_emit.ts";

/** Every kernel of the module. */
export type Kernels = SpmmKernels & AdamKernels & RowsKernels;

const modules = new Map<number, WebAssembly.Module>();

/** Compiles the module once per `maxPages` and instantiates it over the shared `memory`. */
export function instantiateKernels(memory: WebAssembly.Memory, maxPages: number): Kernels {
  let mod = modules.get(maxPages);
  if (mod === undefined) {
    mod = new WebAssembly.Module(
      emitModule([...SPMM_FUNCTIONS, ...ADAM_FUNCTIONS, ...ROWS_FUNCTIONS], true, maxPages),
    );
    modules.set(maxPages, mod);
  }
  return new WebAssembly.Instance(mod, { env: { mem: memory } }).exports as unknown as Kernels;
}

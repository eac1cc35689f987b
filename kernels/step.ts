/**
 * Compiled steps over a {@linkcode ParamStore}: a train step (forward,
 * backward and optimizer update in one ONNX Runtime session), an
 * inference step reading the same store, and an optimizer-only update for
 * params whose gradients come from outside the session.
 *
 * @module
 */

import type { Rng } from "./rng.ts";
import { gradients } from "./autodiff.ts";
import { Graph, type HostArray, type Tensor } from "./graph.ts";
import { exportOnnx, type OnnxModel, prune } from "./onnx_export.ts";
import { adamw, LR_INPUT, type Optimizer } from "./optim.ts";
import type { ParamStore } from "./param_store.ts";
import type { HostTensor, RuntimeOptions } from "./runtime.ts";
import { openStepRunner } from "./step_runner.ts";

/** Output name of the updated value of a param or state `name`. */
const nextName = (name: string) => `next/${name}`;
/** Output name of the gradient of an external input `name`. */
export const gradName = (name: string): string => `grad/${name}`;

/** Feeds of a run: host tensors, or plain typed arrays (shape taken from the graph). */
export type Feeds = Readonly<Record<string, HostTensor | HostArray>>;

/** Per-run options. */
export interface RunOptions {
  /** Learning rate for this run. @default the optimizer's `lr` */
  lr?: number;
  /** Draws this run's random inputs. @default the step's `rng` option */
  rng?: Rng;
}

/** What one train step returns. */
export interface StepResult {
  readonly loss: number;
  /** The requested extra outputs. */
  readonly outputs: Record<string, HostTensor>;
  /** d loss / d each `wrt` input, by input name. */
  readonly grads: Record<string, HostTensor>;
}

/** Options of {@linkcode compileTrainStep}. */
export interface TrainStepOptions extends RuntimeOptions {
  /** @default adamw({ lr: 1e-3 }) */
  optimizer?: Optimizer;
  /** Params to train. @default every param the loss depends on */
  params?: readonly Tensor[];
  /** Float inputs whose gradients the step also returns (an external boundary). @default none */
  wrt?: readonly (Tensor | string)[];
  /** Extra outputs to fetch, by name. @default none */
  outputs?: Readonly<Record<string, Tensor>>;
  /** Draws the graph's random inputs (dropout masks); required when it has any. */
  rng?: Rng;
}

/** A compiled train step. */
export interface TrainStep {
  readonly model: OnnxModel;
  /** Forward, backward and update; writes new params and state into the store. */
  run(feeds: Feeds, options?: RunOptions): Promise<StepResult>;
  /** Ends ORT's profiling (asked with the `profile` option) and returns its trace file. */
  endProfiling(): string | undefined;
}

function shapeOf(model: OnnxModel, name: string): readonly number[] {
  return model.inputs.find((v) => v.name === name)!.shape;
}

/**
 * Builds the session feed record: user feeds, lr and random draws, and the
 * stored values unless the runner binds them from device memory.
 */
function assemble(
  graph: Graph,
  model: OnnxModel,
  store: ParamStore,
  feeds: Feeds,
  extra: Record<string, HostTensor>,
  rng: Rng | undefined,
  feedsStored: boolean,
): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = { ...extra };
  for (const { name, shape } of model.inputs) {
    if (name in out) continue;
    const f = feeds[name];
    if (f) {
      out[name] = ArrayBuffer.isView(f) ? { data: f as HostArray, shape } : f as HostTensor;
      continue;
    }
    if (store.has(name)) {
      if (feedsStored) out[name] = store.get(name)!;
      continue;
    }
    const draw = graph.random.get(name);
    if (draw) {
      if (!rng) {
        throw new TypeError(`Expected an rng option to draw random input "${name}" but found none`);
      }
      out[name] = { data: draw(rng), shape };
      continue;
    }
    throw new TypeError(`Expected a feed or stored value for "${name}" but found neither`);
  }
  return out;
}

function lrFeed(lr: number): HostTensor {
  return { data: new Float32Array([lr]), shape: [] };
}

/** Declares an optimizer's per-param state as inputs and zero-fills missing ones in the store. */
function updateNodes(
  g: Graph,
  store: ParamStore,
  optimizer: Optimizer,
  pairs: readonly [Tensor, Tensor][],
  lr: Tensor,
): Record<string, Tensor> {
  const outputs: Record<string, Tensor> = {};
  for (const [p, grad] of pairs) {
    const specs = optimizer.state(p.name, p.shape);
    const state = specs.map((s) => {
      if (!store.has(s.name)) {
        store.set(
          s.name,
          new Float32Array(s.shape.reduce((a, d) => a * d, 1)),
          s.shape,
        );
      }
      return g.byName(s.name) ?? g.input(s.name, "float32", s.shape);
    });
    const next = optimizer.update(p, grad, state, lr);
    outputs[nextName(p.name)] = next.param;
    specs.forEach((s, i) => (outputs[nextName(s.name)] = next.state[i]));
  }
  return outputs;
}

function writeBack(store: ParamStore, results: Record<string, HostTensor>): void {
  for (const [key, t] of Object.entries(results)) {
    // Adopt ORT's output arrays: the old arrays are dropped, nothing is copied.
    if (key.startsWith("next/")) store.set(key.slice(5), t.data as Float32Array, t.shape);
  }
}

/**
 * Compiles forward + backward + optimizer update of `loss` into one session.
 * Params must already be in the store (see {@linkcode ParamStore.init});
 * optimizer state starts at zero.
 *
 * @example
 * ```ts
 * import { createRng } from "./rng.ts";
 * import { Graph } from "./graph.ts";
 * import { adamw } from "./optim.ts";
 * import { ParamStore } from "./param_store.ts";
 * import { compileTrainStep } from "./step.ts";
 * const g = new Graph();
 * const x = g.input("x", "float32", [4, 2]);
 * const w = g.param("w", [2, 1]);
 * const loss = g.reduceMean(g.mul(g.matMul(x, w), g.matMul(x, w)), undefined, false);
 * const store = new ParamStore();
 * store.init(g, createRng(0));
 * const step = await compileTrainStep(loss, store, { optimizer: adamw({ lr: 0.1 }) });
 * const { loss: value } = await step.run({ x: new Float32Array(8).fill(1) });
 * ```
 */
export async function compileTrainStep(
  loss: Tensor,
  store: ParamStore,
  options: TrainStepOptions = {},
): Promise<TrainStep> {
  const g = loss.graph;
  const optimizer = options.optimizer ?? adamw({ lr: 1e-3 });
  const wrt = (options.wrt ?? []).map((t) => {
    const found = typeof t === "string" ? g.byName(t) : t;
    if (!found || found.kind !== "input") {
      throw new TypeError(
        `Expected wrt to name an input of the graph but found "${
          typeof t === "string" ? t : t.name
        }"`,
      );
    }
    return found;
  });
  const params = options.params ?? prune([loss]).leaves.filter((t) => t.kind === "param");
  const missing = params.filter((p) => !store.has(p.name)).map((p) => p.name);
  if (missing.length) {
    throw new TypeError(
      `Expected stored values for params but found none for ${missing.join(", ")}`,
    );
  }
  const grads = gradients(loss, [...params, ...wrt]);
  const lr = g.byName(LR_INPUT) ?? g.input(LR_INPUT, "float32", []);
  const outputs: Record<string, Tensor> = { loss, ...options.outputs };
  wrt.forEach((t, i) => (outputs[gradName(t.name)] = grads[params.length + i]));
  Object.assign(outputs, updateNodes(g, store, optimizer, params.map((p, i) => [p, grads[i]]), lr));
  const model = exportOnnx(outputs);
  const session = await openStepRunner(model, store, options);
  const extraNames = Object.keys(options.outputs ?? {});
  return {
    model,
    endProfiling: () => session.endProfiling(),
    async run(feeds, runOptions = {}) {
      const all = assemble(
        g,
        model,
        store,
        feeds,
        {
          [LR_INPUT]: lrFeed(runOptions.lr ?? optimizer.lr),
        },
        runOptions.rng ?? options.rng,
        session.feedsStored,
      );
      const results = await session.run(all);
      writeBack(store, results);
      const picked: Record<string, HostTensor> = {};
      for (const k of extraNames) picked[k] = results[k];
      const gradsOut: Record<string, HostTensor> = {};
      for (const t of wrt) gradsOut[t.name] = results[gradName(t.name)];
      return { loss: Number(results.loss.data[0]), outputs: picked, grads: gradsOut };
    },
  };
}

/** Options of {@linkcode compileInference}. */
export interface InferenceOptions extends RuntimeOptions {
  /** Draws random inputs, if the graph has any. @default none */
  rng?: Rng;
}

/** A compiled forward pass over a store. */
export interface Inference {
  readonly model: OnnxModel;
  /** Runs with the store's current values; feeds may also override params by name. */
  run(feeds: Feeds): Promise<Record<string, HostTensor>>;
}

/**
 * Compiles a forward-only session whose params are inputs read from `store`
 * on every run, so it sees each train step's updates without recompiling.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { ParamStore } from "./param_store.ts";
 * import { compileInference } from "./step.ts";
 * const g = new Graph();
 * const x = g.input("x", "float32", [1, 2]);
 * const w = g.param("w", [2, 2]);
 * const store = new ParamStore();
 * store.set("w", new Float32Array([1, 0, 0, 1]), [2, 2]);
 * const infer = await compileInference({ y: g.matMul(x, w) }, store);
 * const { y } = await infer.run({ x: new Float32Array([3, 4]) });
 * ```
 */
export async function compileInference(
  outputs: Readonly<Record<string, Tensor>>,
  store: ParamStore,
  options: InferenceOptions = {},
): Promise<Inference> {
  const first = Object.values(outputs)[0];
  if (!first) throw new TypeError("Expected at least one output but found none");
  const model = exportOnnx({ ...outputs });
  const session = await openStepRunner(model, store, {
    ...options,
    memoryPattern: options.memoryPattern ?? false,
  });
  return {
    model,
    run: (feeds) =>
      session.run(
        assemble(first.graph, model, store, feeds, {}, options.rng, session.feedsStored),
      ),
  };
}

/** Options of {@linkcode compileUpdate}. */
export interface UpdateOptions extends RuntimeOptions {
  /** @default adamw({ lr: 1e-3 }) */
  optimizer?: Optimizer;
}

/** A compiled optimizer-only update. */
export interface Update {
  readonly model: OnnxModel;
  /** Applies one update from gradients given by param name. */
  run(
    grads: Readonly<Record<string, HostTensor | Float32Array>>,
    options?: RunOptions,
  ): Promise<void>;
}

/**
 * Compiles an optimizer update for stored params whose gradients are
 * computed outside a session (e.g. through a sparse JS kernel).
 *
 * @example
 * ```ts
 * import { ParamStore } from "./param_store.ts";
 * import { compileUpdate } from "./step.ts";
 * const store = new ParamStore();
 * store.set("emb", new Float32Array(4), [2, 2]);
 * const update = await compileUpdate(["emb"], store);
 * await update.run({ emb: new Float32Array([1, 1, 1, 1]) });
 * ```
 */
export async function compileUpdate(
  params: readonly string[],
  store: ParamStore,
  options: UpdateOptions = {},
): Promise<Update> {
  const optimizer = options.optimizer ?? adamw({ lr: 1e-3 });
  const g = new Graph();
  const pairs: [Tensor, Tensor][] = params.map((name) => {
    const entry = store.get(name);
    if (!entry) throw new TypeError(`Expected a stored value for "${name}" but found none`);
    return [g.param(name, entry.shape), g.input(gradName(name), "float32", entry.shape)];
  });
  const lr = g.input(LR_INPUT, "float32", []);
  const model = exportOnnx(updateNodes(g, store, optimizer, pairs, lr));
  const session = await openStepRunner(model, store, options);
  return {
    model,
    async run(grads, runOptions = {}) {
      const extra: Record<string, HostTensor> = {
        [LR_INPUT]: lrFeed(runOptions.lr ?? optimizer.lr),
      };
      for (const name of params) {
        const d = grads[name];
        if (!d) throw new TypeError(`Expected a gradient for "${name}" but found none`);
        extra[gradName(name)] = d instanceof Float32Array
          ? { data: d, shape: shapeOf(model, gradName(name)) }
          : d;
      }
      writeBack(
        store,
        await session.run(assemble(g, model, store, {}, extra, undefined, session.feedsStored)),
      );
    },
  };
}

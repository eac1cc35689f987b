/**
 * ELMRec's whole-word vectors (methods.md, section 4), kept outside the T5
 * graph and fed through its `extra_embeds` hook:
 *
 * - graph-aware: a table `E0` of `(U + I + 1) x d_model` values drawn from
 *   N(0, sigma^2), propagated over `Â` at every forward pass,
 *   `P = mean(E0, Â E0, ..., Â^L E0)`; every token gets `alpha * P[node]`
 *   (the id's node for all its sub-tokens, `user`/`item` and `_` included;
 *   node 0 elsewhere);
 * - incremental: a learned table `W` (`wholeWordRows x d_model`, N(0, 1));
 *   the ids of a prompt get indices by order of appearance (user = 1, items
 *   2, 3, ...; other tokens 0) and every token gets `alpha * W[index]`.
 *
 * Backward: `dLoss/d extra_embeds` is scattered (times alpha) into the rows
 * of the table it came from; for `E0` it then goes back through the layer
 * mean (`propagateMeanBackward`), and an AdamW update session
 * (`compileUpdate`) applies it. A table is only updated after a batch whose
 * task uses it, as PyTorch skips params without gradients.
 *
 * @module
 */

import {
  adamw,
  compileUpdate,
  type CsrMatrix,
  type Device,
  normal,
  type ParamStore,
  propagateMean,
  propagateMeanBackward,
  type Rng,
  row,
  type Update,
} from "../kernels/mod.ts";
import type { Split, Task } from "../harness/types.ts";
import { normalizedAdjacency } from "./interaction_graph.ts";

/** Which whole-word vectors a task's prompts get. */
export type WholeWordScheme = "graph" | "incremental" | "none";
/** The schemes, for config checks. */
export const WHOLE_WORD_SCHEMES: readonly WholeWordScheme[] = ["graph", "incremental", "none"];

/** Store name of the graph table `E0`. */
export const GRAPH_TABLE = "graph_embeddings.weight";
/** Store name of the incremental table (POD's name, so checkpoints read alike). */
export const INCREMENTAL_TABLE = "whole_word_embeddings.weight";

/** The sparse products the tables need (the default engine or a threaded one). */
export interface Propagator {
  mean(a: CsrMatrix, x0: Float32Array, layers: number): Float32Array;
  back(a: CsrMatrix, g: Float32Array, layers: number): Float32Array;
}

/** Sparse products on the calling thread. */
export const LOCAL_PROPAGATOR: Propagator = {
  mean: (a, x0, layers) => propagateMean(a, x0, { layers }),
  back: (a, g, layers) => propagateMeanBackward(a, g, { layers }),
};

/** The part of an encoded batch the tables read. */
export interface TokenBatch {
  readonly rows: number;
  readonly inputIds: BigInt64Array;
  /** Node of each token (user u -> u, item i -> nUsers + i, else 0). */
  readonly nodes: Int32Array;
}

/**
 * Incremental whole-word indices of a batch: per row, the ids in order of
 * appearance get 1, 2, 3, ... on every one of their sub-tokens; other tokens
 * 0. A new id word starts where the node changes or at a `user`/`item`
 * token (`startTokens`), so a repeated id still counts twice. Indices are
 * clipped to `maxIndex`.
 *
 * @example
 * ```ts
 * import { incrementalIndices } from "./elmrec_embeddings.ts";
 * // tokens: user _ 5 item _ 7 , item _ 9 </s>
 * const ids = BigInt64Array.from([10, 3, 5, 11, 3, 7, 12, 11, 3, 9, 1], BigInt);
 * const nodes = Int32Array.of(5, 5, 5, 17, 17, 17, 0, 19, 19, 19, 0);
 * console.log(incrementalIndices({ rows: 1, inputIds: ids, nodes }, new Set([10, 11])));
 * // Int32Array [1, 1, 1, 2, 2, 2, 0, 3, 3, 3, 0]
 * ```
 */
export function incrementalIndices(
  batch: TokenBatch,
  startTokens: ReadonlySet<number>,
  maxIndex = Infinity,
): Int32Array {
  const { rows, inputIds, nodes } = batch;
  const t = nodes.length / rows;
  const out = new Int32Array(nodes.length);
  for (let r = 0; r < rows; r++) {
    let count = 0, prev = 0;
    for (let i = r * t; i < (r + 1) * t; i++) {
      const node = nodes[i];
      if (node !== 0 && (node !== prev || startTokens.has(Number(inputIds[i])))) count++;
      out[i] = node === 0 ? 0 : Math.min(count, maxIndex);
      prev = node;
    }
  }
  return out;
}

/** `out[k] = alpha * table[index[k]]` for every token `k` (rows of width `d`). */
export function gatherRows(
  table: Float32Array,
  index: Int32Array,
  alpha: number,
  d: number,
): Float32Array {
  const out = new Float32Array(index.length * d);
  for (let k = 0; k < index.length; k++) {
    const src = index[k] * d, dst = k * d;
    for (let j = 0; j < d; j++) out[dst + j] = alpha * table[src + j];
  }
  return out;
}

/** Backward of {@linkcode gatherRows}: `grad[index[k]] += alpha * dOut[k]` into `nRows x d`. */
export function scatterRows(
  dOut: Float32Array,
  index: Int32Array,
  alpha: number,
  nRows: number,
  d: number,
): Float32Array {
  const grad = new Float32Array(nRows * d);
  for (let k = 0; k < index.length; k++) {
    const dst = index[k] * d, src = k * d;
    for (let j = 0; j < d; j++) grad[dst + j] += alpha * dOut[src + j];
  }
  return grad;
}

/**
 * The gradient of `E0` from `dLoss/d extra_embeds` of a graph-aware batch:
 * scatter (times alpha) into node rows, then back through the layer mean.
 */
export function graphGradient(
  a: CsrMatrix,
  layers: number,
  nodes: Int32Array,
  dExtra: Float32Array,
  alpha: number,
  d: number,
  propagator: Propagator = LOCAL_PROPAGATOR,
): Float32Array {
  return propagator.back(a, scatterRows(dExtra, nodes, alpha, a.nRows, d), layers);
}

/**
 * The interaction graph ELMRec propagates over. `train`: the training split
 * only (the default; methods.md, section 1). `leaky`: a seeded random
 * `fraction` of ALL interactions, validation and test items included, which
 * is what the released code's random 80% review split amounts to.
 */
export function elmrecGraph(
  split: Split,
  edges: "train" | "leaky",
  rng: Rng,
  fraction = 0.8,
): CsrMatrix {
  if (edges === "train") {
    return normalizedAdjacency(split.nUsers, split.nItems, split.train);
  }
  if (!(fraction > 0 && fraction <= 1)) {
    throw new RangeError(`Expected leakyFraction in (0, 1] but found ${fraction}`);
  }
  const seqs = split.dataset.sequences;
  const offsets = new Uint32Array(split.nUsers + 1);
  const values: number[] = [];
  for (let u = 0; u < split.nUsers; u++) {
    for (const item of row(seqs, u)) if (rng.next() < fraction) values.push(item);
    offsets[u + 1] = values.length;
  }
  return normalizedAdjacency(split.nUsers, split.nItems, {
    offsets,
    values: Int32Array.from(values),
  });
}

/** Options of {@linkcode ElmrecTables}. */
export interface ElmrecTablesOptions {
  /** `Â` (`(U + I + 1)` square). */
  readonly graph: CsrMatrix;
  readonly layers: number;
  readonly dModel: number;
  /** Rows of the incremental table. */
  readonly wholeWordRows: number;
  readonly scheme: Readonly<Record<Task, WholeWordScheme>>;
  readonly alpha: Readonly<Record<Task, number>>;
  /** Token ids that start an id word (`user`, `item`). */
  readonly startTokens: ReadonlySet<number>;
  readonly lr: number;
  readonly weightDecay: number;
  readonly threads: number;
  /** Execution provider of the table updates. @default "cpu" */
  readonly device?: Device;
}

/** ELMRec's two tables over a {@linkcode ParamStore}: feeds forward, gradients back. */
export class ElmrecTables {
  readonly options: ElmrecTablesOptions;
  readonly store: ParamStore;
  /** Swappable (a threaded engine while training, the local one afterwards). */
  propagator: Propagator = LOCAL_PROPAGATOR;
  #propagated?: { of: Float32Array; p: Float32Array };
  readonly #updates = new Map<string, Update>();
  /** Updates applied per table (recorded in the result's info). */
  readonly updateCounts: Record<string, number> = {};

  constructor(store: ParamStore, options: ElmrecTablesOptions) {
    this.store = store;
    this.options = options;
  }

  /** Draws the tables that are not stored yet: `E0` from N(0, sigma^2), `W` from N(0, 1). */
  init(sigma: number, graphRng: Rng, incrementalRng: Rng): void {
    const { graph, dModel: d, wholeWordRows } = this.options;
    const uses = (s: WholeWordScheme) => Object.values(this.options.scheme).includes(s);
    if (uses("graph") && !this.store.has(GRAPH_TABLE)) {
      const shape = [graph.nRows, d];
      const data = sigma === 0 ? new Float32Array(graph.nRows * d) : normal({ std: sigma })(
        graphRng,
        shape,
      );
      this.store.set(GRAPH_TABLE, data, shape);
    }
    if (uses("incremental") && !this.store.has(INCREMENTAL_TABLE)) {
      const shape = [wholeWordRows, d];
      this.store.set(INCREMENTAL_TABLE, normal({ std: 1 })(incrementalRng, shape), shape);
    }
  }

  /** `P = mean_l Â^l E0`, recomputed whenever `E0` was replaced (every update). */
  propagated(): Float32Array {
    const e0 = this.store.get(GRAPH_TABLE)!.data;
    if (this.#propagated?.of !== e0) {
      const p = this.propagator.mean(this.options.graph, e0, this.options.layers);
      this.#propagated = { of: e0, p };
    }
    return this.#propagated.p;
  }

  #index(task: Task, batch: TokenBatch): Int32Array {
    return this.options.scheme[task] === "graph"
      ? batch.nodes
      : incrementalIndices(batch, this.options.startTokens, this.options.wholeWordRows - 1);
  }

  /** `extra_embeds` of a batch, `rows x T x d_model`. */
  extra(task: Task, batch: TokenBatch): Float32Array {
    const scheme = this.options.scheme[task];
    const d = this.options.dModel;
    if (scheme === "none") return new Float32Array(batch.nodes.length * d);
    const table = scheme === "graph" ? this.propagated() : this.store.get(INCREMENTAL_TABLE)!.data;
    return gatherRows(table, this.#index(task, batch), this.options.alpha[task], d);
  }

  /** Applies `dLoss/d extra_embeds` of a train step to the table the task used. */
  async backward(task: Task, batch: TokenBatch, dExtra: Float32Array): Promise<void> {
    const scheme = this.options.scheme[task];
    if (scheme === "none") return;
    const { graph, layers, dModel: d, alpha, wholeWordRows } = this.options;
    const index = this.#index(task, batch);
    const name = scheme === "graph" ? GRAPH_TABLE : INCREMENTAL_TABLE;
    const grad = scheme === "graph"
      ? graphGradient(graph, layers, index, dExtra, alpha[task], d, this.propagator)
      : scatterRows(dExtra, index, alpha[task], wholeWordRows, d);
    let update = this.#updates.get(name);
    if (!update) {
      const { lr, weightDecay, threads, device } = this.options;
      update = await compileUpdate([name], this.store, {
        optimizer: adamw({ lr, weightDecay }),
        intraOpThreads: threads,
        device,
      });
      this.#updates.set(name, update);
    }
    await update.run({ [name]: grad });
    this.updateCounts[name] = (this.updateCounts[name] ?? 0) + 1;
  }
}

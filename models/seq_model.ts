/**
 * What the sequential plugins (SASRec, BERT4Rec, GRU4Rec, Caser) share
 * around their graphs: user vectors from the visible history through a
 * compiled inference session over packed rows, scoring those vectors against
 * an item table (full ranking and candidates), copies of the parameters for
 * the best epoch, and checkpoints.
 *
 * @module
 */
import type { FitContext, Scorer, ScoreRequest } from "../harness/plugin.ts";
import type { Split } from "../harness/types.ts";
import {
  compileInference,
  type Feeds,
  type HostTensor,
  type ParamStore,
  saveCheckpoint,
  type Tensor,
} from "../kernels/mod.ts";
import { embeddingCheckpointConfig } from "./embedding_checkpoint.ts";
import { createEmbeddingScorer, vectorScorer } from "./embedding_scorer.ts";
import { type Layout, packLayouts } from "./seq_batches.ts";

/** The parameters of a store without optimizer state, copied (the best epoch's). */
export function snapshotParams(store: ParamStore): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, { data, shape }] of store.entries()) {
    if (!name.startsWith("opt.")) out.set(name, { data: data.slice(), shape });
  }
  return out;
}

/** Puts a {@linkcode snapshotParams} copy back. */
export function restoreParams(store: ParamStore, saved: Map<string, HostTensor>): void {
  for (const [name, t] of saved) store.set(name, t.data as Float32Array, t.shape);
}

/** Options of {@linkcode packedUserVectors}. */
export interface PackedVectorOptions {
  readonly rows: number;
  readonly len: number;
  /** Tokens of request entry `i` (at most `len`). */
  tokensOf(i: number): Int32Array;
  /** Runs one packed batch; returns the `[rows * len, dim]` states. */
  encode(layout: Layout, tokens: (k: number) => Int32Array): Promise<Float32Array>;
  readonly dim: number;
}

/**
 * `n x dim` user vectors: each entry's tokens packed into rows, encoded,
 * and the state at its last token taken. An entry without tokens gets zeros.
 */
export async function packedUserVectors(n: number, options: PackedVectorOptions) {
  const { rows, len, dim } = options;
  const out = new Float32Array(n * dim);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (const layout of packLayouts(order, (i) => options.tokensOf(i).length, { rows, len })) {
    const states = await options.encode(layout, (k) => options.tokensOf(layout.users[k]));
    layout.users.forEach((entry, k) => {
      const last = layout.starts[k] + layout.lengths[k] - 1;
      out.set(states.subarray(last * dim, (last + 1) * dim), entry * dim);
    });
  }
  return out;
}

/** The last `len` items of what user row `u` may see at the request's stage. */
export function recentHistory(ctx: FitContext, request: ScoreRequest, len: number) {
  return (i: number) => {
    const h = ctx.history(request.userRows[i], request.stage);
    return h.subarray(Math.max(0, h.length - len));
  };
}

/** A scorer over user vectors and the item table `items()` (`(nItems + 1) x dim`). */
export async function sequenceScorer(
  ctx: Pick<FitContext, "threads" | "device">,
  options: {
    dim: number;
    items: () => Float32Array;
    userVectors: (request: ScoreRequest) => Promise<Float32Array>;
  },
) {
  const es = await createEmbeddingScorer(options.items(), {
    dim: options.dim,
    threads: ctx.threads,
    device: ctx.device,
  });
  return {
    scorer: vectorScorer(es, options.userVectors),
    /** Re-reads the item table (after training steps replaced it). */
    refresh: () => es.setItems(options.items()),
  };
}

/**
 * What the fit loop asks of a sequence model besides its steps: a scorer
 * over the current parameters, and copies of them for the best epoch.
 */
export function bestEpochHooks(
  store: ParamStore,
  view: { readonly scorer: Scorer; refresh(): void },
) {
  return {
    scorer: () => {
      view.refresh();
      return Promise.resolve(view.scorer);
    },
    snapshot: () => snapshotParams(store),
    restore: (saved: Map<string, HostTensor>) => restoreParams(store, saved),
  };
}

/**
 * The scorer of a model whose user vector is its state at the last visible
 * item (SASRec, GRU4Rec): `states` (`[rows * len, dim]`) compiled once over
 * `store`, fed a packed batch of `rows x len` slots by `fill`, and dotted
 * with the item table `itemsName`.
 */
export async function lastStateScorer(
  ctx: FitContext,
  store: ParamStore,
  options: {
    readonly states: Tensor;
    readonly rows: number;
    readonly len: number;
    readonly dim: number;
    readonly itemsName: string;
    fill(layout: Layout, tokens: (k: number) => ArrayLike<number>): Feeds;
  },
) {
  const { rows, len, dim } = options;
  const infer = await compileInference({ states: options.states }, store, {
    intraOpThreads: ctx.threads,
    device: ctx.device,
  });
  return sequenceScorer(ctx, {
    dim,
    items: () => store.get(options.itemsName)!.data,
    userVectors: (request) =>
      packedUserVectors(request.userRows.length, {
        rows,
        len,
        dim,
        tokensOf: recentHistory(ctx, request, len),
        encode: async (layout, tokens) =>
          (await infer.run(options.fill(layout, tokens))).states.data as Float32Array,
      }),
  });
}

/** `Scorer.save` of a sequence model: the store's params and the config with the id-space sizes. */
export function saver(plugin: string, store: ParamStore, config: object, split: Split) {
  return (dir: string) =>
    saveCheckpoint(
      dir,
      store,
      embeddingCheckpointConfig(plugin, config as Record<string, unknown>, split),
    );
}

/** Info recorded by a loaded scorer, and its save. */
export function loaded(scorer: Omit<Scorer, "info" | "save">, dir: string, save: Scorer["save"]) {
  return { ...scorer, info: { loaded_from: dir }, save };
}

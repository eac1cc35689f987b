/**
 * NCL's training step on the engine, apart from its plugin (`ncl.ts`):
 * LightGCN's split step (`lightgcn.ts`) with the two contrastive losses of
 * NCL added, as RecBole computes them.
 *
 * - Structure-contrastive: each batch user's (and positive item's) state at
 *   layer `2 * hyperLayers` against its own layer-0 embedding, InfoNCE over
 *   the layer-0 embeddings of all users (all items), cosine / `sslTemp`,
 *   summed over the batch, times `sslReg` (items times `alpha`).
 * - Prototype-contrastive: each batch user's (item's) layer-0 embedding
 *   against the centroid of its k-means cluster, InfoNCE over all
 *   centroids, times the step's `protoScale` (`protoReg` after warm-up, 0
 *   before).
 *
 * JS propagates the layers over the sparse graph; one session takes the
 * batch's rows of the layer mean, of layer 0 and of the context layer,
 * plus the whole layer-0 table (every InfoNCE denominator reads it), and
 * returns the loss with the gradients of all of them; JS maps the row
 * gradients back through the graph and an update session applies Adam.
 *
 * @module
 */
import {
  adam,
  compileTrainStep,
  compileUpdate,
  type CsrMatrix,
  Graph,
  type ParamStore,
  propagateMeanBackward,
  spmm,
  spmmT,
  type Tensor,
} from "../kernels/mod.ts";
import { EMBEDDING, lightgcnLoss, type TripleRows } from "./lightgcn.ts";

/** What the step reads of NCL's config. */
export interface NclStepOptions {
  readonly dim: number;
  readonly layers: number;
  readonly lr: number;
  readonly batchSize: number;
  readonly reg: number;
  readonly regPow: boolean;
  readonly sslTemp: number;
  readonly sslReg: number;
  readonly hyperLayers: number;
  readonly alpha: number;
  /** Prototypes per side. */
  readonly clusters: { readonly users: number; readonly items: number };
  readonly threads: number;
}

/** One batch in node ids (user u = node u + 1, item i = node nUsers + i). */
export interface NclBatch {
  readonly users: Int32Array;
  readonly pos: Int32Array;
  readonly neg: Int32Array;
  readonly weights: Float32Array;
}

/** Centroids (normalised, `clusters x d`) and each node's cluster, per side. */
export interface Prototypes {
  readonly users: { centroids: Float32Array; assignment: Int32Array };
  readonly items: { centroids: Float32Array; assignment: Int32Array };
}

/** `x / max(|x|, 1e-12)` per row (`F.normalize`). */
function normalize(x: Tensor): Tensor {
  const g = x.graph;
  const sq = g.reduceSum(g.mul(x, x), [-1], true);
  return g.div(x, g.sqrt(g.max(sq, 1e-24)));
}

/** `sum_b w_b (log sum_j exp(a_b . all_j / t) - a_b . pos_b / t)` for normalised rows. */
function infoNce(a: Tensor, pos: Tensor, all: Tensor, weights: Tensor, temp: number): Tensor {
  const g = a.graph;
  const positive = g.div(g.reduceSum(g.mul(a, pos), [-1], false), temp);
  const total = g.log(g.reduceSum(g.exp(g.div(g.matMul(a, g.transpose(all)), temp)), [-1], false));
  return g.reduceSum(g.mul(g.sub(total, positive), weights), undefined, false);
}

/** The tensors NCL's loss reads (rows `[B, d]` unless said otherwise). */
export interface NclLossInputs {
  /** Rows of the layer mean, and of layer 0 (for the penalty; absent when `reg` is 0). */
  readonly p: TripleRows;
  readonly ego?: TripleRows;
  /** Rows of the context layer `2 * hyperLayers` for the batch's users and positive items. */
  readonly context: { readonly users: Tensor; readonly items: Tensor };
  /** The whole layer-0 table `[nodes, d]`. */
  readonly e0: Tensor;
  /** The batch's user rows and positive items' indices (`item - 1`), int32 `[B]`. */
  readonly uidx: Tensor;
  readonly iidx: Tensor;
  /** Normalised centroids `[K, d]`, and each batch node's own centroid. */
  readonly cent: { readonly users: Tensor; readonly items: Tensor };
  readonly own: { readonly users: Tensor; readonly items: Tensor };
  readonly weights: Tensor;
  /** Weight of the prototype loss (a scalar). */
  readonly protoScale: Tensor;
}

/** BPR + penalty + `sslReg` x structure-contrastive + `protoScale` x prototype-contrastive. */
export function nclLoss(x: NclLossInputs, nUsers: number, options: NclStepOptions): Tensor {
  const g = x.e0.graph;
  const n = x.e0.shape[0];
  const allUsers = normalize(g.slice(x.e0, [1], [nUsers + 1], [0]));
  const allItems = normalize(g.slice(x.e0, [nUsers + 1], [n], [0]));
  const prevU = g.gather(allUsers, x.uidx), prevI = g.gather(allItems, x.iidx);
  const t = options.sslTemp;
  const ssl = g.add(
    infoNce(normalize(x.context.users), prevU, allUsers, x.weights, t),
    g.mul(infoNce(normalize(x.context.items), prevI, allItems, x.weights, t), options.alpha),
  );
  const proto = g.add(
    infoNce(prevU, x.own.users, x.cent.users, x.weights, t),
    infoNce(prevI, x.own.items, x.cent.items, x.weights, t),
  );
  return g.add(
    g.add(lightgcnLoss(x.p, x.ego, x.weights, options), g.mul(ssl, options.sslReg)),
    g.mul(proto, x.protoScale),
  );
}

/** A compiled NCL step over a fixed graph `a` and the store's {@linkcode EMBEDDING}. */
export async function createNclStep(
  a: CsrMatrix,
  nUsers: number,
  store: ParamStore,
  options: NclStepOptions,
) {
  const { dim: d, batchSize: b, clusters: k } = options;
  const n = a.nRows;
  const g = new Graph();
  const rows = (prefix: string) =>
    Object.fromEntries(
      ["users", "pos", "neg"].map((key) => [key, g.input(`${prefix}.${key}`, "float32", [b, d])]),
    ) as unknown as TripleRows;
  const pair = (prefix: string, ku: number, ki: number) => ({
    users: g.input(`${prefix}.users`, "float32", [ku, d]),
    items: g.input(`${prefix}.items`, "float32", [ki, d]),
  });
  const x: NclLossInputs = {
    p: rows("p"),
    ego: options.reg ? rows("e") : undefined,
    context: pair("c", b, b),
    e0: g.input("e0", "float32", [n, d]),
    uidx: g.input("uidx", "int32", [b]),
    iidx: g.input("iidx", "int32", [b]),
    cent: pair("cent", k.users, k.items),
    own: pair("own", b, b),
    weights: g.input("weights", "float32", [b]),
    protoScale: g.input("proto_scale", "float32", []),
  };
  const loss = nclLoss(x, nUsers, options);
  const { p, ego, context, e0 } = x;
  const wrt = [
    p.users,
    p.pos,
    p.neg,
    ...(ego ? [ego.users, ego.pos, ego.neg] : []),
    context.users,
    context.items,
    e0,
  ];
  const runtime = { intraOpThreads: options.threads };
  const step = await compileTrainStep(loss, store, { ...runtime, params: [], wrt });
  const update = await compileUpdate([EMBEDDING], store, {
    ...runtime,
    optimizer: adam({ lr: options.lr }),
  });

  const layerCount = Math.max(options.layers, 2 * options.hyperLayers);
  const layers = Array.from({ length: layerCount }, () => new Float32Array(n * d));
  const mean = new Float32Array(n * d), grad = new Float32Array(n * d);
  const gradMean = new Float32Array(n * d), gradContext = new Float32Array(n * d);
  const tmp = new Float32Array(n * d);
  const feeds: Record<string, Float32Array | Int32Array> = {
    uidx: new Int32Array(b),
    iidx: new Int32Array(b),
    proto_scale: new Float32Array(1),
  };
  for (const key of ["p.users", "p.pos", "p.neg", "e.users", "e.pos", "e.neg"]) {
    feeds[key] = new Float32Array(b * d);
  }
  for (const key of ["c.users", "c.items", "own.users", "own.items"]) {
    feeds[key] = new Float32Array(b * d);
  }
  const copyRows = (to: Float32Array, from: Float32Array, ids: Int32Array) => {
    for (let r = 0; r < b; r++) to.set(from.subarray(ids[r] * d, ids[r] * d + d), r * d);
  };
  const addRows = (to: Float32Array, from: Float32Array, ids: Int32Array) => {
    for (let r = 0; r < b; r++) {
      const o = ids[r] * d;
      for (let j = 0; j < d; j++) to[o + j] += from[r * d + j];
    }
  };

  /** Layers 1.. of the current `E0`, and their mean over `0..layers` into `mean`. */
  function propagate(): Float32Array {
    const e = store.get(EMBEDDING)!.data;
    let prev = e;
    for (const layer of layers) prev = spmm(a, prev, { out: layer });
    mean.set(e);
    for (let l = 0; l < options.layers; l++) {
      const x = layers[l];
      for (let i = 0; i < mean.length; i++) mean[i] += x[i];
    }
    for (let i = 0; i < mean.length; i++) mean[i] /= options.layers + 1;
    return mean;
  }

  return {
    /** The final embeddings of the current `E0`. */
    propagate,
    /** One step; `protos` are the current prototypes (absent before the first E-step). */
    async run(batch: NclBatch, protos: Prototypes | undefined, protoScale: number) {
      const e = store.get(EMBEDDING)!.data;
      propagate();
      const ctx = layers[2 * options.hyperLayers - 1];
      const ids = { users: batch.users, pos: batch.pos, neg: batch.neg };
      for (const [key, nodes] of Object.entries(ids)) {
        copyRows(feeds[`p.${key}`] as Float32Array, mean, nodes);
        if (ego) copyRows(feeds[`e.${key}`] as Float32Array, e, nodes);
      }
      copyRows(feeds["c.users"] as Float32Array, ctx, batch.users);
      copyRows(feeds["c.items"] as Float32Array, ctx, batch.pos);
      const uidx = feeds.uidx as Int32Array, iidx = feeds.iidx as Int32Array;
      for (let r = 0; r < b; r++) {
        uidx[r] = batch.users[r] - 1;
        iidx[r] = batch.pos[r] - nUsers - 1;
      }
      const centroids = {
        users: protos?.users.centroids ?? new Float32Array(k.users * d),
        items: protos?.items.centroids ?? new Float32Array(k.items * d),
      };
      if (protos) {
        const own = (side: "users" | "items", idx: Int32Array) => {
          const out = feeds[`own.${side}`] as Float32Array, p = protos[side];
          for (let r = 0; r < b; r++) {
            const c = p.assignment[idx[r]];
            out.set(p.centroids.subarray(c * d, c * d + d), r * d);
          }
        };
        own("users", uidx);
        own("items", iidx);
      }
      (feeds.proto_scale as Float32Array)[0] = protos ? protoScale : 0;
      const { loss, grads } = await step.run({
        ...feeds,
        weights: batch.weights,
        e0: e,
        "cent.users": centroids.users,
        "cent.items": centroids.items,
      });
      const gradOf = (name: string) => grads[name].data as Float32Array;
      gradMean.fill(0);
      for (const [key, nodes] of Object.entries(ids)) addRows(gradMean, gradOf(`p.${key}`), nodes);
      propagateMeanBackward(a, gradMean, { layers: options.layers, out: grad });
      gradContext.fill(0);
      addRows(gradContext, gradOf("c.users"), batch.users);
      addRows(gradContext, gradOf("c.items"), batch.pos);
      // Back through the context layer: (A^T)^(2h) of its gradient.
      let back: Float32Array = gradContext;
      for (let l = 0; l < 2 * options.hyperLayers; l++) {
        const out = back === tmp ? gradContext : tmp;
        back = spmmT(a, back, { out });
      }
      const dense = gradOf("e0");
      for (let i = 0; i < grad.length; i++) grad[i] += back[i] + dense[i];
      if (ego) {
        for (const [key, nodes] of Object.entries(ids)) addRows(grad, gradOf(`e.${key}`), nodes);
      }
      await update.run({ [EMBEDDING]: grad });
      return loss;
    },
  };
}

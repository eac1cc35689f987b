/**
 * `ncl`: NCL (Lin et al., WWW 2022), neighbourhood-enriched contrastive
 * learning on LightGCN, with RecBole's defaults: LightGCN's propagation, BPR
 * loss and penalty (`lightgcn.ts`), plus a structure-contrastive loss (a
 * node's layer-2 state against its own layer-0 embedding) and, after
 * `warmUp` epochs, a prototype-contrastive loss (a node's layer-0 embedding
 * against its k-means centroid, `clusters` prototypes per side, recomputed
 * every `mStep` epochs by `models/kmeans.ts`). The step is in `ncl_step.ts`;
 * scoring is LightGCN's (dot product of the layer means).
 *
 * RecBole runs the E-step (k-means) from the first epoch on; its prototypes
 * only enter the loss after the warm-up, so here the E-step starts at the
 * first epoch whose loss uses it.
 *
 * @module
 */
import { fitInfo, fitPairwise, PAIRWISE_FIT_KEYS } from "../harness/pairwise_fit.ts";
import { type DefaultsOf, definePlugin, type FitContext, type Scorer } from "../harness/plugin.ts";
import type { Split } from "../harness/types.ts";
import { loadCheckpoint, ParamStore, propagateMean, saveCheckpoint } from "../kernels/mod.ts";
import { checkConfigMatches, embeddingCheckpointConfig } from "../models/embedding_checkpoint.ts";
import { normalizeRows } from "../models/embedding_scorer.ts";
import { createKmeans } from "../models/kmeans.ts";
import { EMBEDDING, initEmbeddings, scorerOver, trainGraph } from "./lightgcn.ts";
import { createNclStep, type Prototypes } from "./ncl_step.ts";

/** Every key: RecBole's NCL settings (LightGCN's backbone settings included). */
export const NCL_KEYS = {
  dim: { default: 64, doc: "embedding width d" },
  layers: { default: 3, doc: "propagation layers L (final = mean of layers 0..L)" },
  lr: { default: 1e-3, doc: "Adam learning rate" },
  batchSize: { default: 2048, doc: "(user, positive, negative) triples per step" },
  reg: { default: 1e-4, doc: "weight of the L2 penalty on the batch's layer-0 rows (EmbLoss)" },
  regPow: {
    default: false,
    doc: "false: sum of Frobenius norms / B (EmbLoss); true: squared / 2B",
  },
  sslTemp: { default: 0.1, doc: "temperature of both contrastive losses" },
  sslReg: { default: 1e-7, doc: "weight of the structure-contrastive loss" },
  hyperLayers: { default: 1, doc: "the structural neighbours' layer is 2 * hyperLayers" },
  alpha: { default: 1, doc: "weight of the items' structure-contrastive term against the users'" },
  protoReg: { default: 8e-8, doc: "weight of the prototype-contrastive loss" },
  clusters: { default: 1000, doc: "k-means prototypes per side (users, items)" },
  mStep: { default: 1, doc: "epochs between E-steps (k-means)" },
  warmUp: { default: 20, doc: "epochs before the prototype loss enters" },
  ...PAIRWISE_FIT_KEYS,
};
type NclConfig = DefaultsOf<typeof NCL_KEYS>;

/** Prototypes per side: at most `clusters`, and no more than the side has nodes. */
export function clusterCounts(split: Split, clusters: number) {
  return { users: Math.min(clusters, split.nUsers), items: Math.min(clusters, split.nItems) };
}

/** Normalised k-means prototypes of the users' and items' layer-0 embeddings. */
async function prototypesOf(split: Split, config: NclConfig, threads: number) {
  const d = config.dim, { nUsers, nItems } = split;
  const k = clusterCounts(split, config.clusters);
  const users = await createKmeans({ points: nUsers, clusters: k.users, dim: d, threads });
  const items = await createKmeans({ points: nItems, clusters: k.items, dim: d, threads });
  return async (e0: Float32Array, rng: FitContext["rng"]): Promise<Prototypes> => {
    const u = await users.run(e0.slice(d, (nUsers + 1) * d), rng);
    const i = await items.run(e0.slice((nUsers + 1) * d, (nUsers + nItems + 1) * d), rng);
    return {
      users: { centroids: normalizeRows(u.centroids, d), assignment: u.assignment },
      items: { centroids: normalizeRows(i.centroids, d), assignment: i.assignment },
    };
  };
}

function saver(store: ParamStore, config: NclConfig, split: Split) {
  return (dir: string) =>
    saveCheckpoint(dir, store, embeddingCheckpointConfig("ncl", config, split));
}

/** NCL: LightGCN with structure- and prototype-contrastive losses. */
export const ncl = definePlugin({
  name: "ncl",
  description:
    "NCL: LightGCN plus structure- and prototype-contrastive losses (k-means prototypes)",
  tasks: ["direct", "sequential"],
  keys: NCL_KEYS,
  presets: {
    tiny: {
      dim: 16,
      layers: 2,
      batchSize: 256,
      epochs: 12,
      patience: 4,
      lr: 1e-2,
      clusters: 20,
      warmUp: 2,
    },
    cpu: {},
    paper: { epochs: 1000, patience: 50 },
  },
  requires: ["train-graph"],
  async fit(ctx: FitContext, config: NclConfig): Promise<Scorer> {
    const { split } = ctx;
    if (config.hyperLayers < 1) {
      throw new RangeError(`Expected ncl.hyperLayers >= 1 but found ${config.hyperLayers}`);
    }
    const d = config.dim, b = config.batchSize;
    const a = trainGraph(split);
    const store = new ParamStore();
    store.set(EMBEDDING, initEmbeddings(ctx, d), [a.nRows, d]);
    const step = await createNclStep(a, split.nUsers, store, {
      ...config,
      clusters: clusterCounts(split, config.clusters),
      threads: ctx.threads,
    });
    const kmeans = await prototypesOf(split, config, ctx.threads);
    const kmeansRng = ctx.rng.fork("kmeans");
    const perEpoch = Math.ceil(split.train.values.length / b);
    const nodes = { users: new Int32Array(b), pos: new Int32Array(b), neg: new Int32Array(b) };
    let steps = 0;
    let protos: Prototypes | undefined;
    // Scoring reads LightGCN's layer mean, so a loaded checkpoint scores the same.
    const final = () => propagateMean(a, store.get(EMBEDDING)!.data, { layers: config.layers });
    const view = await scorerOver(split, final(), d, ctx);
    const result = await fitPairwise(ctx, {
      label: "ncl",
      batchSize: b,
      maxEpochs: config.epochs,
      patience: config.patience,
      validProtocol: config.validProtocol,
      validUsers: config.validUsers,
      step: async (batch, weights) => {
        const epoch = Math.floor(steps / perEpoch); // 0-based, as RecBole counts
        const eStep = epoch >= config.warmUp && (epoch - config.warmUp) % config.mStep === 0;
        if (steps++ % perEpoch === 0 && eStep) {
          protos = await kmeans(store.get(EMBEDDING)!.data, kmeansRng);
        }
        for (let k = 0; k < b; k++) {
          nodes.users[k] = batch.users[k] + 1;
          nodes.pos[k] = split.nUsers + batch.positives[k];
          nodes.neg[k] = split.nUsers + batch.negatives[k];
        }
        const scale = epoch >= config.warmUp ? config.protoReg : 0;
        return step.run({ ...nodes, weights }, protos, scale);
      },
      scorer: () => {
        view.update(final());
        return Promise.resolve(view.scorer);
      },
      snapshot: () => store.get(EMBEDDING)!.data.slice(),
      restore: (e0) => store.set(EMBEDDING, e0, [a.nRows, d]),
    });
    view.update(final());
    return { ...view.scorer, info: fitInfo(result), save: saver(store, config, split) };
  },
  async load(ctx: FitContext, config: NclConfig, dir: string): Promise<Scorer> {
    const { split } = ctx;
    const { store, config: saved } = await loadCheckpoint(dir);
    const sizes = { ...config, n_users: split.nUsers, n_items: split.nItems };
    checkConfigMatches(dir, saved, sizes, ["dim", "layers", "n_users", "n_items"]);
    const p = propagateMean(trainGraph(split), store.get(EMBEDDING)!.data, {
      layers: config.layers,
    });
    const view = await scorerOver(split, p, config.dim, ctx);
    return { ...view.scorer, info: { loaded_from: dir }, save: saver(store, config, split) };
  },
});

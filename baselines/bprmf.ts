/**
 * `bprmf`: matrix factorisation with Bayesian personalised ranking (Rendle
 * et al., UAI 2009), as RecBole's `BPR` reference: free user and item
 * embeddings (xavier-normal), score = dot product, BPR loss on (user,
 * positive, uniform negative), Adam; no penalty unless `reg` is set (same
 * `EmbLoss` convention as `lightgcn`). The whole step (forward, backward,
 * Adam over both tables) is one ONNX Runtime session.
 *
 * @module
 */
import { fitInfo, fitPairwise, PAIRWISE_FIT_KEYS } from "../harness/pairwise_fit.ts";
import { type DefaultsOf, definePlugin, type FitContext, type Scorer } from "../harness/plugin.ts";
import type { Split } from "../harness/types.ts";
import {
  checkConfigMatches,
  embeddingCheckpointConfig,
  loadCheckpoint,
  saveCheckpoint,
} from "../kernels/checkpoint.ts";
import { createEmbeddingScorer, gatherRows, vectorScorer } from "../kernels/embedding_scorer.ts";
import { Graph, type Tensor } from "../kernels/graph.ts";
import { normal } from "../kernels/init.ts";
import { adam } from "../kernels/optim.ts";
import { ParamStore } from "../kernels/param_store.ts";
import { embLoss, weightedBprLoss } from "../kernels/rec_losses.ts";
import { compileTrainStep } from "../kernels/step.ts";

/**
 * Every key: RecBole's BPR settings on these data (its reference run).
 * `batchSize` and `regPow` were `batch_size` and `reg_pow`.
 */
export const BPRMF_KEYS = {
  dim: { default: 64, doc: "embedding width d" },
  lr: { default: 1e-3, doc: "Adam learning rate" },
  batchSize: {
    default: 2048,
    doc: "(user, positive, negative) triples per step",
    legacy: "batch_size",
  },
  reg: { default: 0, doc: "weight of the L2 penalty on the batch's rows (RecBole's BPR has none)" },
  regPow: {
    default: false,
    doc: "false: sum of Frobenius norms / B (RecBole's EmbLoss); true: squared / 2B",
    legacy: "reg_pow",
  },
  ...PAIRWISE_FIT_KEYS,
};
type BprMfConfig = DefaultsOf<typeof BPRMF_KEYS>;

const USERS = "user_embedding.weight";
const ITEMS = "item_embedding.weight";

/** Options of {@linkcode bprmfLoss}. */
export interface BprMfLossOptions {
  reg: number;
  regPow: boolean;
}

/**
 * Weighted BPR loss of dot-product scores from tables `users` (`[nUsers, d]`,
 * by user row) and `items` (`[nItems + 1, d]`, by item id), plus `EmbLoss`.
 */
export function bprmfLoss(
  users: Tensor,
  items: Tensor,
  ids: { users: Tensor; pos: Tensor; neg: Tensor; weights: Tensor },
  options: BprMfLossOptions,
): Tensor {
  const g = users.graph;
  const u = g.gather(users, ids.users);
  const i = g.gather(items, ids.pos), j = g.gather(items, ids.neg);
  const sPos = g.reduceSum(g.mul(u, i), [-1], false);
  const sNeg = g.reduceSum(g.mul(u, j), [-1], false);
  const bpr = weightedBprLoss(sPos, sNeg, ids.weights);
  if (options.reg === 0) return bpr;
  return g.add(bpr, g.mul(embLoss([u, i, j], ids.weights, { pow: options.regPow }), options.reg));
}

/** RecBole's xavier-normal init; its tables have one padding row each. */
function xavierNormalStd(count: number, d: number): number {
  return Math.sqrt(2 / (count + 1 + d));
}

async function scorerOf(
  store: ParamStore,
  split: Split,
  d: number,
  rt: Pick<FitContext, "threads" | "device">,
) {
  const es = await createEmbeddingScorer(store.get(ITEMS)!.data, {
    dim: d,
    threads: rt.threads,
    device: rt.device,
  });
  const scorer = vectorScorer(
    es,
    ({ userRows }) => gatherRows(store.get(USERS)!.data, userRows, d),
  );
  return {
    scorer,
    /** Re-reads the item table (after training steps replaced it). */
    refresh: () => es.setItems(store.get(ITEMS)!.data),
    save: (dir: string, config: BprMfConfig) =>
      saveCheckpoint(dir, store, embeddingCheckpointConfig("bprmf", config, split)),
  };
}

/** BPR-MF: free embeddings, dot product, BPR loss. */
export const bprmf = definePlugin({
  name: "bprmf",
  description: "BPR-MF: free user and item embeddings, dot product, BPR loss",
  tasks: ["direct", "sequential"],
  keys: BPRMF_KEYS,
  presets: {
    tiny: { dim: 16, batchSize: 256, epochs: 15, patience: 4, lr: 1e-2 },
    cpu: {},
    paper: {},
  },
  requires: ["train-interactions"],
  async fit(ctx: FitContext, config: BprMfConfig): Promise<Scorer> {
    const { split } = ctx;
    const d = config.dim, b = config.batchSize;
    const g = new Graph();
    const users = g.param(USERS, [split.nUsers, d], {
      init: normal({ std: xavierNormalStd(split.nUsers, d) }),
    });
    const items = g.param(ITEMS, [split.nItems + 1, d], {
      init: normal({ std: xavierNormalStd(split.nItems, d) }),
    });
    const ids = {
      users: g.input("users", "int32", [b]),
      pos: g.input("pos", "int32", [b]),
      neg: g.input("neg", "int32", [b]),
      weights: g.input("weights", "float32", [b]),
    };
    const loss = bprmfLoss(users, items, ids, { reg: config.reg, regPow: config.regPow });
    const store = new ParamStore();
    store.init(g, ctx.rng.fork("init"));
    const step = await compileTrainStep(loss, store, {
      optimizer: adam({ lr: config.lr }),
      intraOpThreads: ctx.threads,
      device: ctx.device,
    });
    const view = await scorerOf(store, split, d, ctx);
    const result = await fitPairwise(ctx, {
      label: "bprmf",
      batchSize: b,
      maxEpochs: config.epochs,
      patience: config.patience,
      validProtocol: config.validProtocol,
      validUsers: config.validUsers,
      step: async (batch, weights) =>
        (await step.run({
          users: batch.users,
          pos: batch.positives,
          neg: batch.negatives,
          weights,
        })).loss,
      scorer: () => {
        view.refresh();
        return Promise.resolve(view.scorer);
      },
      snapshot: () => [store.get(USERS)!.data.slice(), store.get(ITEMS)!.data.slice()],
      restore: ([u, i]) => {
        store.set(USERS, u, [split.nUsers, d]);
        store.set(ITEMS, i, [split.nItems + 1, d]);
      },
    });
    view.refresh();
    return { ...view.scorer, info: fitInfo(result), save: (dir) => view.save(dir, config) };
  },
  async load(ctx: FitContext, config: BprMfConfig, dir: string): Promise<Scorer> {
    const { split } = ctx;
    const { store, config: saved } = await loadCheckpoint(dir);
    checkConfigMatches(dir, saved, { ...config, n_users: split.nUsers, n_items: split.nItems }, [
      "dim",
      "n_users",
      "n_items",
    ]);
    const view = await scorerOf(store, split, config.dim, ctx);
    return { ...view.scorer, info: { loaded_from: dir }, save: (dir) => view.save(dir, config) };
  },
});

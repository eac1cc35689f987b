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
import { fitInfo, fitPairwise, PAIRWISE_FIT_DOCS } from "../harness/pairwise_fit.ts";
import { definePlugin, type FitContext, type Scorer } from "../harness/plugin.ts";
import type { Split } from "../harness/types.ts";
import {
  adam,
  compileTrainStep,
  Graph,
  loadCheckpoint,
  normal,
  ParamStore,
  saveCheckpoint,
  type Tensor,
} from "../kernels/mod.ts";
import { checkConfigMatches, embeddingCheckpointConfig } from "../models/embedding_checkpoint.ts";
import { createEmbeddingScorer, gatherRows, vectorScorer } from "../models/embedding_scorer.ts";
import { embLoss, weightedBprLoss } from "../models/rec_losses.ts";

/** Typed defaults: RecBole's BPR settings on these data (its reference run). */
export const BPRMF_DEFAULTS = {
  dim: 64,
  lr: 1e-3,
  batch_size: 2048,
  reg: 0,
  reg_pow: false,
  epochs: 300,
  patience: 10,
  valid_protocol: "full",
  valid_users: 0,
};
type BprMfConfig = typeof BPRMF_DEFAULTS;

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
  defaults: BPRMF_DEFAULTS,
  presets: {
    tiny: { dim: 16, batch_size: 256, epochs: 15, patience: 4, lr: 1e-2 },
    cpu: {},
    paper: {},
  },
  docs: {
    dim: "embedding width d",
    lr: "Adam learning rate",
    batch_size: "(user, positive, negative) triples per step",
    reg: "weight of the L2 penalty on the batch's rows (RecBole's BPR has none)",
    reg_pow: "false: sum of Frobenius norms / B (RecBole's EmbLoss); true: squared / 2B",
    ...PAIRWISE_FIT_DOCS,
  },
  requires: ["train-interactions"],
  async fit(ctx: FitContext, config: BprMfConfig): Promise<Scorer> {
    const { split } = ctx;
    const d = config.dim, b = config.batch_size;
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
    const loss = bprmfLoss(users, items, ids, { reg: config.reg, regPow: config.reg_pow });
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
      validProtocol: config.valid_protocol,
      validUsers: config.valid_users,
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

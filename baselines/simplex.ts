/**
 * `simplex`: SimpleX (Mao et al., CIKM 2021) as RecBole implements it. The
 * user vector is `g * e_u + (1 - g) * W * mean(e_i over the user's last
 * historyLen items)` (padding masked), with dropout on it while training;
 * score = cosine similarity; cosine contrastive loss
 * `relu(1 - s(u, i+)) + w * mean_j relu(s(u, j) - m)` over `negatives`
 * uniform negatives per positive, plus RecBole's `EmbLoss` on the rows the
 * batch touched (user, positive, history, negatives). Training splits each
 * step at the tables' rows (`createSimplexTrainer` in `simplex_tower.ts`);
 * scoring runs the whole tower in one inference session.
 *
 * At scoring time the history is what the stage may see (`scoreHistory =
 * stage`: training items at validation, plus the validation item at test);
 * `scoreHistory = train` uses training items only, as RecBole does.
 *
 * @module
 */
import {
  ADAM_ROWS_KEY,
  adamRows,
  fitInfo,
  fitPairwise,
  PAIRWISE_FIT_KEYS,
} from "../harness/pairwise_fit.ts";
import { currentNames } from "../harness/config_keys.ts";
import {
  type DefaultsOf,
  definePlugin,
  type FitContext,
  type Scorer,
  type ScoreRequest,
} from "../harness/plugin.ts";
import type { Split } from "../harness/types.ts";
import {
  compileInference,
  createSparseEngine,
  Graph,
  loadCheckpoint,
  ParamStore,
  row,
  saveCheckpoint,
  type SparseEngine,
} from "../kernels/mod.ts";
import { checkConfigMatches, embeddingCheckpointConfig } from "../models/embedding_checkpoint.ts";
import { createEmbeddingScorer, vectorScorer } from "../models/embedding_scorer.ts";
import { createSimplexTrainer, fillHistory, ITEMS, USERS, userTower } from "./simplex_tower.ts";

/**
 * Every key: RecBole's SimpleX settings (its reference run on these data).
 * The snake_case keys of before are the legacy names.
 */
export const SIMPLEX_KEYS = {
  dim: { default: 64, doc: "embedding width d" },
  lr: { default: 1e-3, doc: "Adam learning rate" },
  batchSize: { default: 2048, doc: "positives per step", legacy: "batch_size" },
  negatives: { default: 1, doc: "uniform negatives per positive" },
  margin: { default: 0.5, doc: "cosine margin m of the negative term" },
  negativeWeight: {
    default: 10,
    doc: "weight w of the negative term (mean over negatives)",
    legacy: "negative_weight",
  },
  gamma: { default: 0.5, doc: "weight g of the user embedding against the history term" },
  historyLen: {
    default: 50,
    doc: "most recent history items in the user vector",
    legacy: "history_len",
  },
  dropout: { default: 0.1, doc: "dropout on the user vector while training" },
  reg: { default: 1e-5, doc: "weight of RecBole's EmbLoss on the batch's rows" },
  regPow: {
    default: false,
    doc: "false: sum of Frobenius norms / B (RecBole's default); true: squared / 2B",
    legacy: "reg_pow",
  },
  adamRows: ADAM_ROWS_KEY,
  scoreHistory: {
    default: "stage",
    doc: "stage: history visible at the scored stage; train: training items only",
    legacy: "score_history",
    values: ["stage", "train"],
  },
  ...PAIRWISE_FIT_KEYS,
};
type SimplexConfig = DefaultsOf<typeof SIMPLEX_KEYS>;

/** Users per block of the scoring-time user tower. */
const SCORE_BLOCK = 256;
/** The scorer: user vectors from a compiled tower, cosine against the item table. */
async function simplexScorer(ctx: FitContext, store: ParamStore, config: SimplexConfig) {
  const { split } = ctx;
  const d = config.dim, h = config.historyLen;
  const g = new Graph();
  const inputs = {
    users: g.input("users", "int32", [SCORE_BLOCK]),
    history: g.input("history", "int32", [SCORE_BLOCK, h]),
    mask: g.input("mask", "float32", [SCORE_BLOCK, h]),
  };
  const tower = userTower(inputs, { ...towerSizes(split, config), dropout: 0 });
  const infer = await compileInference({ v: tower.v }, store, {
    intraOpThreads: ctx.threads,
    device: ctx.device,
  });
  const es = await createEmbeddingScorer(store.get(ITEMS)!.data, {
    dim: d,
    similarity: "cosine",
    threads: ctx.threads,
    device: ctx.device,
  });
  const users = new Int32Array(SCORE_BLOCK);
  const history = new Int32Array(SCORE_BLOCK * h);
  const mask = new Float32Array(SCORE_BLOCK * h);
  const userVectors = async ({ userRows, stage }: ScoreRequest) => {
    const out = new Float32Array(userRows.length * d);
    for (let s = 0; s < userRows.length; s += SCORE_BLOCK) {
      const n = Math.min(SCORE_BLOCK, userRows.length - s);
      users.fill(0).set(userRows.subarray(s, s + n));
      const seen = (i: number) =>
        config.scoreHistory === "train"
          ? row(split.train, userRows[s + i])
          : ctx.history(userRows[s + i], stage);
      fillHistory(seen, n, h, history, mask);
      const { v } = await infer.run({ users, history, mask });
      out.set((v.data as Float32Array).subarray(0, n * d), s * d);
    }
    return out;
  };
  return {
    scorer: vectorScorer(es, userVectors),
    refresh: () => es.setItems(store.get(ITEMS)!.data),
  };
}

function towerSizes(split: Split, config: SimplexConfig) {
  return { nUsers: split.nUsers, nItems: split.nItems, dim: config.dim, gamma: config.gamma };
}

function checkConfig(config: SimplexConfig): void {
  if (config.scoreHistory !== "stage" && config.scoreHistory !== "train") {
    throw new RangeError(
      `Expected simplex.scoreHistory "stage" or "train" but found "${config.scoreHistory}"`,
    );
  }
}

function saver(store: ParamStore, split: Split, config: SimplexConfig) {
  return (dir: string) =>
    saveCheckpoint(dir, store, embeddingCheckpointConfig("simplex", config, split));
}

/** Trains SimpleX from the tables in `store` with the kernels of `engine`. */
async function fitWith(
  ctx: FitContext,
  config: SimplexConfig,
  store: ParamStore,
  engine: SparseEngine,
): Promise<Scorer> {
  const { split } = ctx;
  const b = config.batchSize, k = config.negatives, h = config.historyLen;
  const sizes = towerSizes(split, config);
  const step = await createSimplexTrainer(store, {
    ...sizes,
    dropout: config.dropout,
    batchSize: b,
    negatives: k,
    historyLen: h,
    lr: config.lr,
    margin: config.margin,
    negativeWeight: config.negativeWeight,
    reg: config.reg,
    regPow: config.regPow,
    threads: ctx.threads,
    device: ctx.device,
    rng: ctx.rng.fork("dropout"),
    update: adamRows(config.adamRows),
    engine,
  });
  // Each user's recent training items, computed once; batches copy rows.
  const userHistory = new Int32Array(split.nUsers * h);
  const userMask = new Float32Array(split.nUsers * h);
  fillHistory((u) => row(split.train, u), split.nUsers, h, userHistory, userMask);
  const history = new Int32Array(b * h), mask = new Float32Array(b * h);
  const view = await simplexScorer(ctx, store, config);
  const params = [USERS, ITEMS, "ui_map.weight"];
  const result = await fitPairwise(ctx, {
    label: "simplex",
    batchSize: b,
    negatives: k,
    maxEpochs: config.epochs,
    patience: config.patience,
    validProtocol: config.validProtocol,
    validUsers: config.validUsers,
    step: (batch, w) => {
      for (let i = 0; i < b; i++) {
        const u = batch.users[i];
        history.set(userHistory.subarray(u * h, (u + 1) * h), i * h);
        mask.set(userMask.subarray(u * h, (u + 1) * h), i * h);
      }
      const { users, positives: pos, negatives: neg } = batch;
      return step({ users, pos, neg, history, mask }, w);
    },
    scorer: () => {
      view.refresh();
      return Promise.resolve(view.scorer);
    },
    snapshot: () => params.map((n) => ({ ...store.get(n)!, data: store.get(n)!.data.slice() })),
    restore: (entries) => entries.forEach((e, i) => store.set(params[i], e.data, e.shape)),
  });
  view.refresh();
  return { ...view.scorer, info: fitInfo(result), save: saver(store, split, config) };
}

/** SimpleX with the cosine contrastive loss. */
export const simplex = definePlugin({
  name: "simplex",
  description: "SimpleX: user + mean-of-history tower, cosine similarity, cosine contrastive loss",
  tasks: ["direct", "sequential"],
  keys: SIMPLEX_KEYS,
  presets: {
    tiny: {
      dim: 16,
      batchSize: 256,
      negatives: 10,
      historyLen: 20,
      epochs: 15,
      patience: 4,
      lr: 1e-2,
    },
    cpu: {},
    // The SimpleX paper's large-sampling regime (e.g. Amazon-Books, Yelp).
    paper: { negatives: 1000, margin: 0.9, negativeWeight: 150 },
  },
  requires: ["train-sequences"],
  async fit(ctx: FitContext, config: SimplexConfig): Promise<Scorer> {
    checkConfig(config);
    const sizes = towerSizes(ctx.split, config);
    const store = new ParamStore();
    // Draw the tables and ui_map as the one-graph tower declares them.
    const g = new Graph();
    const ids = (name: string, shape: number[]) => g.input(name, "int32", shape);
    userTower({
      users: ids("users", [1]),
      history: ids("history", [1, 1]),
      mask: g.input("mask", "float32", [1, 1]),
    }, sizes);
    store.init(g, ctx.rng.fork("init"));
    store.get(ITEMS)!.data.fill(0, 0, config.dim); // item 0 pads histories: zero, as RecBole
    const engine = await createSparseEngine({ threads: ctx.threads });
    try {
      return await fitWith(ctx, config, store, engine);
    } finally {
      engine.close();
    }
  },
  async load(ctx: FitContext, config: SimplexConfig, dir: string): Promise<Scorer> {
    checkConfig(config);
    const { split } = ctx;
    const { store, config: stored } = await loadCheckpoint(dir);
    // A checkpoint saved before the keys were renamed holds `history_len`.
    const saved = currentNames(SIMPLEX_KEYS, stored);
    checkConfigMatches(dir, saved, { ...config, n_users: split.nUsers, n_items: split.nItems }, [
      "dim",
      "historyLen",
      "n_users",
      "n_items",
    ]);
    const view = await simplexScorer(ctx, store, config);
    return { ...view.scorer, info: { loaded_from: dir }, save: saver(store, split, config) };
  },
});

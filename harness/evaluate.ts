/**
 * Scores a fitted scorer on one stage of a split and turns ranks into
 * per-user metrics. Both protocols live here:
 *
 * - direct (Table 2): the held-out item among itself + the split's 99
 *   negatives for that stage.
 * - sequential (Table 3): the held-out item among all items. By default no
 *   item is excluded, as in the released P5 / POD / ELMRec code (a model that
 *   recommends history items pays for it; ELMRec's reranking exists for that
 *   reason). `mask: "train"` excludes the user's training items (RecBole's
 *   full-ranking protocol), `mask: "history"` every item the stage may see.
 *
 * @module
 */
import {
  ALL_METRICS,
  listRankBlock,
  MetricAccumulator,
  type PerUserMetrics,
  rankBlock,
} from "./metrics.ts";
import type { CandidateRequest, Scorer } from "./plugin.ts";
import { type Progress, silentProgress } from "./progress.ts";
import { createRng, row } from "../kernels/mod.ts";
import type { Split, Stage, Task } from "./types.ts";

/** Which items the full-ranking protocol excludes from the candidates. */
export type Mask = "none" | "train" | "history";

/** Options of {@linkcode evaluate}. */
export interface EvaluateOptions {
  /** @default "test" */
  stage?: Stage;
  /** Full-ranking exclusion (sequential task only). @default "none" */
  mask?: Mask;
  /** Users per scorer call. @default 256 */
  batchSize?: number;
  /** Evaluate a seeded subset of this many users (validation during training). */
  maxUsers?: number;
  progress?: Progress;
}

/** Metric means and per-user values of one evaluation. */
export interface Evaluation {
  readonly means: Record<string, number>;
  readonly perUser: PerUserMetrics;
  /** User rows that were evaluated, in the order of `perUser`. */
  readonly userRows: Int32Array;
}

/** Items of user row `u` visible at `stage`: train items, plus the validation item at test. */
export function historyAt(split: Split, u: number, stage: Stage): Int32Array {
  const train = row(split.train, u);
  if (stage === "valid") return train;
  const out = new Int32Array(train.length + 1);
  out.set(train);
  out[train.length] = split.valid[u];
  return out;
}

/** Seeded subset of user rows (sorted), or all rows when `max` is absent or large. */
export function evaluationUsers(nUsers: number, max?: number): Int32Array {
  const all = Int32Array.from({ length: nUsers }, (_, i) => i);
  if (max === undefined || max >= nUsers) return all;
  createRng(0x5eed).fork("validation-subset").shuffle(all);
  return all.subarray(0, max).sort();
}

/**
 * Evaluates `scorer` on `task` at `options.stage`.
 *
 * @example
 * ```ts ignore
 * const { means } = await evaluate(scorer, split, "direct", { stage: "test" });
 * console.log(means["NDCG@10"]);
 * ```
 */
export async function evaluate(
  scorer: Scorer,
  split: Split,
  task: Task,
  options: EvaluateOptions = {},
): Promise<Evaluation> {
  const stage = options.stage ?? "test";
  const batchSize = options.batchSize ?? 256;
  const progress = options.progress ?? silentProgress;
  const userRows = evaluationUsers(split.nUsers, options.maxUsers);
  const acc = new MetricAccumulator(userRows.length, ALL_METRICS);
  const score = task === "direct"
    ? directBatch(scorer, split, stage)
    : sequentialBatch(scorer, split, stage, options.mask ?? "none");
  progress.start(`evaluate ${task}/${stage}`, userRows.length);
  for (let start = 0; start < userRows.length; start += batchSize) {
    const batch = userRows.subarray(start, Math.min(start + batchSize, userRows.length));
    const blocks = await score(batch);
    for (let i = 0; i < batch.length; i++) acc.add(start + i, blocks[i]);
    progress.tick(batch.length);
  }
  progress.done();
  return { means: acc.means(), perUser: acc.values, userRows };
}

type BatchScorer = (rows: Int32Array) => Promise<{ greater: number; ties: number }[]>;

function targetsOf(split: Split, stage: Stage): Int32Array {
  return stage === "test" ? split.test : split.valid;
}

function directBatch(scorer: Scorer, split: Split, stage: Stage): BatchScorer {
  const targets = targetsOf(split, stage);
  const negatives = stage === "test" ? split.testNegatives : split.validNegatives;
  const k = split.negativesPerUser;
  const perUser = k + 1;
  return async (rows) => {
    // The held-out item sits in column 0; the tie rule makes its position irrelevant.
    const candidates = new Int32Array(rows.length * perUser);
    for (let i = 0; i < rows.length; i++) {
      const u = rows[i];
      candidates[i * perUser] = targets[u];
      candidates.set(negatives.subarray(u * k, (u + 1) * k), i * perUser + 1);
    }
    const request: CandidateRequest = { stage, userRows: rows, candidates, perUser };
    if (scorer.scoreCandidates) {
      const scores = checkLength(await scorer.scoreCandidates(request), candidates.length);
      return [...rows].map((_, i) => rankBlock(scores.subarray(i * perUser, (i + 1) * perUser), 0));
    }
    if (scorer.scoreAll) {
      const width = split.nItems + 1;
      const all = checkLength(await scorer.scoreAll(request), rows.length * width);
      const scores = new Float32Array(candidates.length);
      for (let j = 0; j < candidates.length; j++) {
        scores[j] = all[Math.floor(j / perUser) * width + candidates[j]];
      }
      return [...rows].map((_, i) => rankBlock(scores.subarray(i * perUser, (i + 1) * perUser), 0));
    }
    if (scorer.recommend) {
      const lists = await scorer.recommend({ ...request, k: 10 });
      return lists.map((list, i) => listRankBlock(list, targets[rows[i]], perUser));
    }
    throw new TypeError("Expected the scorer to implement scoreCandidates, scoreAll or recommend");
  };
}

function sequentialBatch(scorer: Scorer, split: Split, stage: Stage, mask: Mask): BatchScorer {
  const targets = targetsOf(split, stage);
  const width = split.nItems + 1;
  // A stamp per item marks the masked items of the current user without reallocating.
  const stamp = new Int32Array(width);
  let mark = 0;
  const masked = (u: number): number => {
    mark++;
    stamp[0] = mark;
    if (mask === "none") return 0;
    const items = mask === "train" ? row(split.train, u) : historyAt(split, u, stage);
    let count = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (item !== targets[u] && stamp[item] !== mark) {
        stamp[item] = mark;
        count++;
      }
    }
    return count;
  };
  const skip = (i: number) => stamp[i] === mark;
  return async (rows) => {
    const request = { stage, userRows: rows };
    if (scorer.scoreAll) {
      const all = checkLength(await scorer.scoreAll(request), rows.length * width);
      return [...rows].map((u, i) => {
        masked(u);
        return rankBlock(all.subarray(i * width, (i + 1) * width), targets[u], skip);
      });
    }
    if (scorer.recommend) {
      const lists = await scorer.recommend({ ...request, k: 10 });
      return lists.map((list, i) => {
        const u = rows[i];
        const pool = split.nItems - masked(u);
        return listRankBlock(list.filter((item) => !skip(item)), targets[u], pool);
      });
    }
    throw new TypeError(
      "Expected the scorer to implement scoreAll or recommend for the sequential task",
    );
  };
}

function checkLength(scores: Float32Array, expected: number): Float32Array {
  if (scores.length !== expected) {
    throw new RangeError(`Expected ${expected} scores from the scorer but found ${scores.length}`);
  }
  return scores;
}

/**
 * Ranking metrics over the rank of one held-out item.
 *
 * Ties: when a scorer gives the held-out item the same score as other
 * candidates, elmbench breaks the tie uniformly at random *in expectation*:
 * the item's rank is uniform over the tied block, and every metric is its
 * exact expected value over that block. The rule is the same for every
 * method, needs no random numbers, and gives a constant scorer exactly the
 * random-guess value (HR@10 = 0.1 over 100 candidates), never HR@10 = 1.
 *
 * @module
 */

/** The cut-offs reported in the paper's tables. */
export const CUTOFFS = [1, 5, 10] as const;

/** Metric names in table order, e.g. `HR@5`, `NDCG@10`. */
export type MetricName = `${"HR" | "NDCG"}@${number}` | "MRR";

/**
 * Where the held-out item sits among the candidates: `greater` candidates
 * scored strictly higher and `ties` other candidates scored the same.
 * A list-producing model gives `greater = position - 1, ties = 0`, or
 * `greater = listLength, ties = pool - listLength - 1` when the item is absent.
 */
export interface RankBlock {
  readonly greater: number;
  readonly ties: number;
}

/** HR@k = 1 if the held-out item ranks in the top k (1-based rank <= k). */
export function hitAtK(rank: number, k: number): number {
  return rank <= k ? 1 : 0;
}

/** NDCG@k with one relevant item = 1 / log2(rank + 1) for rank <= k, else 0. */
export function ndcgAtK(rank: number, k: number): number {
  return rank <= k ? 1 / Math.log2(rank + 1) : 0;
}

/** Reciprocal rank. */
export function reciprocalRank(rank: number): number {
  return 1 / rank;
}

/**
 * Expected value of `metric(rank)` when the rank is uniform over
 * `greater + 1 .. greater + ties + 1`.
 *
 * @example
 * ```ts
 * import { expectedOverTies, hitAtK } from "./metrics.ts";
 * // A constant scorer over 100 candidates: HR@10 is 10 / 100.
 * expectedOverTies({ greater: 0, ties: 99 }, (r) => hitAtK(r, 10)); // 0.1
 * ```
 */
export function expectedOverTies(
  block: RankBlock,
  metric: (rank: number) => number,
  cutoff = Infinity,
): number {
  const first = block.greater + 1;
  if (block.ties === 0) return metric(first);
  // Ranks past `cutoff` score 0, so the sum stops there (HR@k and NDCG@k).
  const last = Math.min(first + block.ties, cutoff);
  let sum = 0;
  for (let r = first; r <= last; r++) sum += metric(r);
  return sum / (block.ties + 1);
}

/** H(n) = 1 + 1/2 + ... + 1/n, exact below 4096 and asymptotic (error < 1e-15) above. */
export function harmonic(n: number): number {
  if (n < 4096) {
    let h = 0;
    for (let i = n; i >= 1; i--) h += 1 / i;
    return h;
  }
  const inv = 1 / n;
  return Math.log(n) + 0.5772156649015329 + inv / 2 - (inv * inv) / 12 + (inv ** 4) / 120;
}

/** Expected reciprocal rank over a tied block: (H(g + t + 1) - H(g)) / (t + 1). */
export function expectedReciprocalRank(block: RankBlock): number {
  if (block.ties === 0) return 1 / (block.greater + 1);
  return (harmonic(block.greater + block.ties + 1) - harmonic(block.greater)) / (block.ties + 1);
}

/**
 * Locates the held-out score among candidate scores. `targetIndex` is the
 * held-out item's position in `scores`; `skip` marks positions that are not
 * candidates (masked history items), if given.
 * A NaN score is an error: a silently wrong number is worse than none.
 */
export function rankBlock(
  scores: Float32Array,
  targetIndex: number,
  skip?: (index: number) => boolean,
): RankBlock {
  const t = scores[targetIndex];
  if (Number.isNaN(t)) {
    throw new RangeError(`Expected a finite score for the held-out item but found NaN`);
  }
  let greater = 0;
  let ties = 0;
  for (let i = 0; i < scores.length; i++) {
    if (i === targetIndex) continue;
    const s = scores[i];
    if (s > t) {
      if (skip === undefined || !skip(i)) greater++;
    } else if (s === t) {
      if (skip === undefined || !skip(i)) ties++;
    } else if (Number.isNaN(s)) {
      throw new RangeError(`Expected finite candidate scores but found NaN at index ${i}`);
    }
  }
  return { greater, ties };
}

/**
 * The rank block of the held-out item in a ranked list of item ids
 * (generative models). Duplicates are dropped before ranking (the released
 * POD / ELMRec scorer double-counts them; elmbench does not). An item that is
 * absent ranks uniformly among the `pool - distinct` items not listed.
 */
export function listRankBlock(list: ArrayLike<number>, target: number, pool: number): RankBlock {
  const seen = new Set<number>();
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (seen.has(item)) continue;
    if (item === target) return { greater: seen.size, ties: 0 };
    seen.add(item);
  }
  return { greater: seen.size, ties: Math.max(0, pool - seen.size - 1) };
}

/** Metric names for a task, in the column order of the paper's tables. */
export function metricNames(task: "direct" | "sequential"): MetricName[] {
  return task === "direct"
    ? ["HR@1", "HR@5", "NDCG@5", "HR@10", "NDCG@10"]
    : ["HR@5", "NDCG@5", "HR@10", "NDCG@10"];
}

/** Every metric elmbench records (superset of both tables), plus MRR. */
export const ALL_METRICS: readonly MetricName[] = [
  "HR@1",
  "HR@5",
  "NDCG@5",
  "HR@10",
  "NDCG@10",
  "MRR",
];

/** The metric as a function of rank, and the rank past which it is 0. */
export function metricFn(name: MetricName): { fn: (rank: number) => number; cutoff: number } {
  if (name === "MRR") return { fn: reciprocalRank, cutoff: Infinity };
  const m = /^(HR|NDCG)@(\d+)$/.exec(name);
  if (!m) throw new RangeError(`Expected a metric like "HR@10" or "MRR" but found "${name}"`);
  const k = Number(m[2]);
  return { fn: m[1] === "HR" ? (r) => hitAtK(r, k) : (r) => ndcgAtK(r, k), cutoff: k };
}

/** Per-user metric values, one Float64Array per metric, in user-row order. */
export type PerUserMetrics = Record<string, Float64Array>;

/** Accumulates per-user metric values from rank blocks. */
export class MetricAccumulator {
  readonly #fns: [MetricName, { fn: (rank: number) => number; cutoff: number }][];
  readonly values: PerUserMetrics = {};

  constructor(nUsers: number, names: readonly MetricName[] = ALL_METRICS) {
    this.#fns = names.map((n) => [n, metricFn(n)]);
    for (const n of names) this.values[n] = new Float64Array(nUsers);
  }

  /** Records user row `userRow`'s rank block. */
  add(userRow: number, block: RankBlock): void {
    for (const [name, { fn, cutoff }] of this.#fns) {
      this.values[name][userRow] = name === "MRR"
        ? expectedReciprocalRank(block)
        : expectedOverTies(block, fn, cutoff);
    }
  }

  /** Mean of every metric over users. */
  means(): Record<string, number> {
    return meanMetrics(this.values);
  }
}

/** Mean of every metric over users. */
export function meanMetrics(values: PerUserMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(values)) {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i];
    out[name] = v.length ? s / v.length : NaN;
  }
  return out;
}

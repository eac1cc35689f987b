/**
 * Paired significance between two methods over the same users: the paired
 * t-test on per-user metric differences, with the t distribution from
 * `@stdlib` (a well-kept numerical library) rather than a hand-rolled
 * incomplete beta function.
 *
 * @module
 */
import tCdf from "@stdlib/stats-base-dists-t-cdf";

/** Result of {@linkcode pairedTTest}. */
export interface TTestResult {
  /** Mean of a - b. */
  readonly meanDifference: number;
  readonly t: number;
  readonly degreesOfFreedom: number;
  /** Two-sided p-value. */
  readonly p: number;
}

/**
 * Two-sided paired t-test of `a` against `b` (same users, same order).
 *
 * @example
 * ```ts
 * import { pairedTTest } from "./stats.ts";
 * const { p } = pairedTTest(Float64Array.of(1, 1, 0, 1), Float64Array.of(0, 1, 0, 0));
 * ```
 */
export function pairedTTest(a: Float64Array, b: Float64Array): TTestResult {
  if (a.length !== b.length) {
    throw new RangeError(
      `Expected paired samples of equal length but found ${a.length} and ${b.length}`,
    );
  }
  const n = a.length;
  if (n < 2) throw new RangeError(`Expected at least 2 paired samples but found ${n}`);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += a[i] - b[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (a[i] - b[i] - mean) ** 2;
  const sd = Math.sqrt(ss / (n - 1));
  const df = n - 1;
  if (sd === 0) {
    // Identical differences: no variance, so either no effect or a certain one.
    return {
      meanDifference: mean,
      t: mean === 0 ? 0 : Infinity * Math.sign(mean),
      degreesOfFreedom: df,
      p: mean === 0 ? 1 : 0,
    };
  }
  const t = mean / (sd / Math.sqrt(n));
  const p = 2 * (1 - tCdf(Math.abs(t), df));
  return { meanDifference: mean, t, degreesOfFreedom: df, p: Math.min(1, Math.max(0, p)) };
}

/**
 * T5's bucketed relative positions, a port of Hugging Face's
 * `T5Attention._relative_position_bucket`. Computed in JS (shapes are static)
 * and fed to the graph as int64 constants that gather rows of the trainable
 * `relative_attention_bias` table.
 *
 * @module
 */

/** Options of {@linkcode relativePositionBucket}. */
export interface BucketOptions {
  /** Encoder: true; decoder (causal): false. @default true */
  bidirectional?: boolean;
  /** @default 32 */
  numBuckets?: number;
  /** @default 128 */
  maxDistance?: number;
}

const f = Math.fround;

/**
 * The bucket of `relative = key position - query position`. Small distances
 * get a bucket each; larger ones share log-spaced buckets up to
 * `maxDistance`. Arithmetic is rounded to float32 as PyTorch does it, so
 * bucket boundaries match HF exactly.
 *
 * @example
 * ```ts
 * import { relativePositionBucket } from "./relative_position.ts";
 * console.log(relativePositionBucket(1)); // 17: positive offsets use the upper half
 * ```
 */
export function relativePositionBucket(relative: number, options: BucketOptions = {}): number {
  const { bidirectional = true, maxDistance = 128 } = options;
  let numBuckets = options.numBuckets ?? 32;
  let bucket = 0;
  let n: number;
  if (bidirectional) {
    numBuckets = Math.floor(numBuckets / 2);
    if (relative > 0) bucket += numBuckets;
    n = Math.abs(relative);
  } else {
    n = -Math.min(relative, 0);
  }
  const maxExact = Math.floor(numBuckets / 2);
  if (n < maxExact) return bucket + n;
  const scaled = f(
    f(f(Math.log(f(n / maxExact))) / f(Math.log(maxDistance / maxExact))) *
      (numBuckets - maxExact),
  );
  return bucket + Math.min(maxExact + Math.trunc(scaled), numBuckets - 1);
}

/**
 * Row-major `[queries, keys]` buckets for queries at positions
 * `offset .. offset + queries - 1` and keys at `0 .. keys - 1`.
 *
 * @example
 * ```ts
 * import { bucketMatrix } from "./relative_position.ts";
 * const b = bucketMatrix(3, 3, { bidirectional: false });
 * ```
 */
export function bucketMatrix(
  queries: number,
  keys: number,
  options: BucketOptions & { offset?: number } = {},
): number[] {
  const offset = options.offset ?? 0;
  const out = new Array<number>(queries * keys);
  for (let i = 0; i < queries; i++) {
    for (let j = 0; j < keys; j++) {
      out[i * keys + j] = relativePositionBucket(j - (i + offset), options);
    }
  }
  return out;
}

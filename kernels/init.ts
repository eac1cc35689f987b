/**
 * Parameter initialisers. Each is a pure function of a seeded
 * {@linkcode Rng} and a shape, so one seed fixes every first value.
 *
 * @module
 */

import type { Rng } from "./rng.ts";

/** Draws a parameter's first values (row-major) for a shape. */
export type Initializer = (rng: Rng, shape: readonly number[]) => Float32Array;

function count(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** Options of {@linkcode normal}. */
export interface NormalOptions {
  /** @default 0 */
  mean?: number;
  /** @default 1 */
  std?: number;
}

/**
 * Gaussian draws.
 *
 * @example
 * ```ts
 * import { createRng } from "./rng.ts";
 * import { normal } from "./init.ts";
 * const w = normal({ std: 0.02 })(createRng(0), [4, 8]);
 * ```
 */
export function normal(options: NormalOptions = {}): Initializer {
  const { mean = 0, std = 1 } = options;
  return (rng, shape) => {
    const out = new Float32Array(count(shape));
    for (let i = 0; i < out.length; i++) out[i] = mean + std * rng.normal();
    return out;
  };
}

/** Options of {@linkcode uniform}. */
export interface UniformOptions {
  /** @default -1 */
  low?: number;
  /** @default 1 */
  high?: number;
}

/**
 * Uniform draws in `[low, high)`.
 *
 * @example
 * ```ts
 * import { createRng } from "./rng.ts";
 * import { uniform } from "./init.ts";
 * const w = uniform({ low: -0.1, high: 0.1 })(createRng(0), [3]);
 * ```
 */
export function uniform(options: UniformOptions = {}): Initializer {
  const { low = -1, high = 1 } = options;
  if (!(high > low)) {
    throw new RangeError(`Expected high > low but found low ${low} and high ${high}`);
  }
  return (rng, shape) => {
    const out = new Float32Array(count(shape));
    for (let i = 0; i < out.length; i++) out[i] = low + (high - low) * rng.next();
    return out;
  };
}

/** Options of {@linkcode xavier}. */
export interface XavierOptions {
  /** @default 1 */
  gain?: number;
}

/**
 * Xavier (Glorot) uniform: `U(-a, a)` with `a = gain * sqrt(6 / (fanIn + fanOut))`.
 * Shapes follow the PyTorch layout `[out, in, ...receptive]`, so a linear
 * weight `[out, in]` has `fanIn = in`; a 1-D shape uses its length for both.
 *
 * @example
 * ```ts
 * import { createRng } from "./rng.ts";
 * import { xavier } from "./init.ts";
 * const w = xavier()(createRng(0), [16, 8]);
 * ```
 */
export function xavier(options: XavierOptions = {}): Initializer {
  const { gain = 1 } = options;
  return (rng, shape) => {
    const receptive = count(shape.slice(2));
    const fanOut = (shape[0] ?? 1) * receptive;
    const fanIn = (shape.length > 1 ? shape[1] : shape[0] ?? 1) * receptive;
    const a = gain * Math.sqrt(6 / (fanIn + fanOut));
    return uniform({ low: -a, high: a })(rng, shape);
  };
}

/**
 * All zeros (needs no randomness).
 *
 * @example
 * ```ts
 * import { createRng } from "./rng.ts";
 * import { zeros } from "./init.ts";
 * const b = zeros()(createRng(0), [8]);
 * ```
 */
export function zeros(): Initializer {
  return (_rng, shape) => new Float32Array(count(shape));
}

/**
 * All ones (needs no randomness).
 *
 * @example
 * ```ts
 * import { createRng } from "./rng.ts";
 * import { ones } from "./init.ts";
 * const scale = ones()(createRng(0), [8]);
 * ```
 */
export function ones(): Initializer {
  return (_rng, shape) => new Float32Array(count(shape)).fill(1);
}

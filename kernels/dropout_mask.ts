/**
 * Dropout keep-masks computed inside the graph from one seed per run. A mask
 * drawn on the host costs a random number and four bytes of host-to-device
 * copy per element: at t5-small's size that is 650 million of each per
 * train step, 5 seconds on an H200 machine where the step itself takes
 * 0.17 s. Here the host feeds one int64 (`dropout.seed`, drawn from the
 * step's seeded rng) and the graph hashes (seed, site, element index) with
 * exact int64 arithmetic, so every device computes the same mask bit for
 * bit and a run repeats under its seed.
 *
 * The hash works modulo the prime M = 2^31 - 1: a = (index * 16807 + base)
 * mod M walks the residues (base mixes the seed and the site), then two
 * rounds of squaring, b = (a^2 + 11) mod M and d = (b^2 + a) mod M, make
 * neighbouring elements independent; an element is kept when d exceeds
 * p * M. Every intermediate stays below 2^63.
 *
 * @module
 */

import type { Graph, Tensor } from "./graph.ts";

/** The prime modulus of the hash. */
export const MASK_MODULUS = 2147483647;
/** Name of the per-run seed input that every mask of a graph shares. */
export const DROPOUT_SEED = "dropout.seed";

/** A site's constant in [1, M): FNV-1a of its name, so sites draw unrelated masks. */
export function siteConstant(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return 1 + (h % (MASK_MODULUS - 1));
}

/** The shared seed input, drawn once per run in [1, M). */
function seedOf(g: Graph): Tensor {
  return g.byName(DROPOUT_SEED) ??
    g.randomInput(
      DROPOUT_SEED,
      "int64",
      [],
      (rng) => BigInt64Array.of(BigInt(1 + rng.int(MASK_MODULUS - 1))),
    );
}

/**
 * The hash value in [0, M) of every element of `shape` at site `name`, as
 * an int64 tensor (exposed for tests of its statistics).
 */
export function maskHash(g: Graph, name: string, shape: readonly number[]): Tensor {
  const m = g.scalar(MASK_MODULUS, "int64");
  // base = (seed * 48271 + site) mod M, a scalar.
  const base = g.mod(g.add(g.mul(seedOf(g), 48271), siteConstant(name)), m);
  // index * 16807 mod M as a sum of per-axis terms (each constant is tiny: one axis long).
  // Adding `base` first keeps ORT from folding the full-size index into a constant.
  let a: Tensor = base;
  let stride = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const d = shape[axis];
    const term = Array.from(
      { length: d },
      (_, i) => Number((BigInt(i * stride) * 16807n) % BigInt(MASK_MODULUS)),
    );
    const axisShape = shape.map((s, k) => (k === axis ? s : 1));
    a = g.add(a, g.constant(term, "int64", axisShape));
    stride *= d;
  }
  a = g.mod(a, m);
  const b = g.mod(g.add(g.mul(a, a), 11), m);
  return g.mod(g.add(g.mul(b, b), a), m);
}

/**
 * The inverted-dropout keep mask of `shape` for site `name`: `0` with
 * probability about `p`, else `1 / (1 - p)`, in `dtype`.
 */
export function dropoutMask(
  g: Graph,
  name: string,
  shape: readonly number[],
  p: number,
  dtype: "float32" | "float64",
): Tensor {
  const threshold = Math.floor(p * MASK_MODULUS);
  const kept = g.less(g.scalar(threshold, "int64"), maskHash(g, name, shape));
  return g.mul(g.cast(kept, dtype), 1 / (1 - p));
}

/**
 * A seeded synthetic dataset in the P5 layout: the embedded default data of
 * elmbench, small enough to train every model on in seconds, with structure
 * that each family of methods can find.
 *
 * - Communities: every user and item belongs to one; users mostly pick items
 *   of their own community, which is what graph methods (LightGCN, SimpleX,
 *   ELMRec's graph embeddings) exploit.
 * - Popularity: item draws follow a Zipf law, so popularity baselines are
 *   non-trivial but beatable.
 * - Sequential habit: each item has a fixed table of successors; with
 *   probability `habit` the next item is a successor of the previous one,
 *   which is what sequence models exploit.
 * - No id leak: the generator's item indices are mapped to ids through a
 *   seeded random permutation, so `max(history) + 1` carries no signal
 *   (unlike the real data, see `spec/methods.md`).
 *
 * Like the real data, no user repeats an item and every id 1..nItems appears.
 *
 * @module
 */

import type { Dataset } from "./types.ts";
import { createRng, type Rng } from "../kernels/mod.ts";
import { formatSequentialTxt, sha256Text } from "./dataset_hash.ts";

/** Options of {@linkcode generateSynthetic}. */
export interface SyntheticOptions {
  /** Number of users. @default 600 */
  users?: number;
  /** Number of items; every id 1..items appears at least once. @default 400 */
  items?: number;
  /** Number of user/item communities. @default 8 */
  communities?: number;
  /** Mean sequence length (geometric tail above `minLength`). @default 12 */
  meanLength?: number;
  /** Shortest sequence. @default 5 */
  minLength?: number;
  /** Probability that a fresh draw comes from the user's community. @default 0.8 */
  inCommunity?: number;
  /** Zipf exponent of item popularity (0 = uniform). @default 1 */
  popularitySkew?: number;
  /** Probability that the next item is a successor of the previous one. @default 0.5 */
  habit?: number;
  /** Size of each item's fixed successor table. @default 3 */
  successors?: number;
  /** Seed of every random choice. @default 0 */
  seed?: number;
}

const DEFAULTS: Required<SyntheticOptions> = {
  users: 600,
  items: 400,
  communities: 8,
  meanLength: 12,
  minLength: 5,
  inCommunity: 0.8,
  popularitySkew: 1,
  habit: 0.5,
  successors: 3,
  seed: 0,
};

function resolve(options: SyntheticOptions): Required<SyntheticOptions> {
  const valid = Object.keys(DEFAULTS);
  for (const key of Object.keys(options)) {
    if (!valid.includes(key)) {
      throw new TypeError(`Unknown synthetic option "${key}"; valid options: ${valid.join(", ")}`);
    }
  }
  const o = { ...DEFAULTS, ...options };
  const int = (key: keyof SyntheticOptions, min: number) => {
    const v = o[key];
    if (!Number.isInteger(v) || v < min) {
      throw new RangeError(`Expected "${key}" to be an integer >= ${min} but found ${v}`);
    }
  };
  const prob = (key: keyof SyntheticOptions) => {
    const v = o[key];
    if (!(v >= 0 && v <= 1)) throw new RangeError(`Expected "${key}" in [0, 1] but found ${v}`);
  };
  int("users", 1);
  int("items", 2);
  int("communities", 1);
  int("minLength", 1);
  int("successors", 1);
  int("seed", 0);
  prob("inCommunity");
  prob("habit");
  if (o.communities > o.items) {
    throw new RangeError(
      `Expected at most ${o.items} communities (one item each) but found ${o.communities}`,
    );
  }
  if (o.minLength > o.items) {
    throw new RangeError(`Expected "minLength" <= items (${o.items}) but found ${o.minLength}`);
  }
  if (!(o.meanLength >= o.minLength)) {
    throw new RangeError(
      `Expected "meanLength" >= minLength (${o.minLength}) but found ${o.meanLength}`,
    );
  }
  if (!(o.popularitySkew >= 0)) {
    throw new RangeError(`Expected "popularitySkew" >= 0 but found ${o.popularitySkew}`);
  }
  return o;
}

/** Sampling from fixed weights by binary search over the cumulative sums. */
class Categorical {
  readonly #members: Int32Array;
  readonly #cdf: Float64Array;
  constructor(members: Int32Array, weights: Float64Array) {
    this.#members = members;
    this.#cdf = new Float64Array(weights.length);
    let acc = 0;
    for (let i = 0; i < weights.length; i++) this.#cdf[i] = acc += weights[i];
  }
  draw(rng: Rng): number {
    const x = rng.next() * this.#cdf[this.#cdf.length - 1];
    let lo = 0, hi = this.#cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#cdf[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return this.#members[lo];
  }
}

/**
 * Generates the synthetic dataset. Same options, same sequences and the same
 * `hash` (sha256 of the `sequential.txt` text). `negatives` is left absent:
 * the split draws seeded ones.
 *
 * @example
 * ```ts
 * import { generateSynthetic } from "./synthetic.ts";
 * const ds = await generateSynthetic({ users: 100, items: 50, seed: 1 });
 * console.log(ds.nUsers, ds.nItems); // 100 50
 * ```
 */
export async function generateSynthetic(options: SyntheticOptions = {}): Promise<Dataset> {
  const o = resolve(options);
  const rng = createRng(o.seed);
  const nI = o.items, nC = o.communities;

  // Items 0..nI-1 are dealt to communities so that none is empty.
  const itemCommunity = rng.fork("communities").shuffle(
    Int32Array.from({ length: nI }, (_, i) => i % nC),
  );
  // Popularity: a random Zipf rank per item, the weight 1/rank^s.
  const rank = rng.fork("popularity").shuffle(Int32Array.from({ length: nI }, (_, i) => i + 1));
  const weight = Float64Array.from(rank, (r) => Math.pow(r, -o.popularitySkew));
  const everyone = new Categorical(Int32Array.from({ length: nI }, (_, i) => i), weight);
  const byCommunity: Categorical[] = [];
  for (let c = 0; c < nC; c++) {
    const members = Int32Array.from({ length: nI }, (_, i) => i).filter((i) =>
      itemCommunity[i] === c
    );
    byCommunity.push(new Categorical(members, Float64Array.from(members, (i) => weight[i])));
  }
  // Successors come mostly from the item's own community, popular ones first.
  const succRng = rng.fork("successors");
  const successor = new Int32Array(nI * o.successors);
  for (let i = 0; i < nI; i++) {
    for (let k = 0; k < o.successors; k++) {
      let j = i;
      for (let t = 0; t < 10 && j === i; t++) {
        const pool = succRng.next() < o.inCommunity ? byCommunity[itemCommunity[i]] : everyone;
        j = pool.draw(succRng);
      }
      successor[i * o.successors + k] = j === i ? (i + 1) % nI : j;
    }
  }

  const seqRng = rng.fork("sequences");
  const maxLength = Math.max(o.minLength, Math.floor(nI / 2));
  // Geometric tail with mean meanLength - minLength.
  const tail = o.meanLength - o.minLength;
  const logQ = tail > 0 ? Math.log(tail / (tail + 1)) : 0;
  const offsets = new Uint32Array(o.users + 1);
  const chunks: Int32Array[] = [];
  const lastSeenBy = new Int32Array(nI).fill(-1);
  for (let u = 0; u < o.users; u++) {
    const community = seqRng.int(nC);
    let len = o.minLength;
    if (tail > 0) {
      let x = seqRng.next();
      while (x === 0) x = seqRng.next();
      len += Math.floor(Math.log(x) / logQ);
    }
    len = Math.min(len, maxLength);
    const seq = new Int32Array(len);
    let prev = -1;
    for (let p = 0; p < len; p++) {
      let next = -1;
      for (let t = 0; t < 20 && (next === -1 || lastSeenBy[next] === u); t++) {
        if (prev >= 0 && seqRng.next() < o.habit) {
          next = successor[prev * o.successors + seqRng.int(o.successors)];
        } else {
          next = (seqRng.next() < o.inCommunity ? byCommunity[community] : everyone).draw(seqRng);
        }
      }
      // Rarely every try repeats an item; walk to the next unused one.
      while (lastSeenBy[next] === u) next = (next + 1) % nI;
      lastSeenBy[next] = u;
      seq[p] = next;
      prev = next;
    }
    chunks.push(seq);
    offsets[u + 1] = offsets[u] + len;
  }
  const values = new Int32Array(offsets[o.users]);
  for (let u = 0; u < o.users; u++) values.set(chunks[u], offsets[u]);

  coverAllItems(values, nI, rng.fork("cover"));

  // Ids are a random permutation of the generator's indices, so id order
  // tells nothing about community, popularity or succession.
  const idOf = rng.fork("ids").shuffle(Int32Array.from({ length: nI }, (_, i) => i + 1));
  for (let k = 0; k < values.length; k++) values[k] = idOf[values[k]];

  const sequences = { offsets, values };
  const { seed, ...shape } = o;
  const description = Object.entries(shape).map(([k, v]) => `${k}=${v}`).join(",");
  return {
    name: "synthetic",
    nUsers: o.users,
    nItems: nI,
    sequences,
    hash: await sha256Text(formatSequentialTxt(sequences)),
    source: `synthetic(${description},seed=${seed})`,
  };
}

/**
 * Gives every never-drawn item one interaction by overwriting a random
 * interaction whose item occurs at least twice, so no other item disappears
 * and no user gets a repeat (an unused item is in no sequence).
 */
function coverAllItems(values: Int32Array, nI: number, rng: Rng): void {
  const count = new Int32Array(nI);
  for (let k = 0; k < values.length; k++) count[values[k]]++;
  for (let i = 0; i < nI; i++) {
    if (count[i] > 0) continue;
    if (values.length < nI) {
      throw new RangeError(
        `Expected at least ${nI} interactions to cover every item but found ${values.length}`,
      );
    }
    let k = rng.int(values.length);
    while (count[values[k]] < 2) k = (k + 1) % values.length;
    count[values[k]]--;
    values[k] = i;
    count[i] = 1;
  }
}

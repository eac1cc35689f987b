/**
 * Negatives for the direct (100-candidate) protocol: items a user never
 * interacted with, drawn uniformly without replacement by the seeded Rng.
 *
 * @module
 */
import { type Rng, row } from "../kernels/mod.ts";
import type { Ragged } from "./types.ts";

/**
 * Draws `perUser` distinct negatives per user from items 1..nItems that are
 * absent from the user's whole sequence (train, valid and test items alike),
 * so that no candidate list ever contains a second positive.
 */
export function drawNegatives(
  sequences: Ragged,
  nItems: number,
  perUser: number,
  rng: Rng,
): Int32Array {
  const nUsers = sequences.offsets.length - 1;
  const out = new Int32Array(nUsers * perUser);
  // A stamp per item marks "taken for this user" without clearing a set per user.
  const stamp = new Int32Array(nItems + 1);
  for (let u = 0; u < nUsers; u++) {
    const mark = u + 1;
    const seq = row(sequences, u);
    for (let i = 0; i < seq.length; i++) stamp[seq[i]] = mark;
    const available = nItems - countDistinct(seq);
    if (available < perUser) {
      throw new RangeError(
        `Expected at least ${perUser} items that user ${
          u + 1
        } never touched but found ${available}`,
      );
    }
    for (let j = 0; j < perUser; j++) {
      let item = rng.int(nItems) + 1;
      while (stamp[item] === mark) item = rng.int(nItems) + 1;
      stamp[item] = mark;
      out[u * perUser + j] = item;
    }
  }
  return out;
}

function countDistinct(seq: Int32Array): number {
  return new Set(seq).size;
}

/** Copies fixed negatives (from `negative.txt`) into a flat `nUsers x perUser` array. */
export function flattenNegatives(negatives: Ragged, nUsers: number): {
  data: Int32Array;
  perUser: number;
} {
  const perUser = negatives.offsets[1] - negatives.offsets[0];
  const data = new Int32Array(nUsers * perUser);
  for (let u = 0; u < nUsers; u++) {
    const r = row(negatives, u);
    if (r.length !== perUser) {
      throw new RangeError(
        `Expected ${perUser} negatives for user ${u + 1} but found ${r.length}`,
      );
    }
    data.set(r, u * perUser);
  }
  return { data, perUser };
}

/**
 * Sequence batching for the sequential recommenders: several users'
 * sequences packed whole into fixed rows of `len` slots, so that a compiled
 * graph with static shapes serves every batch and almost no slot is padding.
 *
 * Beauty's training sequences are 5.7 positions long on average; padded one
 * per row to 50 (as the SASRec paper's code does), 89% of the work of every
 * layer and of the loss over all items would go to padding. Packed, a
 * user's positions attend to each other only (the additive attention mask
 * {@linkcode attentionMask} builds from the layout), carry the position ids
 * their padded row would have given them ({@linkcode fillPositions}), and a
 * recurrent model resets its state where a user starts
 * ({@linkcode fillResets}); the result for every real position equals the
 * padded computation (`baselines/sasrec_test.ts` checks this).
 *
 * @module
 */

import { type Ragged, type Rng, row } from "../kernels/mod.ts";

/** Where each user of a batch sits: user `users[k]` fills `lengths[k]` slots from `starts[k]`. */
export interface Layout {
  /** Rows R of the batch. */
  readonly rows: number;
  /** Slots per row L. */
  readonly len: number;
  /** User rows in packing order. */
  readonly users: Int32Array;
  /** Flat slot index (`row * len + column`) of each user's first token. */
  readonly starts: Int32Array;
  readonly lengths: Int32Array;
}

/** Options of {@linkcode packLayouts}. */
export interface PackOptions {
  readonly rows: number;
  readonly len: number;
  /** Most users per batch. @default Infinity */
  readonly maxUsers?: number;
}

/**
 * Packs users, in the order given, into batches of `rows x len` slots,
 * first fit: a user goes to the first row with room for all of its
 * `lengthOf(u)` tokens (each at most `len`; users of length 0 are skipped).
 * A batch closes when it holds `maxUsers` users or the next user fits
 * nowhere; that user opens the next batch, so the order is kept.
 *
 * @example
 * ```ts
 * import { packLayouts } from "./seq_batches.ts";
 * const lengths = [3, 2, 4, 1];
 * const layouts = [...packLayouts(Int32Array.from([0, 1, 2, 3]), (u) => lengths[u], { rows: 1, len: 5 })];
 * console.log(layouts.map((l) => Array.from(l.users))); // [[0, 1], [2, 3]]
 * ```
 */
export function* packLayouts(
  order: Int32Array,
  lengthOf: (user: number) => number,
  options: PackOptions,
): Generator<Layout> {
  const { rows, len } = options;
  const maxUsers = options.maxUsers ?? Infinity;
  const used = new Int32Array(rows);
  let users: number[] = [], starts: number[] = [], lengths: number[] = [];
  const flush = (): Layout => {
    const layout = {
      rows,
      len,
      users: Int32Array.from(users),
      starts: Int32Array.from(starts),
      lengths: Int32Array.from(lengths),
    };
    used.fill(0);
    users = [];
    starts = [];
    lengths = [];
    return layout;
  };
  for (const u of order) {
    const n = lengthOf(u);
    if (n === 0) continue;
    if (n > len) {
      throw new RangeError(`Expected at most ${len} tokens for user row ${u} but found ${n}`);
    }
    let r = users.length < maxUsers ? used.findIndex((filled) => filled + n <= len) : -1;
    if (r < 0) {
      yield flush();
      r = 0;
    }
    users.push(u);
    starts.push(r * len + used[r]);
    lengths.push(n);
    used[r] += n;
  }
  if (users.length) yield flush();
}

/** Number of slots a layout holds. */
export function slots(layout: Layout): number {
  return layout.rows * layout.len;
}

/**
 * The additive attention mask `[R, L, L]` (0 = may attend, -1e9 = may not)
 * of a layout: a token attends to the tokens of its own user only, and with
 * `causal` to those not after it. An empty slot attends to itself, so that
 * no softmax row is all masked.
 */
export function attentionMask(layout: Layout, causal: boolean, out?: Float32Array): Float32Array {
  const { rows, len } = layout;
  const mask = out ?? new Float32Array(rows * len * len);
  mask.fill(-1e9);
  for (let s = 0; s < rows * len; s++) {
    const r = Math.floor(s / len), i = s % len;
    mask[(r * len + i) * len + i] = 0;
  }
  layout.users.forEach((_, k) => {
    const start = layout.starts[k], n = layout.lengths[k];
    const r = Math.floor(start / len), c0 = start % len;
    for (let i = c0; i < c0 + n; i++) {
      const end = causal ? i + 1 : c0 + n;
      mask.fill(0, (r * len + i) * len + c0, (r * len + i) * len + end);
    }
  });
  return mask;
}

/**
 * Position ids per slot: `fromEnd` gives a user's last token `len - 1` and
 * counts back (the SASRec paper's left-padded rows), `fromStart` gives its
 * first token 0 (BERT4Rec's right-padded rows). Empty slots get 0.
 */
export function fillPositions(layout: Layout, mode: "fromEnd" | "fromStart", out?: Int32Array) {
  const ids = out ?? new Int32Array(slots(layout));
  ids.fill(0);
  layout.users.forEach((_, k) => {
    const start = layout.starts[k], n = layout.lengths[k];
    for (let i = 0; i < n; i++) ids[start + i] = mode === "fromEnd" ? layout.len - n + i : i;
  });
  return ids;
}

/** 1 at each user's first slot (a recurrent state restarts there), else 0; `[R * L]`. */
export function fillResets(layout: Layout, out?: Float32Array): Float32Array {
  const resets = out ?? new Float32Array(slots(layout));
  resets.fill(0);
  for (const start of layout.starts) resets[start] = 1;
  return resets;
}

/**
 * Writes each user's tokens into its slots of `out` (`[R * L]`), 0 in empty
 * slots; `tokens(k)` gives the k-th user's (at most `lengths[k]` of them,
 * the last ones).
 */
export function fillSlots(
  layout: Layout,
  tokens: (k: number) => ArrayLike<number>,
  out: Int32Array,
): Int32Array {
  out.fill(0);
  layout.users.forEach((_, k) => {
    const t = tokens(k), n = layout.lengths[k];
    for (let i = 0; i < n; i++) out[layout.starts[k] + i] = t[t.length - n + i];
  });
  return out;
}

/** Flat slot index of each user's last token. */
export function lastSlots(layout: Layout): Int32Array {
  return layout.starts.map((s, k) => s + layout.lengths[k] - 1);
}

/**
 * Rows per batch for `batchSize` users whose token counts average `mean`:
 * enough that a batch is full nine times in ten at Beauty's spread of
 * lengths (a first-fit packing of 128 users into 17 rows of 50 leaves 14% of
 * slots empty and closes early in 8% of batches).
 */
export function rowsFor(batchSize: number, mean: number, len: number): number {
  return Math.max(1, Math.ceil((batchSize * mean) / (0.9 * len)));
}

/**
 * The training positions of user row `u`: inputs `s[:-1]` and next items
 * `s[1:]` of its training sequence `s`, the last `len` of each.
 */
export function nextItemPairs(train: Ragged, u: number, len: number) {
  const s = row(train, u);
  const n = Math.max(0, Math.min(len, s.length - 1));
  return { inputs: s.subarray(s.length - 1 - n, s.length - 1), targets: s.subarray(s.length - n) };
}

/** User rows `0..n-1` shuffled by `rng`. */
export function shuffledUsers(n: number, rng: Rng): Int32Array {
  return rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
}

/**
 * Scoring users against an item embedding table, for every embedding model
 * (BPR-MF, LightGCN, SimpleX): candidate scoring for the direct protocol by
 * gathering rows and dotting them, and full ranking as one engine `MatMul`
 * per block of users (`B x d` times `d x (nItems + 1)`), compiled once.
 *
 * @module
 */

import type { CandidateRequest, ScoreRequest } from "../harness/plugin.ts";
import {
  compileInference,
  type Device,
  Graph,
  type Inference,
  ParamStore,
} from "../kernels/mod.ts";

/** How a user vector and an item vector are compared. */
export type Similarity = "dot" | "cosine";

/** Options of {@linkcode createEmbeddingScorer}. */
export interface EmbeddingScorerOptions {
  /** Embedding width `d`. */
  dim: number;
  /** @default "dot" */
  similarity?: Similarity;
  /** Users per `MatMul` of {@linkcode EmbeddingScorer.scoreAll}; larger requests are split. @default 256 */
  blockSize?: number;
  /** ONNX Runtime intra-op threads. @default 2 */
  threads?: number;
  /** Execution provider. @default "cpu" */
  device?: Device;
}

/** Scores user vectors (`n x d`, row-major) against the current item table. */
export interface EmbeddingScorer {
  readonly dim: number;
  /** Number of items; the table has `nItems + 1` rows, row 0 (item 0) unused. */
  readonly nItems: number;
  /** Replaces the item table (`(nItems + 1) x d`); the array is not kept. */
  setItems(items: Float32Array): void;
  /** `n x perUser` scores of `candidates` (item ids, row-major) for `n` user vectors. */
  scoreCandidates(users: Float32Array, candidates: Int32Array, perUser: number): Float32Array;
  /** `n x (nItems + 1)` scores of every item; column 0 is left as computed and ignored. */
  scoreAll(users: Float32Array): Promise<Float32Array>;
}

/** Scales each row of `x` (`n x d`) to unit length in place (`F.normalize`, eps 1e-12). */
export function normalizeRows(x: Float32Array, d: number): Float32Array {
  for (let o = 0; o < x.length; o += d) {
    let s = 0;
    for (let k = 0; k < d; k++) s += x[o + k] * x[o + k];
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let k = 0; k < d; k++) x[o + k] *= inv;
  }
  return x;
}

/**
 * Copies rows `rows[i] + offset` of `table` (`? x d`) into a new `rows.length x d` array.
 *
 * @example
 * ```ts
 * import { gatherRows } from "./embedding_scorer.ts";
 * const t = new Float32Array([0, 0, 1, 2, 3, 4]);
 * console.log(Array.from(gatherRows(t, new Int32Array([0, 1]), 2, 1))); // [1, 2, 3, 4]
 * ```
 */
export function gatherRows(table: Float32Array, rows: Int32Array, d: number, offset = 0) {
  const out = new Float32Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) {
    const r = (rows[i] + offset) * d;
    out.set(table.subarray(r, r + d), i * d);
  }
  return out;
}

/**
 * Compiles the full-ranking product for a table of `nItems + 1` items and
 * returns a scorer over it. With `cosine`, item rows are normalised once per
 * {@linkcode EmbeddingScorer.setItems} and user rows per call.
 *
 * @example
 * ```ts
 * import { createEmbeddingScorer } from "./embedding_scorer.ts";
 * // two items (row 0 unused), d = 2
 * const scorer = await createEmbeddingScorer(new Float32Array([0, 0, 1, 0, 0, 1]), { dim: 2 });
 * const all = await scorer.scoreAll(new Float32Array([2, 3]));
 * console.log(Array.from(all)); // [0, 2, 3]
 * console.log(Array.from(scorer.scoreCandidates(new Float32Array([2, 3]), new Int32Array([2]), 1))); // [3]
 * ```
 */
export async function createEmbeddingScorer(
  items: Float32Array,
  options: EmbeddingScorerOptions,
): Promise<EmbeddingScorer> {
  const d = options.dim;
  const similarity = options.similarity ?? "dot";
  const block = options.blockSize ?? 256;
  if (!Number.isInteger(d) || d < 1 || items.length % d !== 0 || items.length < d) {
    throw new TypeError(
      `Expected an item table of (nItems + 1) x ${d} floats but found ${items.length}`,
    );
  }
  const width = items.length / d;
  const nItems = width - 1;
  // The table is fed transposed (d x width) so that the product needs no
  // Transpose node: one MatMul per block, compiled once (fixed shapes).
  const g = new Graph();
  const u = g.input("users", "float32", [block, d]);
  const itemsT = g.input("items_t", "float32", [d, width]);
  const infer: Inference = await compileInference(
    { scores: g.matMul(u, itemsT) },
    new ParamStore(),
    { intraOpThreads: options.threads ?? 2, device: options.device },
  );
  const table = new Float32Array(width * d);
  const transposed = new Float32Array(d * width);
  const padded = new Float32Array(block * d);

  const setItems = (next: Float32Array) => {
    if (next.length !== width * d) {
      throw new TypeError(`Expected ${width} x ${d} item floats but found ${next.length}`);
    }
    table.set(next);
    if (similarity === "cosine") normalizeRows(table, d);
    for (let i = 0; i < width; i++) {
      for (let k = 0; k < d; k++) transposed[k * width + i] = table[i * d + k];
    }
  };
  setItems(items);

  const prepareUsers = (users: Float32Array) => {
    if (users.length % d !== 0) {
      throw new TypeError(`Expected user vectors of n x ${d} floats but found ${users.length}`);
    }
    return similarity === "cosine" ? normalizeRows(users.slice(), d) : users;
  };

  return {
    dim: d,
    nItems,
    setItems,
    scoreCandidates(users, candidates, perUser) {
      const us = prepareUsers(users);
      const n = us.length / d;
      if (candidates.length !== n * perUser) {
        throw new TypeError(
          `Expected ${n} x ${perUser} candidates but found ${candidates.length}`,
        );
      }
      const out = new Float32Array(candidates.length);
      for (let i = 0; i < n; i++) {
        const uo = i * d;
        for (let j = 0; j < perUser; j++) {
          const io = candidates[i * perUser + j] * d;
          let s = 0;
          for (let k = 0; k < d; k++) s += us[uo + k] * table[io + k];
          out[i * perUser + j] = s;
        }
      }
      return out;
    },
    async scoreAll(users) {
      const us = prepareUsers(users);
      const n = us.length / d;
      const out = new Float32Array(n * width);
      for (let start = 0; start < n; start += block) {
        const rows = Math.min(block, n - start);
        // A short last block is zero-padded to the compiled shape.
        padded.fill(0);
        padded.set(us.subarray(start * d, (start + rows) * d));
        const { scores } = await infer.run({ users: padded, items_t: transposed });
        out.set((scores.data as Float32Array).subarray(0, rows * width), start * width);
      }
      return out;
    },
  };
}

/** The two scoring styles of a plugin's scorer, over user vectors made on demand. */
export interface VectorScorer {
  scoreCandidates(request: CandidateRequest): Promise<Float32Array>;
  scoreAll(request: ScoreRequest): Promise<Float32Array>;
}

/**
 * Wraps an {@linkcode EmbeddingScorer} as a harness scorer: `userVectors`
 * maps a request's user rows (and stage, for models whose user vector reads
 * the visible history) to `n x d` vectors.
 *
 * @example
 * ```ts ignore
 * const scorer = vectorScorer(es, (rows) => gatherRows(userTable, rows, d));
 * ```
 */
export function vectorScorer(
  scorer: EmbeddingScorer,
  userVectors: (request: ScoreRequest) => Float32Array | Promise<Float32Array>,
): VectorScorer {
  return {
    async scoreCandidates(request) {
      const users = await userVectors(request);
      return scorer.scoreCandidates(users, request.candidates, request.perUser);
    },
    async scoreAll(request) {
      return scorer.scoreAll(await userVectors(request));
    },
  };
}

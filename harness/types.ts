/**
 * The data types every stage shares: ids, datasets, splits, tasks.
 *
 * Bulk data lives in typed arrays laid out as CSR (offsets + values; the
 * engine's {@linkcode Ragged}), so a 300k-interaction dataset is a handful
 * of allocations, not 300k objects.
 *
 * @module
 */
import type { Ragged } from "../kernels/mod.ts";

// The engine's ragged rows, named here beside the types that hold them.
export type { Ragged };

/** A user id as written in `sequential.txt`: 1-based and contiguous. */
export type UserId = number & { readonly __brand: "UserId" };
/** An item id as written in `sequential.txt`: 1-based and contiguous. */
export type ItemId = number & { readonly __brand: "ItemId" };

/** The two tasks of the paper: Table 2 (direct) and Table 3 (sequential). */
export type Task = "direct" | "sequential";
/** The tasks, in table order. */
export const TASKS: readonly Task[] = ["direct", "sequential"];

/** Which held-out item a stage scores: `valid` = items[-2], `test` = items[-1]. */
export type Stage = "valid" | "test";

/** How item ids are numbered before anything else sees the data. */
export type Reindex = "none" | "random";

/**
 * A dataset in the P5 / POD / ELMRec layout. Row `u - 1` of `sequences` holds
 * user `u`'s items in time order; row `u - 1` of `negatives` (when the
 * dataset ships `negative.txt`) holds that user's fixed test negatives.
 */
export interface Dataset {
  /** Short name, e.g. `beauty` (the directory name) or `synthetic`. */
  readonly name: string;
  readonly nUsers: number;
  readonly nItems: number;
  readonly sequences: Ragged;
  readonly negatives?: Ragged;
  /**
   * sha256 (hex) of the parsed content, written canonically
   * (`datasetContentHash`): the same users, items and negatives hash alike
   * whatever the folder is called and however the files end their lines.
   */
  readonly hash: string;
  /**
   * sha256 (hex) of the files' bytes as read (`sequential.txt`, then
   * `negative.txt`), for a dataset read from files; equal to `hash` when
   * the files are written canonically, as the released ones are.
   */
  readonly rawHash?: string;
  /** Where it came from: a directory path or a generator description. */
  readonly source: string;
}

/**
 * A leave-one-out split shared by every plugin: train = items[:-2],
 * valid = items[-2], test = items[-1]; plus the 99 negatives per user for the
 * direct protocol at each stage. Index arrays are by user row (`u - 1`).
 */
export interface Split {
  readonly dataset: Dataset;
  readonly seed: number;
  readonly reindex: Reindex;
  readonly nUsers: number;
  readonly nItems: number;
  /** items[:-2] of every user, in time order. */
  readonly train: Ragged;
  readonly valid: Int32Array;
  readonly test: Int32Array;
  /** `nUsers x negativesPerUser` negatives for the direct protocol. */
  readonly validNegatives: Int32Array;
  readonly testNegatives: Int32Array;
  readonly negativesPerUser: number;
  /** Where the test negatives came from. */
  readonly testNegativeSource: "negative.txt" | "seeded";
  /**
   * sha256 (hex) of the stored split bytes, which hold the split, the data's
   * content hash and the split's parameters, not the dataset's name.
   */
  readonly hash: string;
}

/** Machine-readable stats of a dataset (`elmbench data stats`). */
export interface DatasetStats {
  readonly name: string;
  readonly users: number;
  readonly items: number;
  readonly interactions: number;
  readonly sparsity: number;
  readonly minLength: number;
  readonly meanLength: number;
  readonly maxLength: number;
  readonly hasNegatives: boolean;
  /** The content hash (`data_hash`). */
  readonly hash: string;
  /** The files' bytes' sha256, where it differs from `hash` (files not written canonically). */
  readonly rawHash?: string;
}

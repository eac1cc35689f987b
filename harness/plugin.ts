/**
 * The one contract every model answers: typed defaults, presets, what it
 * needs from the harness, and `fit` that returns a scorer. The harness calls
 * stages in one direction (data -> split -> fit -> score -> evaluate ->
 * report); a plugin never calls back into the runner.
 *
 * @module
 */
import type { Progress } from "./progress.ts";
import type { Rng } from "../kernels/mod.ts";
import type { Split, Stage, Task } from "./types.ts";

/** Sizes of a run: `tiny` for tests and CI, `cpu` for 2-core machines, `paper` as published. */
export type Preset = "tiny" | "cpu" | "paper";
/** The presets, smallest first. */
export const PRESETS: readonly Preset[] = ["tiny", "cpu", "paper"];

/** A configuration value: configs are flat and typed by their defaults. */
export type ConfigValue = number | string | boolean;
/** A plugin's configuration: a flat record whose value types are fixed by the defaults. */
export type PluginConfig = Record<string, ConfigValue>;

/** What a plugin needs the harness to provide (recorded and shown in `--help`). */
export type Requirement =
  | "train-interactions"
  | "train-sequences"
  | "train-graph"
  | "item-ids"
  | "prompts";

/** Compute devices a plugin may be asked to run on. */
export type Device = "cpu" | "cuda" | "webgpu";

/**
 * Everything a plugin may use while fitting. Histories are the user's items
 * in time order that the stage may see: train items for `valid`, train items
 * plus the validation item for `test`.
 */
export interface FitContext {
  readonly split: Split;
  readonly task: Task;
  readonly seed: number;
  /** A generator forked for this plugin and cell; use it (or forks of it) for every draw. */
  readonly rng: Rng;
  /**
   * A generator forked for this plugin and seed only, the same in every
   * task's cell: for a fit whose model serves several cells (the T5 plugins
   * train on both tasks and share one checkpoint), so that which cell runs
   * an epoch does not change the model.
   */
  readonly sharedRng: Rng;
  readonly device: Device;
  readonly threads: number;
  readonly progress: Progress;
  /** Items of user row `userRow` visible at `stage`, oldest first. */
  history(userRow: number, stage: Stage): Int32Array;
  /**
   * Scores `scorer` on the validation stage (for early stopping); returns
   * metric means such as `{ "NDCG@10": 0.21 }`. By default it uses this
   * cell's protocol; `protocol: "full"` ranks all items with training items
   * excluded (RecBole's model selection). `maxUsers` evaluates a fixed
   * seeded subset to keep epochs cheap (`Infinity` for all users).
   */
  validate(scorer: Scorer, options?: ValidateOptions): Promise<Record<string, number>>;
  /** Interruption: long loops check it between batches. */
  readonly signal?: AbortSignal;
}

/** Options of {@linkcode FitContext.validate}. */
export interface ValidateOptions {
  /** Users evaluated (a fixed seeded subset). @default the run's validationUsers (2000) */
  readonly maxUsers?: number;
  /** `task`: this cell's protocol; `full`: all items, training items excluded. @default "task" */
  readonly protocol?: "task" | "full";
}

/** A batch of users to score at one stage; `users` holds user rows (`u - 1`). */
export interface ScoreRequest {
  readonly stage: Stage;
  readonly userRows: Int32Array;
}

/** Candidate scoring for the direct protocol. */
export interface CandidateRequest extends ScoreRequest {
  /** `userRows.length x perUser` item ids, row-major. */
  readonly candidates: Int32Array;
  readonly perUser: number;
}

/**
 * What `fit` returns. A scorer implements one of the scoring styles per task:
 * scores (higher is better) or ranked lists (generative models). The harness
 * prefers scores where both exist.
 */
export interface Scorer {
  /** Direct protocol: `userRows.length x perUser` scores. */
  scoreCandidates?(request: CandidateRequest): Promise<Float32Array>;
  /** Full ranking: `userRows.length x (nItems + 1)` scores; column 0 is ignored. */
  scoreAll?(request: ScoreRequest): Promise<Float32Array>;
  /** Ranked item lists, best first; with `candidates`, restricted to them. */
  recommend?(
    request: ScoreRequest & { k: number; candidates?: Int32Array; perUser?: number },
  ): Promise<Int32Array[]>;
  /** Extra facts to record with the result (epochs run, best epoch, ...). */
  readonly info?: Record<string, unknown>;
  /** Saves the fitted state (`--save`). */
  save?(dir: string): Promise<void>;
}

/** A registered model. `C` is its typed configuration. */
export interface Plugin<C extends PluginConfig = PluginConfig> {
  /** Lower-case name used on the command line, e.g. `lightgcn`. */
  readonly name: string;
  /** One line shown in listings and help. */
  readonly description: string;
  /** The tasks it supports. */
  readonly tasks: readonly Task[];
  /** Every configuration key with its default; an unknown key is an error. */
  readonly defaults: C;
  /** Per-preset overrides of the defaults. */
  readonly presets?: Partial<Record<Preset, Partial<C>>>;
  /** Short documentation of each key, shown in `--help`. */
  readonly docs?: Partial<Record<keyof C, string>>;
  readonly requires: readonly Requirement[];
  /**
   * Config keys that make a result a different measurement of the same
   * plugin (e.g. `decode` of the generative plugins). When such a key
   * differs from the preset's value (or the default, without one), the
   * record's `variant` is `key=value`
   * (joined by `, `) and tables show it as a row of its own.
   */
  readonly variantKeys?: readonly (keyof C & string)[];
  /**
   * Keys added after results were recorded, each with the value those
   * results ran at. At that value a key stays out of the config hash, so
   * the earlier records keep their cell ids: reruns still skip them and
   * `check` still matches them.
   */
  readonly addedKeys?: Partial<C>;
  /** Trains on `ctx.split` (train interactions only) and returns a scorer. */
  fit(ctx: FitContext, config: C): Promise<Scorer>;
  /** Restores a scorer saved by `Scorer.save` (`--load`). */
  load?(ctx: FitContext, config: C, dir: string): Promise<Scorer>;
}

/**
 * Declares a plugin with its config type inferred from the defaults.
 *
 * @example
 * ```ts
 * import { definePlugin } from "./plugin.ts";
 * export const constant = definePlugin({
 *   name: "constant",
 *   description: "Scores every item 0 (a sanity floor)",
 *   tasks: ["direct", "sequential"],
 *   defaults: {},
 *   requires: [],
 *   fit: () =>
 *     Promise.resolve({
 *       scoreCandidates: (r) => Promise.resolve(new Float32Array(r.candidates.length)),
 *     }),
 * });
 * ```
 */
export function definePlugin<C extends PluginConfig>(plugin: Plugin<C>): Plugin<C> {
  return plugin;
}

/**
 * The config that names a cell or a checkpoint: `added` keys (a plugin's
 * `addedKeys`) at the value they were added with are left out.
 */
export function hashedConfig(
  config: PluginConfig,
  added: Partial<PluginConfig> = {},
): PluginConfig {
  return Object.fromEntries(
    Object.entries(config).filter(([k, v]) => !(k in added) || added[k] !== v),
  );
}

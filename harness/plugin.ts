/**
 * The one contract every model answers: its config keys, each declared once
 * with its default, doc and roles ({@linkcode KeySpec}), presets, what it
 * needs from the harness, and `fit` that returns a scorer. The harness calls
 * stages in one direction (data -> split -> fit -> score -> evaluate ->
 * report); a plugin never calls back into the runner.
 *
 * @module
 */
import type { Progress } from "./progress.ts";
import type { Rng } from "../kernels/mod.ts";
import type { Split, Stage, Task } from "./types.ts";
import { withDefaults } from "./config_keys.ts";

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

/**
 * One configuration key, declared once: its default (whose type is the
 * key's type), one line of documentation, and the roles that tell the
 * harness and the models what the key does. `harness/config_keys.ts`
 * derives the config hash, the variant label, aliases and listings from it.
 *
 * @example
 * ```ts
 * import type { KeySpec } from "./plugin.ts";
 * const batchSize: KeySpec<number> = {
 *   default: 2048,
 *   doc: "(user, positive, negative) triples per step",
 *   legacy: "batch_size",
 * };
 * console.log(batchSize.default); // 2048
 * ```
 */
export interface KeySpec<V = ConfigValue> {
  readonly default: V;
  /** One line shown by `elmbench plugins`; every built-in key has one (a test checks). */
  readonly doc: string;
  /**
   * Changes the variant label: when the value differs from the preset's (or
   * the default, without one) the record's `variant` gets `key=value`, and
   * tables show it as a row of its own (e.g. `decode`). The number orders
   * the tags within a label, lowest first; records made before the roles
   * existed fixed these orders, so a new tag takes a number after them.
   */
  readonly variant?: number;
  /**
   * Does not change what is trained (how many epochs, how to decode, where
   * checkpoints go): a plugin that names its training runs (a checkpoint
   * directory's key) leaves such a key out, so a run can be resumed or
   * rescored under another value.
   */
  readonly untrained?: boolean;
  /**
   * Added after records existed: the value those records ran at. At this
   * value the key stays out of the config hash (and out of a checkpoint
   * key), so earlier records keep their cell ids and earlier runs resume.
   */
  readonly addedAt?: NoInfer<V>;
  /**
   * The key's earlier name (`batch_size` for `batchSize`). The old name is
   * accepted wherever a key is given (with a one-line note on stderr) and
   * found in records, and the config hash and variant tags still use it, so
   * a renamed key moves no cell id and no row label.
   */
  readonly legacy?: string;
  /**
   * Values by dataset name (lower case), `*` for any other dataset, taken
   * while the key is at its default (by convention -1: "from the dataset").
   * The plugin resolves them (`valueForDataset`); `elmbench plugins` prints
   * them.
   */
  readonly byDataset?: Readonly<Record<string, NoInfer<V>>>;
  /**
   * The values the key accepts (an enum such as `["free", "constrained"]`).
   * Presets and `--set` values outside them are errors listing them, raised
   * for every selected plugin before the first cell runs.
   */
  readonly values?: readonly NoInfer<V>[];
}

/** The config type that key declarations `K` describe: each key's default's type. */
export type DefaultsOf<K> = {
  -readonly [k in keyof K]: K[k] extends { readonly default: infer V } ? V : never;
};

/** Every key of a config `C`, each with its {@linkcode KeySpec}. */
export type KeySpecs<C> = { readonly [K in keyof C]: KeySpec<C[K]> };

/** What a plugin author writes; {@linkcode definePlugin} adds the `defaults`. */
export interface PluginDefinition<C extends object> {
  /** Lower-case name used on the command line, e.g. `lightgcn`. */
  readonly name: string;
  /** One line shown in listings and help. */
  readonly description: string;
  /** The tasks it supports. */
  readonly tasks: readonly Task[];
  /**
   * Every configuration key, camelCase, with its default, doc and roles;
   * an unknown key is an error that lists these.
   */
  readonly keys: KeySpecs<C>;
  /** Per-preset overrides of the defaults. */
  readonly presets?: Partial<Record<Preset, Partial<NoInfer<C>>>>;
  readonly requires: readonly Requirement[];
  /** Trains on `ctx.split` (train interactions only) and returns a scorer. */
  fit(ctx: FitContext, config: NoInfer<C>): Promise<Scorer>;
  /** Restores a scorer saved by `Scorer.save` (`--load`). */
  load?(ctx: FitContext, config: NoInfer<C>, dir: string): Promise<Scorer>;
}

/** A registered model. `C` is its typed configuration. */
export interface Plugin<C extends PluginConfig = PluginConfig> extends PluginDefinition<C> {
  /** Every key's default, in declaration order (derived from `keys`). */
  readonly defaults: C;
}

/**
 * Declares a plugin with its config type inferred from the keys' defaults.
 * A key's roles are checked here (a doc for every key, roles of the
 * default's type, legacy names that clash with nothing), so a mistake fails
 * when the module loads.
 *
 * @example
 * ```ts
 * import { definePlugin } from "./plugin.ts";
 * export const constant = definePlugin({
 *   name: "constant",
 *   description: "Scores every item the same (a sanity floor)",
 *   tasks: ["direct", "sequential"],
 *   keys: { score: { default: 0, doc: "the score of every item" } },
 *   requires: [],
 *   fit: (_ctx, config) =>
 *     Promise.resolve({
 *       scoreCandidates: (r) =>
 *         Promise.resolve(new Float32Array(r.candidates.length).fill(config.score)),
 *     }),
 * });
 * console.log(constant.defaults); // { score: 0 }
 * ```
 */
export function definePlugin<C extends object>(
  definition: PluginDefinition<C>,
): Plugin<C & PluginConfig> {
  return withDefaults(definition as unknown as PluginDefinition<PluginConfig>) as Plugin<
    C & PluginConfig
  >;
}

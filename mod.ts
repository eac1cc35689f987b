/**
 * elmbench: reproduce, compare and extend LLM-based recommenders.
 *
 * The public API for plugin authors and scripts. The data flow reads top to
 * bottom: load data -> split -> plugin.fit -> score -> evaluate -> report.
 *
 * @example
 * ```ts ignore
 * import { BUILTIN_PLUGINS, buildTable, generateSynthetic, renderTable, runCells } from "./mod.ts";
 * const data = await generateSynthetic({ users: 300 });
 * const records = await runCells(data, {
 *   task: "direct",
 *   plugins: [BUILTIN_PLUGINS.pop, BUILTIN_PLUGINS.idleak],
 *   resultsPath: null,
 * });
 * console.log(renderTable(buildTable(records, "table2"), "md"));
 * ```
 *
 * @module
 */

// Data.
export type {
  Dataset,
  ItemId,
  Ragged,
  Reindex,
  Split,
  Stage,
  Task,
  UserId,
} from "./harness/types.ts";
export { row, TASKS } from "./harness/types.ts";
export { readDataset } from "./harness/dataset_reader.ts";
export { readAmazonReviews, writeSequentialTxt } from "./harness/amazon_reader.ts";
export { generateSynthetic, type SyntheticOptions } from "./harness/synthetic.ts";
export { reindexItems } from "./harness/reindex.ts";
export { datasetStats, formatStats } from "./harness/dataset_stats.ts";
export { DataError, DataRangeError } from "./harness/errors.ts";

// Splits and randomness.
export { buildSplitRaw, loadSplit, NEGATIVES_PER_USER } from "./harness/split.ts";
export { createRng, type Rng } from "./harness/rng.ts";

// The plugin contract.
export {
  type CandidateRequest,
  type ConfigValue,
  type DefaultsOf,
  definePlugin,
  type Device,
  type FitContext,
  type KeySpec,
  type KeySpecs,
  type Plugin,
  type PluginConfig,
  type PluginDefinition,
  type Preset,
  PRESETS,
  type Requirement,
  type Scorer,
  type ScoreRequest,
  type ValidateOptions,
} from "./harness/plugin.ts";
export { type PluginRecord, resolveConfig, withExternalPlugins } from "./harness/registry.ts";
export { ANY_DATASET, hashedConfig, valueForDataset } from "./harness/config_keys.ts";
export { BUILTIN_PLUGINS } from "./baselines/mod.ts";

// Evaluation, running, reporting.
export { evaluate, type EvaluateOptions, type Evaluation, type Mask } from "./harness/evaluate.ts";
export {
  expectedOverTies,
  hitAtK,
  listRankBlock,
  metricNames,
  ndcgAtK,
  rankBlock,
} from "./harness/metrics.ts";
export { runCells, type RunOptions } from "./harness/runner.ts";
export {
  type EarlyStoppingOptions,
  type EarlyStoppingResult,
  fitWithEarlyStopping,
} from "./harness/early_stopping.ts";
export { PairwiseSampler, trainInteractions, TrainMembership } from "./harness/sampling.ts";
export { readPerUser, readResults, type ResultRecord } from "./harness/results.ts";
export { buildTable, type Layout, readPublished, type TableModel } from "./harness/report_model.ts";
export { renderTable, type TableFormat } from "./harness/report_render.ts";
export { type Progress, silentProgress, stderrProgress } from "./harness/progress.ts";

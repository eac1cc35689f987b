/**
 * Runs cells: for each seed, renumber items if asked, load the shared split,
 * and for each plugin fit once, evaluate the requested stages and append one
 * record per stage. Stages run in one direction; finished cells are skipped.
 *
 * @module
 */
import { evaluate, historyAt, type Mask } from "./evaluate.ts";
import { hashedConfig, variantTags } from "./config_keys.ts";
import {
  type Device,
  type FitContext,
  type Plugin,
  type PluginConfig,
  type Preset,
  type Scorer,
} from "./plugin.ts";
import { type Progress, silentProgress } from "./progress.ts";
import { machine, versions } from "./provenance.ts";
import { resolveConfig } from "./registry.ts";
import { reindexItems } from "./reindex.ts";
import {
  appendResult,
  cellId,
  type CellKey,
  readResults,
  type ResultRecord,
  stableJson,
  writePerUser,
} from "./results.ts";
import { sha256Text } from "./dataset_hash.ts";
import { createRng, releaseSessions } from "../kernels/mod.ts";
import {
  type CellFailure,
  CellsFailedError,
  describeFailure,
  errorOf,
  FAILURE_SCHEMA,
  type FailurePhase,
} from "./cell_failures.ts";
import { loadSplit } from "./split.ts";
import type { Dataset, Reindex, Split, Stage, Task } from "./types.ts";

/** Options of {@linkcode runCells}. */
export interface RunOptions {
  readonly task: Task;
  readonly plugins: readonly Plugin[];
  /** @default [0] */
  readonly seeds?: readonly number[];
  /** @default "none" */
  readonly reindex?: Reindex;
  /** Full-ranking exclusion for the sequential task. @default "none" */
  readonly mask?: Mask;
  readonly preset?: Preset;
  readonly overrides?: readonly { scope?: string; key: string; raw: string }[];
  /** Stages to score; `test` always. @default ["test"] */
  readonly stages?: readonly Stage[];
  /** JSON-lines results file; `null` keeps results in memory only. */
  readonly resultsPath: string | null;
  /** Recompute cells that already have records. @default false */
  readonly force?: boolean;
  readonly device?: Device;
  readonly threads?: number;
  readonly progress?: Progress;
  /** Split cache directory (`null`: no cache). @default ".cache/splits" */
  readonly cacheDir?: string | null;
  /** Users evaluated during training-time validation. @default 2000 */
  readonly validationUsers?: number;
  readonly signal?: AbortSignal;
  /** Restore plugin state from this directory instead of fitting (`--load`). */
  readonly loadDir?: string;
  /** Save fitted plugin state under this directory (`--save`). */
  readonly saveDir?: string;
  /** How to load the data again (`synthetic[:k=v,...]` or a directory), recorded for `check`. */
  readonly dataSpec?: string;
  /** Score a fixed seeded subset of this many users (quick regression cells). */
  readonly evalUsers?: number;
  /** A label for this configuration (an ablation or decoding variant), shown as its own row. */
  readonly variant?: string;
}

/** What {@linkcode runCellsReport} did: the records (old and new) and the cells that failed. */
export interface RunReport {
  readonly records: ResultRecord[];
  readonly failed: CellFailure[];
  /** Cells asked for: (seed, plugin) pairs times stages. */
  readonly cells: number;
}

/**
 * Runs every (seed, plugin) cell of one dataset and task; returns the
 * records, old and new. A cell whose fit or scorer throws does not stop the
 * others: they run and are recorded, and then this throws
 * {@linkcode CellsFailedError} naming every failed cell
 * ({@linkcode runCellsReport} returns them instead).
 */
export async function runCells(dataset: Dataset, options: RunOptions): Promise<ResultRecord[]> {
  const report = await runCellsReport(dataset, options);
  if (report.failed.length) {
    throw new CellsFailedError(report.failed, report.cells, options.resultsPath);
  }
  return report.records;
}

/**
 * Checks every plugin against the task and resolves its config (types,
 * preset, declared values), so a mistake in any of them is an error before
 * the first cell runs, not after the others have spent their time.
 */
export function resolveConfigs(
  options: Pick<RunOptions, "task" | "plugins" | "preset" | "overrides">,
): Map<Plugin, PluginConfig> {
  const configs = new Map<Plugin, PluginConfig>();
  for (const plugin of options.plugins) {
    if (!plugin.tasks.includes(options.task)) {
      throw new RangeError(
        `Plugin ${plugin.name} does not support the ${options.task} task (it supports ${
          plugin.tasks.join(", ")
        })`,
      );
    }
    configs.set(plugin, resolveConfig(plugin, options.preset, options.overrides ?? []));
  }
  return configs;
}

/** As {@linkcode runCells}, but failed cells are returned, not thrown. */
export async function runCellsReport(dataset: Dataset, options: RunOptions): Promise<RunReport> {
  const progress = options.progress ?? silentProgress;
  const seeds = options.seeds ?? [0];
  const reindex = options.reindex ?? "none";
  const mask: Mask = options.task === "sequential" ? options.mask ?? "none" : "none";
  const stages: Stage[] = ["test", ...(options.stages ?? []).filter((s) => s !== "test")];
  const configs = resolveConfigs(options);
  const existing = options.resultsPath ? await readResults(options.resultsPath) : [];
  const done = new Map(existing.map((r) => [r.id, r]));
  const out: ResultRecord[] = [];
  const failed: CellFailure[] = [];
  const [vers, mach] = await Promise.all([versions(), machine()]);

  for (const seed of seeds) {
    const t0 = performance.now();
    const data = reindex === "random" ? reindexItems(dataset, seed) : dataset;
    const split = await loadSplit(data, { seed, reindex, cacheDir: options.cacheDir });
    const splitSeconds = (performance.now() - t0) / 1000;

    for (const plugin of options.plugins) {
      options.signal?.throwIfAborted();
      const config = configs.get(plugin)!;
      const configHash = await cellConfigHash(plugin, config);
      const keys = await Promise.all(stages.map(async (stage) => {
        const key: CellKey = {
          plugin: plugin.name,
          dataset: dataset.name,
          data_hash: dataset.hash,
          task: options.task,
          seed,
          stage,
          reindex,
          mask,
          config_hash: configHash,
          ...(options.evalUsers ? { eval_users: options.evalUsers } : {}),
        };
        return { key, id: await cellId(key) };
      }));
      if (!options.force && keys.every(({ id }) => done.has(id))) {
        progress.log(`${plugin.name} ${dataset.name}/${options.task} seed ${seed}: done already`);
        out.push(...keys.map(({ id }) => done.get(id)!));
        continue;
      }
      const labels = {
        ...joinVariants(options.variant, variantOf(plugin, config, options.preset).variant),
        preset: options.preset ?? null,
        data_spec: options.dataSpec ?? dataset.source,
        config,
      };
      // Recorded, logged, and the next cell goes on; an interruption is not a failure.
      const fail = async (e: unknown, phase: FailurePhase, failing: typeof keys) => {
        if (options.signal?.aborted) throw e;
        for (const { key, id } of failing) {
          const failure: CellFailure = {
            schema: FAILURE_SCHEMA,
            id,
            ...key,
            ...labels,
            phase,
            error: errorOf(e),
            finished_at: new Date().toISOString(),
          };
          failed.push(failure);
          if (options.resultsPath) await appendResult(options.resultsPath, failure);
          progress.log(`FAILED ${describeFailure(failure)}`);
          if (failure.error.stack) progress.log(failure.error.stack);
        }
      };
      const ctx = fitContext(split, options, plugin, seed, progress);
      try {
        const tFit = performance.now();
        let scorer: Scorer;
        let phase: FailurePhase = "fit";
        try {
          if (options.loadDir && plugin.load) {
            phase = "load";
            scorer = await plugin.load(ctx, config, `${options.loadDir}/${plugin.name}`);
          } else {
            progress.log(`${plugin.name} ${dataset.name}/${options.task} seed ${seed}: fitting`);
            scorer = await plugin.fit(ctx, config);
          }
          phase = "save";
          if (options.saveDir && scorer.save) {
            await scorer.save(`${options.saveDir}/${plugin.name}`);
          }
        } catch (e) {
          await fail(e, phase, keys);
          continue;
        }
        const fitSeconds = (performance.now() - tFit) / 1000;
        for (const { key, id } of keys) {
          const tEval = performance.now();
          let evaluation: Awaited<ReturnType<typeof evaluate>>;
          try {
            evaluation = await evaluate(scorer, split, options.task, {
              stage: key.stage,
              mask,
              progress,
              maxUsers: options.evalUsers,
            });
          } catch (e) {
            await fail(e, "score", [{ key, id }]);
            continue;
          }
          const evalSeconds = (performance.now() - tEval) / 1000;
          const perUser = options.resultsPath
            ? await writePerUser(options.resultsPath, id, evaluation.userRows, evaluation.perUser)
            : null;
          const record: ResultRecord = {
            schema: "elmbench-result/1",
            id,
            ...key,
            ...labels,
            ...(dataset.rawHash ? { data_raw_hash: dataset.rawHash } : {}),
            split_hash: split.hash,
            test_negatives: split.testNegativeSource,
            n_users: evaluation.userRows.length,
            metrics: roundMetrics(evaluation.means),
            per_user: perUser,
            timings_s: {
              split: round3(splitSeconds),
              fit: round3(fitSeconds),
              evaluate: round3(evalSeconds),
            },
            info: { ...(scorer.info ?? {}) },
            versions: vers,
            machine: { ...mach, device: ctx.device, threads: ctx.threads },
            finished_at: new Date().toISOString(),
          };
          if (options.resultsPath) await appendResult(options.resultsPath, record);
          out.push(record);
        }
      } finally {
        // A finished cell's sessions would otherwise stay, with their memory, for the whole run.
        await releaseSessions();
      }
    }
  }
  return { records: out, failed, cells: seeds.length * options.plugins.length * stages.length };
}

/**
 * The `config_hash` of a cell: the plugin's config as its keys say to hash
 * it (renamed keys under their legacy names, added keys at their value
 * left out), so the ids of records made before either change stay.
 */
export async function cellConfigHash(plugin: Plugin, config: PluginConfig): Promise<string> {
  return (await sha256Text(stableJson(hashedConfig(config, plugin.keys)))).slice(0, 16);
}

function fitContext(
  split: Split,
  options: RunOptions,
  plugin: Plugin<PluginConfig>,
  seed: number,
  progress: Progress,
): FitContext {
  return {
    split,
    task: options.task,
    seed,
    rng: createRng(seed).fork(`plugin:${plugin.name}:${options.task}`),
    sharedRng: createRng(seed).fork(`plugin:${plugin.name}`),
    device: options.device ?? "cpu",
    threads: options.threads ?? 2,
    progress,
    signal: options.signal,
    history: (u, stage) => historyAt(split, u, stage),
    validate: async (scorer, opts) => {
      const full = opts?.protocol === "full";
      return (await evaluate(scorer, split, full ? "sequential" : options.task, {
        stage: "valid",
        mask: full ? "train" : options.task === "sequential" ? options.mask ?? "none" : "none",
        maxUsers: opts?.maxUsers ?? options.validationUsers ?? 2000,
      })).means;
    },
  };
}

/** The record's `variant`: the plugin's variant keys that differ from the preset's values. */
export function variantOf(
  plugin: Plugin,
  config: PluginConfig,
  preset?: Preset,
): { variant?: string } {
  const base = { ...plugin.defaults, ...(preset ? plugin.presets?.[preset] : {}) };
  const tags = variantTags(plugin.keys, config, base);
  return tags.length ? { variant: tags.join(", ") } : {};
}

function joinVariants(...tags: (string | undefined)[]): { variant?: string } {
  // An experiment's arm named for the key it sets (`loss=bce`) is one tag, not two.
  const present = [...new Set(tags.filter((t): t is string => !!t))];
  return present.length ? { variant: present.join(", ") } : {};
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function roundMetrics(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round(v * 1e8) / 1e8]));
}

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
import { createRng } from "../kernels/mod.ts";
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

/** Runs every (seed, plugin) cell of one dataset and task; returns the records, old and new. */
export async function runCells(dataset: Dataset, options: RunOptions): Promise<ResultRecord[]> {
  const progress = options.progress ?? silentProgress;
  const seeds = options.seeds ?? [0];
  const reindex = options.reindex ?? "none";
  const mask: Mask = options.task === "sequential" ? options.mask ?? "none" : "none";
  const stages: Stage[] = ["test", ...(options.stages ?? []).filter((s) => s !== "test")];
  const existing = options.resultsPath ? await readResults(options.resultsPath) : [];
  const done = new Map(existing.map((r) => [r.id, r]));
  const out: ResultRecord[] = [];
  const [vers, mach] = await Promise.all([versions(), machine()]);

  for (const seed of seeds) {
    for (const plugin of options.plugins) {
      if (!plugin.tasks.includes(options.task)) {
        throw new RangeError(
          `Plugin ${plugin.name} does not support the ${options.task} task (it supports ${
            plugin.tasks.join(", ")
          })`,
        );
      }
    }
    const t0 = performance.now();
    const data = reindex === "random" ? reindexItems(dataset, seed) : dataset;
    const split = await loadSplit(data, { seed, reindex, cacheDir: options.cacheDir });
    const splitSeconds = (performance.now() - t0) / 1000;

    for (const plugin of options.plugins) {
      options.signal?.throwIfAborted();
      const config = resolveConfig(plugin, options.preset, options.overrides ?? []);
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
      const ctx = fitContext(split, options, plugin, seed, progress);
      const tFit = performance.now();
      let scorer: Scorer;
      if (options.loadDir && plugin.load) {
        scorer = await plugin.load(ctx, config, `${options.loadDir}/${plugin.name}`);
      } else {
        progress.log(`${plugin.name} ${dataset.name}/${options.task} seed ${seed}: fitting`);
        scorer = await plugin.fit(ctx, config);
      }
      const fitSeconds = (performance.now() - tFit) / 1000;
      if (options.saveDir && scorer.save) await scorer.save(`${options.saveDir}/${plugin.name}`);
      for (const { key, id } of keys) {
        const tEval = performance.now();
        const evaluation = await evaluate(scorer, split, options.task, {
          stage: key.stage,
          mask,
          progress,
          maxUsers: options.evalUsers,
        });
        const evalSeconds = (performance.now() - tEval) / 1000;
        const perUser = options.resultsPath
          ? await writePerUser(options.resultsPath, id, evaluation.userRows, evaluation.perUser)
          : null;
        const record: ResultRecord = {
          schema: "elmbench-result/1",
          id,
          ...key,
          ...joinVariants(options.variant, variantOf(plugin, config, options.preset).variant),
          preset: options.preset ?? null,
          data_spec: options.dataSpec ?? dataset.source,
          config,
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
    }
  }
  return out;
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

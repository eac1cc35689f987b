/**
 * Experiments expand into cells (plugin x dataset x task x seed x variant);
 * a cell is one `elmbench run` invocation writing its own results file, so
 * cells can run in any order, in parallel, on a scheduler, and be merged by
 * `elmbench table`.
 *
 * @module
 */
import type { Mask } from "./evaluate.ts";
import type { Preset } from "./plugin.ts";
import type { Reindex, Task } from "./types.ts";

/** One configuration row of an experiment (an ablation arm, a decoding variant). */
export interface Variant {
  /** Row label suffix, e.g. `w/o reranking`. */
  readonly name: string;
  /** `plugin.key=value` overrides that define it. */
  readonly set: readonly string[];
  /** Plugins it applies to. @default every plugin of the experiment */
  readonly plugins?: readonly string[];
  /** Tasks it applies to (an arm that changes nothing on a task skips it). @default every task */
  readonly tasks?: readonly Task[];
  readonly reindex?: Reindex;
  readonly mask?: Mask;
}

/** A named experiment: which plugins on which task(s), and which row is "ours". */
export interface Experiment {
  readonly name: string;
  readonly description: string;
  readonly tasks: readonly Task[];
  readonly plugins: readonly string[];
  /** Row whose improvement is tested, e.g. `elmrec`. */
  readonly ours?: string;
  /** Extra rows; the plain configuration runs too unless `variantsOnly`. */
  readonly variants?: readonly Variant[];
  readonly variantsOnly?: boolean;
}

/** One unit of work. */
export interface CellSpec {
  readonly plugin: string;
  /** `synthetic` or a dataset directory. */
  readonly data: string;
  readonly dataset: string;
  readonly task: Task;
  readonly seed: number;
  readonly preset: Preset;
  readonly set: readonly string[];
  readonly variant?: string;
  readonly reindex: Reindex;
  readonly mask: Mask;
}

/** Options of {@linkcode expandCells}. */
export interface ExpandOptions {
  readonly datasets: readonly string[];
  readonly seeds: readonly number[];
  readonly preset: Preset;
  /** Directory holding `<dataset>/sequential.txt`; `synthetic` needs none. */
  readonly dataRoot: string;
  /** Only these plugins (those registered). */
  readonly available: readonly string[];
}

/** Expands an experiment into cells, skipping plugins that are not registered. */
export function expandCells(experiment: Experiment, options: ExpandOptions): CellSpec[] {
  const plugins = experiment.plugins.filter((p) => options.available.includes(p));
  const arms: (Variant | null)[] = [
    ...(experiment.variantsOnly ? [] : [null]),
    ...(experiment.variants ?? []),
  ];
  const cells: CellSpec[] = [];
  for (const dataset of options.datasets) {
    const data = dataset === "synthetic" ? "synthetic" : `${options.dataRoot}/${dataset}`;
    for (const task of experiment.tasks) {
      for (const arm of arms) {
        if (arm?.tasks && !arm.tasks.includes(task)) continue;
        for (const plugin of plugins) {
          if (arm?.plugins && !arm.plugins.includes(plugin)) continue;
          for (const seed of options.seeds) {
            cells.push({
              plugin,
              data,
              dataset,
              task,
              seed,
              preset: options.preset,
              set: (arm?.set ?? []).filter((s) => s.startsWith(`${plugin}.`)),
              // A pure renumbering or masking arm is already labelled by those tags.
              variant: arm && arm.set.length > 0 ? arm.name : undefined,
              reindex: arm?.reindex ?? "none",
              mask: arm?.mask ?? "none",
            });
          }
        }
      }
    }
  }
  return cells;
}

/** A file-name-safe, unique name of a cell. */
export function cellSlug(cell: CellSpec): string {
  const parts = [cell.dataset, cell.task, cell.plugin, `s${cell.seed}`, cell.preset];
  if (cell.variant) parts.push(cell.variant);
  if (cell.reindex !== "none") parts.push(`reindex-${cell.reindex}`);
  if (cell.mask !== "none") parts.push(`mask-${cell.mask}`);
  return parts.join("_").replace(/[^A-Za-z0-9_.-]+/g, "-");
}

/** The `elmbench run` arguments of a cell, writing to `<resultsDir>/<slug>.jsonl`. */
export function cellArgs(cell: CellSpec, resultsDir: string): string[] {
  const args = [
    "run",
    "--data",
    cell.data,
    "--task",
    cell.task,
    "--models",
    cell.plugin,
    "--seed",
    String(cell.seed),
    "--preset",
    cell.preset,
    "--reindex",
    cell.reindex,
    "--mask",
    cell.mask,
    "--results",
    `${resultsDir}/${cellSlug(cell)}.jsonl`,
    "--json",
  ];
  for (const s of cell.set) args.push("--set", s);
  if (cell.variant) args.push("--variant", cell.variant);
  return args;
}

/** Quotes an argument for a POSIX shell. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./=:,@+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

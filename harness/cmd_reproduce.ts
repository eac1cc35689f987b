/**
 * `elmbench reproduce <experiment>`: expand into cells, run what is not
 * done, print the tables with mean ± std over seeds, the published rows and
 * paired-t-test marks.
 *
 * @module
 */
import { readResultsPath } from "./results_files.ts";
import { type CellSpec, expandCells, type Experiment } from "./cells.ts";
import { runCellPool } from "./cell_pool.ts";
import { integer, list, oneOf, parseArgs, UsageError } from "./cli_args.ts";
import { DEFAULT_PUBLISHED, tableText } from "./cmd_table.ts";
import { type Preset, PRESETS } from "./plugin.ts";
import {
  checkUnscopedOverrides,
  parseOverrides,
  pickPlugins,
  type PluginRecord,
} from "./registry.ts";
import { resolveConfigs } from "./runner.ts";
import { readPublished } from "./report_model.ts";

/** Help text of `reproduce`. */
export const REPRODUCE_HELP = `elmbench reproduce <experiment> --preset tiny|cpu|paper
    [--datasets beauty,sports,toys|synthetic] [--seeds 0,1,2] [--jobs N]
    [--out out/reproduce/<experiment>-<preset>] [--data-root DIR] [--no-published]
    [--set key=value | --set plugin.key=value]...
  Expands the experiment into cells (plugin x dataset x task x seed x
  variant), runs the cells that are not done yet (--jobs processes at a
  time), and prints the table(s): mean ± std over seeds, published rows
  beside ours, and † where the method under test differs from the best other
  row by a paired t-test over users (p < 0.05). Interrupt it and run it again
  to finish the rest. --set overrides go to every cell (use a fresh --out
  for each set of overrides: cells are named without them). Data root: --data-root, else $ELMBENCH_DATA, else
  ../shared/data.`;

/** Default data root: $ELMBENCH_DATA or ../shared/data. */
export function defaultDataRoot(): string {
  return Deno.env.get("ELMBENCH_DATA") ?? "../shared/data";
}

/** Options shared by `reproduce` and `plan`. */
export const CELL_OPTIONS = {
  preset: { type: "string", default: "tiny" },
  datasets: { type: "string", default: "beauty,sports,toys" },
  seeds: { type: "string", default: "0" },
  out: { type: "string" },
  "data-root": { type: "string" },
  set: { type: "string", multiple: true },
} as const;

/** Expands parsed options into cells. */
export function cellsFromOptions(
  experiments: Readonly<Record<string, Experiment>>,
  plugins: PluginRecord,
  name: string | undefined,
  values: Record<string, unknown>,
): { experiment: Experiment; cells: CellSpec[]; out: string; preset: Preset } {
  if (!name) throw new UsageError(`expected an experiment: ${Object.keys(experiments).join(", ")}`);
  const experiment = experiments[name];
  if (!experiment) {
    throw new UsageError(
      `Unknown experiment "${name}"; valid experiments: ${Object.keys(experiments).join(", ")}`,
    );
  }
  const preset = oneOf("preset", values.preset as string, PRESETS as Preset[]);
  const cells = expandCells(experiment, {
    datasets: list(values.datasets as string),
    seeds: list(values.seeds as string).map((s) => integer("seeds", s)),
    preset,
    dataRoot: (values["data-root"] as string | undefined) ?? defaultDataRoot(),
    available: Object.keys(plugins),
  }).map((cell) => ({ ...cell, set: [...cell.set, ...((values.set as string[]) ?? [])] }));
  // Every cell's config before any runs: a bad --set fails here, not in each subprocess.
  const used = pickPlugins(plugins, [...new Set(cells.map((c) => c.plugin))]);
  checkUnscopedOverrides(used, parseOverrides((values.set as string[]) ?? []));
  for (const cell of cells) {
    resolveConfigs({
      task: cell.task,
      plugins: pickPlugins(plugins, [cell.plugin]),
      preset,
      overrides: parseOverrides(cell.set),
    });
  }
  const out = (values.out as string | undefined) ?? `out/reproduce/${name}-${preset}`;
  return { experiment, cells, out, preset };
}

/** Runs `reproduce`. */
export async function reproduceCommand(
  args: string[],
  plugins: PluginRecord,
  experiments: Readonly<Record<string, Experiment>>,
  signal?: AbortSignal,
): Promise<void> {
  const { values, positionals } = parseArgs("reproduce", args, {
    ...CELL_OPTIONS,
    jobs: { type: "string", default: "1" },
    "no-published": { type: "boolean" },
  });
  if (values.help) return console.log(REPRODUCE_HELP);
  const { experiment, cells, out } = cellsFromOptions(experiments, plugins, positionals[0], values);
  console.error(`reproduce ${experiment.name}: ${cells.length} cells into ${out}`);
  const report = await runCellPool(cells, {
    jobs: integer("jobs", values.jobs as string),
    cellsDir: `${out}/cells`,
    logsDir: `${out}/logs`,
    signal,
  });
  const { sources, failures } = await readResultsPath(`${out}/cells`);
  let published = undefined;
  if (!values["no-published"]) {
    try {
      published = await readPublished(DEFAULT_PUBLISHED);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      console.error(`note: no published numbers at ${DEFAULT_PUBLISHED}`);
    }
  }
  for (const task of experiment.tasks) {
    const layout = task === "direct" ? "table2" : "table3";
    // `ours` names a plugin: with --set variant keys every row carries tags, and its row is
    // the one with the fewest (buildTable's defaultRow).
    console.log(
      await tableText(sources, layout, {
        published,
        ours: experiment.ours,
        order: experiment.plugins,
        plugins,
        failures,
      }),
    );
  }
  if (report.failed.length) {
    throw new Error(
      `${report.failed.length} cell(s) failed: ${
        report.failed.map((f) => f.log).join(", ")
      }; rerun to retry them`,
    );
  }
}

/**
 * `elmbench run`: data -> split -> fit -> evaluate -> records -> table.
 *
 * @module
 */
import { integer, list, oneOf, parseArgs, UsageError } from "./cli_args.ts";
import { loadData } from "./data_source.ts";
import type { Mask } from "./evaluate.ts";
import { type Device, type Preset, PRESETS } from "./plugin.ts";
import { stderrProgress } from "./progress.ts";
import {
  checkUnscopedOverrides,
  parseOverrides,
  pickPlugins,
  type PluginRecord,
  withExternalPlugins,
} from "./registry.ts";
import { tableText } from "./cmd_table.ts";
import type { TableDefaults } from "./report_model.ts";
import { CellsFailedError } from "./cell_failures.ts";
import { resolveConfigs, runCellsReport } from "./runner.ts";
import type { Reindex, Stage, Task } from "./types.ts";

/** Help text of `run`. */
export const RUN_HELP =
  `elmbench run --data <dir|synthetic> --task direct|sequential --models a,b,...
    [--seed N | --seeds 0,1,2] [--reindex none|random] [--mask none|train|history]
    [--preset tiny|cpu|paper] [--set key=value | --set plugin.key=value]...
    [--plugin ./my_plugin.ts]... [--valid] [--results out/results.jsonl] [--force]
    [--device cpu|cuda|webgpu] [--threads N] [--save dir] [--load dir]
    [--synthetic users=600,items=400,...] [--variant LABEL] [--eval-users N] [--json]
  Fits each model on the training split (items[:-2]) and scores the test split
  (and the validation split with --valid). Every cell is appended to the
  results file as one JSON line; cells already there are skipped (--force
  recomputes). --reindex random renumbers items with a seeded permutation
  first (the id leak, spec section 1). --mask applies to the sequential task:
  none (default, as the released code), train (RecBole's protocol), history.
  --eval-users N scores a fixed seeded subset of N users (quick checks).
  Config keys are camelCase; elmbench plugins lists each with its default and
  doc (a renamed key's old name still works, with a note).
  Prints the table of this run (or the records as JSON lines with --json).`;

/** Options shared by `run` and `demo`. */
export const RUN_OPTIONS = {
  data: { type: "string" },
  task: { type: "string" },
  models: { type: "string" },
  seed: { type: "string" },
  seeds: { type: "string" },
  reindex: { type: "string", default: "none" },
  mask: { type: "string", default: "none" },
  preset: { type: "string" },
  set: { type: "string", multiple: true },
  plugin: { type: "string", multiple: true },
  valid: { type: "boolean" },
  results: { type: "string", default: "out/results.jsonl" },
  force: { type: "boolean" },
  device: { type: "string", default: "cpu" },
  threads: { type: "string", default: "2" },
  save: { type: "string" },
  load: { type: "string" },
  synthetic: { type: "string" },
  json: { type: "boolean" },
  variant: { type: "string" },
  "eval-users": { type: "string" },
} as const;

/** Runs `run` with the built-in plugins `builtins`. */
export async function runCommand(
  args: string[],
  builtins: PluginRecord,
  signal?: AbortSignal,
  tables: TableDefaults = {},
): Promise<void> {
  const { values } = parseArgs("run", args, RUN_OPTIONS);
  if (values.help) return console.log(RUN_HELP);
  if (!values.data) throw new UsageError("run needs --data <dir|synthetic>");
  if (!values.task) throw new UsageError("run needs --task direct|sequential");
  if (!values.models) throw new UsageError("run needs --models a,b,...");
  const task = oneOf("task", values.task as string, ["direct", "sequential"] as Task[]);
  const record = await withExternalPlugins(builtins, (values.plugin as string[]) ?? []);
  const plugins = pickPlugins(record, list(values.models as string));
  const overrides = parseOverrides((values.set as string[]) ?? []);
  checkUnscopedOverrides(plugins, overrides);
  const seeds = values.seeds
    ? list(values.seeds as string).map((s) => integer("seeds", s))
    : [integer("seed", (values.seed as string) ?? "0")];
  const preset = values.preset === undefined
    ? undefined
    : oneOf("preset", values.preset as string, PRESETS as Preset[]);
  // Every plugin's config before the data loads: a typo costs no time.
  resolveConfigs({ task, plugins, preset, overrides });
  const progress = stderrProgress();
  const dataset = await loadData(values.data as string, values.synthetic as string);
  const { records, failed, cells } = await runCellsReport(dataset, {
    task,
    plugins,
    seeds,
    reindex: oneOf("reindex", values.reindex as string, ["none", "random"] as Reindex[]),
    mask: oneOf("mask", values.mask as string, ["none", "train", "history"] as Mask[]),
    preset,
    overrides,
    stages: values.valid ? (["test", "valid"] as Stage[]) : ["test"],
    resultsPath: values.results as string,
    force: Boolean(values.force),
    device: oneOf("device", values.device as string, ["cpu", "cuda", "webgpu"] as Device[]),
    threads: integer("threads", values.threads as string),
    saveDir: values.save as string | undefined,
    loadDir: values.load as string | undefined,
    variant: values.variant as string | undefined,
    evalUsers: values["eval-users"]
      ? integer("eval-users", values["eval-users"] as string)
      : undefined,
    dataSpec: values.data === "synthetic" && values.synthetic
      ? `synthetic:${values.synthetic}`
      : (values.data as string),
    progress,
    signal,
  });
  if (values.json) {
    for (const r of records) console.log(JSON.stringify(r));
  } else if (records.length) {
    const layout = task === "direct" ? "table2" : "table3";
    const path = values.results as string;
    const sources = records.map((record) => ({ record, path }));
    console.log(await tableText(sources, layout, { ...tables, failures: failed }));
    if (values.valid) {
      const valid = sources.filter((s) => s.record.stage === "valid").map((s) => ({
        ...s,
        record: { ...s.record, stage: "test" as const },
      }));
      console.log("Validation split:\n");
      console.log(await tableText(valid, layout, tables));
    }
  }
  console.error(`results: ${values.results}`);
  if (failed.length) throw new CellsFailedError(failed, cells, values.results as string);
}

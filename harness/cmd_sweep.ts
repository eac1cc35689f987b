/**
 * `elmbench sweep`: one plugin, one config key, a list of values: fit and
 * score each value (every seed), print the metric table, and draw HR@10
 * and NDCG@10 against the value (ELMRec's Figure 6) as SVG and PNG.
 *
 * @module
 */
import { integer, list, oneOf, parseArgs, UsageError } from "./cli_args.ts";
import { currentNames, keyNamed } from "./config_keys.ts";
import { loadData } from "./data_source.ts";
import type { FigurePaths } from "./figures.ts";
import type { Preset } from "./plugin.ts";
import { PRESETS } from "./plugin.ts";
import { stderrProgress } from "./progress.ts";
import { parseOverrides, pickPlugins, type PluginRecord } from "./registry.ts";
import type { ResultRecord } from "./results.ts";
import { runCells } from "./runner.ts";
import type { Task } from "./types.ts";

/** Help text of `sweep`. */
export const SWEEP_HELP = `elmbench sweep --model NAME --param KEY --values a,b,c
    --data <dir|synthetic> --task direct|sequential [--preset tiny|cpu|paper]
    [--seeds 0,1,2] [--set key=value]... [--synthetic ...] [--threads N]
    [--metrics HR@10,NDCG@10] [--out out/sweep/<model>-<param>-<dataset>-<task>]
  Fits and scores the model once per value of one config key (and seed),
  prints the metrics per value, and writes <out>/sweep-<param>.svg, .png and
  .vl.json (the metrics against the value). Results go to
  <out>/results.jsonl; rerunning skips finished cells.`;

/** One row of a sweep: a value and its metric means over seeds. */
export interface SweepRow {
  readonly value: string;
  readonly seeds: number;
  readonly metrics: Record<string, number>;
}

/** Means over seeds per value, in the order of `values`. */
export function sweepRows(
  records: readonly ResultRecord[],
  param: string,
  values: readonly string[],
): SweepRow[] {
  return values.map((value) => {
    const mine = records.filter((r) => String(r.config[param]) === String(parseValue(value)));
    const names = Object.keys(mine[0]?.metrics ?? {});
    const metrics = Object.fromEntries(
      names.map((n) => [n, mine.reduce((s, r) => s + r.metrics[n], 0) / mine.length]),
    );
    return { value, seeds: mine.length, metrics };
  });
}

function parseValue(raw: string): number | string | boolean {
  if (raw === "true" || raw === "false") return raw === "true";
  const n = Number(raw);
  return raw.trim() !== "" && Number.isFinite(n) ? n : raw;
}

/** The markdown table of a sweep. */
export function renderSweep(rows: readonly SweepRow[], param: string, metrics: string[]): string {
  const head = `| ${param} | seeds | ${metrics.join(" | ")} |`;
  const rule = `|---:|---:|${metrics.map(() => "---:").join("|")}|`;
  const body = rows.map((r) =>
    `| ${r.value} | ${r.seeds} | ${
      metrics.map((m) => (r.metrics[m] ?? NaN).toFixed(4)).join(" | ")
    } |`
  );
  return [head, rule, ...body].join("\n");
}

/** Draws the sweep's metrics against the value (the plotting libraries load here). */
export async function writeSweepFigure(
  rows: readonly SweepRow[],
  param: string,
  metrics: string[],
  base: string,
  title: string,
): Promise<FigurePaths> {
  const numeric = rows.every((r) => typeof parseValue(r.value) === "number");
  const points = rows.flatMap((r) =>
    metrics.map((m) => ({
      x: numeric ? Number(r.value) : r.value,
      y: r.metrics[m],
      series: m,
    }))
  );
  const { lineChart, writeFigure } = await import("./figures.ts");
  return await writeFigure(lineChart(points, { title, xTitle: param, yTitle: "metric" }), base);
}

/** Runs `sweep`. */
export async function sweepCommand(
  args: string[],
  plugins: PluginRecord,
  signal?: AbortSignal,
): Promise<void> {
  const { values } = parseArgs("sweep", args, {
    model: { type: "string" },
    param: { type: "string" },
    values: { type: "string" },
    data: { type: "string" },
    task: { type: "string" },
    preset: { type: "string" },
    seeds: { type: "string", default: "0" },
    set: { type: "string", multiple: true },
    synthetic: { type: "string" },
    threads: { type: "string", default: "2" },
    metrics: { type: "string", default: "HR@10,NDCG@10" },
    out: { type: "string" },
  });
  if (values.help) return console.log(SWEEP_HELP);
  for (const flag of ["model", "param", "values", "data", "task"]) {
    if (!values[flag]) throw new UsageError(`sweep needs --${flag}`);
  }
  const [plugin] = pickPlugins(plugins, [values.model as string]);
  const param = keyNamed(plugin, values.param as string);
  if (param === undefined) {
    throw new UsageError(
      `Unknown key "${values.param}" of ${plugin.name}; valid keys: ${
        Object.keys(plugin.defaults).join(", ")
      }`,
    );
  }
  const task = oneOf("task", values.task as string, ["direct", "sequential"] as Task[]);
  const preset = values.preset === undefined
    ? undefined
    : oneOf("preset", values.preset as string, PRESETS as Preset[]);
  const points = list(values.values as string);
  if (points.length === 0) throw new UsageError("sweep needs at least one value in --values");
  const dataset = await loadData(values.data as string, values.synthetic as string);
  const out = (values.out as string | undefined) ??
    `out/sweep/${plugin.name}-${param}-${dataset.name}-${task}`;
  await Deno.mkdir(out, { recursive: true });
  const base = parseOverrides((values.set as string[]) ?? []);
  const progress = stderrProgress();
  const records: ResultRecord[] = [];
  for (const value of points) {
    progress.log(`sweep ${plugin.name} ${param}=${value}`);
    records.push(
      ...await runCells(dataset, {
        task,
        plugins: [plugin],
        seeds: list(values.seeds as string).map((s) => integer("seeds", s)),
        preset,
        overrides: [...base, { scope: plugin.name, key: param, raw: value }],
        // Tagged as variant keys are, under a renamed key's legacy name.
        variant: `${plugin.keys[param].legacy ?? param}=${value}`,
        resultsPath: `${out}/results.jsonl`,
        threads: integer("threads", values.threads as string),
        dataSpec: values.data === "synthetic" && values.synthetic
          ? `synthetic:${values.synthetic}`
          : (values.data as string),
        progress,
        signal,
      }),
    );
  }
  const metrics = list(values.metrics as string);
  // Records made before a key was renamed name it by its legacy name.
  const current = records.map((r) => ({ ...r, config: currentNames(plugin.keys, r.config) }));
  const rows = sweepRows(current, param, points);
  const shown = ["HR@5", "NDCG@5", ...metrics.filter((m) => m !== "HR@5" && m !== "NDCG@5")];
  console.log(
    `**${plugin.name} on ${dataset.name}, ${task}: ${param} sweep (mean over seeds)**\n`,
  );
  console.log(renderSweep(rows, param, shown));
  const figure = await writeSweepFigure(
    rows,
    param,
    metrics,
    `${out}/sweep-${param}`,
    `${plugin.name}, ${dataset.name} ${task}: ${metrics.join(", ")} vs ${param}`,
  );
  console.log(`\nfigure: ${figure.svg}\nfigure: ${figure.png}\nspec: ${figure.spec}`);
}

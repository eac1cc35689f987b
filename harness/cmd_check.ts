/**
 * `elmbench check --baseline results/<file>`: reruns (or reads) the cells of
 * a baseline results file and compares every metric. Exit 0 within
 * tolerance; exit 1 with a table of every cell that moved.
 *
 * @module
 */
import { basename } from "node:path";
import { list, parseArgs, UsageError } from "./cli_args.ts";
import { storedConfig } from "./config_keys.ts";
import { defaultDataRoot } from "./cmd_reproduce.ts";
import { loadData, SYNTHETIC } from "./data_source.ts";
import { stderrProgress } from "./progress.ts";
import { pickPlugins, type PluginRecord, withExternalPlugins } from "./registry.ts";
import type { ResultRecord } from "./results.ts";
import { runCellsReport } from "./runner.ts";
import { describeFailure } from "./cell_failures.ts";
import { readResultsPaths } from "./results_files.ts";
import type { Dataset } from "./types.ts";
import type { Preset } from "./plugin.ts";

/** Help text of `check`. */
export const CHECK_HELP = `elmbench check --baseline <file.jsonl|dir> [--tolerance 1e-6]
    [--current <file.jsonl|dir>] [--data-root DIR] [--plugins a,b] [--plugin ./p.ts]...
  Reruns every cell of the baseline (a results file, or a folder of them such
  as reproduce's <out>/cells), or reads them from --current, and
  compares each metric: exit 0 when every |now - baseline| <= tolerance, exit 1
  with a table of every cell that moved. On one machine the tiny preset is
  bit-for-bit deterministic, so the default tolerance is tight (1e-6); across
  CPUs ONNX Runtime may pick other kernels, so CI uses a looser one.`;

/** A metric that moved. */
export interface Moved {
  readonly cell: string;
  readonly metric: string;
  readonly baseline: number;
  readonly now: number | null;
}

/** The label of a record's cell in the report. */
export function cellName(r: ResultRecord): string {
  return [
    r.plugin,
    r.dataset,
    r.task,
    `seed ${r.seed}`,
    r.stage,
    r.variant,
    r.reindex !== "none" ? `reindex=${r.reindex}` : "",
    r.mask !== "none" ? `mask=${r.mask}` : "",
  ]
    .filter(Boolean).join(" / ");
}

/** Compares `now` to `baseline` record by record (matched by cell id). */
export function compareRecords(
  baseline: readonly ResultRecord[],
  now: readonly ResultRecord[],
  tolerance: number,
): Moved[] {
  const byId = new Map(now.map((r) => [r.id, r]));
  const moved: Moved[] = [];
  for (const b of baseline) {
    const n = byId.get(b.id);
    for (const [metric, value] of Object.entries(b.metrics)) {
      const v = n?.metrics[metric];
      if (v === undefined || !(Math.abs(v - value) <= tolerance)) {
        moved.push({ cell: cellName(b), metric, baseline: value, now: v ?? null });
      }
    }
  }
  return moved;
}

async function loadFor(record: ResultRecord, dataRoot: string): Promise<Dataset> {
  const spec = record.data_spec ?? record.dataset;
  let data: Dataset;
  if (spec === SYNTHETIC || spec.startsWith(`${SYNTHETIC}:`)) {
    data = await loadData(SYNTHETIC, spec.slice(SYNTHETIC.length + 1));
  } else {
    data = await loadData(`${dataRoot}/${basename(spec)}`);
  }
  if (data.hash !== record.data_hash) {
    throw new RangeError(
      `The data of ${
        cellName(record)
      } changed: baseline hash ${record.data_hash}, now ${data.hash}`,
    );
  }
  return data;
}

/** Reruns the cells of `baseline` in this process. */
export async function rerun(
  baseline: readonly ResultRecord[],
  plugins: PluginRecord,
  dataRoot: string,
): Promise<ResultRecord[]> {
  const out: ResultRecord[] = [];
  const cache = new Map<string, Dataset>();
  const progress = stderrProgress();
  for (const b of baseline) {
    const key = b.data_spec ?? b.dataset;
    if (!cache.has(key)) cache.set(key, await loadFor(b, dataRoot));
    const [plugin] = pickPlugins(plugins, [b.plugin]);
    // Records made before a key was renamed name it by its legacy name, and
    // records made before a key was added ran at its `addedAt` value.
    const overrides = Object.entries(storedConfig(plugin.keys, b.config)).map(([k, v]) => ({
      scope: b.plugin,
      key: k,
      raw: String(v),
    }));
    const { records: [record], failed } = await runCellsReport(cache.get(key)!, {
      task: b.task,
      plugins: [plugin],
      seeds: [b.seed],
      reindex: b.reindex,
      mask: b.mask,
      preset: (b.preset ?? undefined) as Preset | undefined,
      overrides,
      stages: [b.stage],
      resultsPath: null,
      cacheDir: null,
      variant: b.variant,
      evalUsers: b.eval_users ?? undefined,
      dataSpec: b.data_spec,
    });
    // A cell that fails now is reported as missing below; the other cells still run.
    if (failed.length) progress.log(`check: ${describeFailure(failed[0])}`);
    if (record?.stage === b.stage) out.push(record);
    progress.log(`check: ${cellName(b)} rerun`);
  }
  return out;
}

/** Renders the moved cells as a Markdown table. */
export function movedTable(moved: readonly Moved[], tolerance: number): string {
  const lines = [
    "| cell | metric | baseline | now | difference | allowed |",
    "|---|---|---:|---:|---:|---:|",
  ];
  for (const m of moved) {
    const diff = m.now === null ? "missing" : (m.now - m.baseline).toExponential(3);
    lines.push(
      `| ${m.cell} | ${m.metric} | ${m.baseline.toFixed(6)} | ${
        m.now === null ? "–" : m.now.toFixed(6)
      } | ${diff} | ±${tolerance} |`,
    );
  }
  return lines.join("\n");
}

/** Runs `check`; returns the exit code. */
export async function checkCommand(args: string[], builtins: PluginRecord): Promise<number> {
  const { values } = parseArgs("check", args, {
    baseline: { type: "string" },
    tolerance: { type: "string", default: "1e-6" },
    current: { type: "string" },
    "data-root": { type: "string" },
    plugins: { type: "string" },
    plugin: { type: "string", multiple: true },
  });
  if (values.help) {
    console.log(CHECK_HELP);
    return 0;
  }
  if (!values.baseline) throw new UsageError("check needs --baseline <results file>");
  const tolerance = Number(values.tolerance);
  if (!(tolerance >= 0)) {
    throw new UsageError(`--tolerance must be >= 0 but found "${values.tolerance}"`);
  }
  // A file or a folder of them (reproduce's <out>/cells), as `table` reads.
  let baseline = (await readResultsPaths("check --baseline", [values.baseline as string])).sources
    .map((s) => s.record);
  if (values.plugins) {
    const only = list(values.plugins as string);
    baseline = baseline.filter((r) => only.includes(r.plugin));
  }
  const plugins = await withExternalPlugins(builtins, (values.plugin as string[]) ?? []);
  const now = values.current
    ? (await readResultsPaths("check --current", [values.current as string])).sources.map((s) =>
      s.record
    )
    : await rerun(
      baseline,
      plugins,
      (values["data-root"] as string | undefined) ?? defaultDataRoot(),
    );
  const moved = compareRecords(baseline, now, tolerance);
  if (moved.length === 0) {
    console.log(
      `check: ${baseline.length} cells, every metric within ±${tolerance} of ${values.baseline}`,
    );
    return 0;
  }
  console.log(`check: ${moved.length} metric(s) moved beyond ±${tolerance}:\n`);
  console.log(movedTable(moved, tolerance));
  return 1;
}

/**
 * `elmbench plan <experiment> --format shell|slurm|json`: the cells of an
 * experiment for an existing scheduler. Each cell writes its own results
 * file under `<out>/cells`; `elmbench table <out>/cells` merges them.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { CELL_PERMISSIONS, CLI_PATH } from "./cell_pool.ts";
import { cellArgs, cellSlug, type CellSpec, type Experiment, shellQuote } from "./cells.ts";
import { oneOf, parseArgs } from "./cli_args.ts";
import { CELL_OPTIONS, cellsFromOptions } from "./cmd_reproduce.ts";
import type { PluginRecord } from "./registry.ts";

/** Help text of `plan`. */
export const PLAN_HELP = `elmbench plan <experiment> --format shell|slurm|json [--preset ...]
    [--datasets ...] [--seeds ...] [--out DIR] [--data-root DIR]
    [--slurm-options "--partition=gpu --time=04:00:00"]
  Writes the cells of an experiment for a scheduler: a shell script (one
  command per line), a SLURM array job (one cell per array task), or JSON.
  Every cell appends to its own results file in <out>/cells; merge them with
  \`elmbench table <out>/cells --layout table2\`. Paths are absolute, so the
  script runs from any directory on a machine that shares this checkout.`;

function commandLine(cell: CellSpec, cellsDir: string): string {
  const deno = Deno.execPath();
  return [deno, "run", ...CELL_PERMISSIONS, CLI_PATH, ...cellArgs(cell, cellsDir)]
    .map(shellQuote).join(" ");
}

/** Renders the plan of `cells` in `format`. */
export function renderPlan(
  cells: readonly CellSpec[],
  format: "shell" | "slurm" | "json",
  out: string,
  options: { name: string; slurmOptions?: string },
): string {
  const absOut = resolve(out);
  const cellsDir = `${absOut}/cells`;
  const root = dirname(CLI_PATH);
  if (format === "json") {
    return JSON.stringify(
      cells.map((cell) => ({
        slug: cellSlug(cell),
        cell,
        argv: [Deno.execPath(), "run", ...CELL_PERMISSIONS, CLI_PATH, ...cellArgs(cell, cellsDir)],
        results: `${cellsDir}/${cellSlug(cell)}.jsonl`,
      })),
      null,
      2,
    ) + "\n";
  }
  const lines = cells.map((cell) => commandLine(cell, cellsDir));
  if (format === "shell") {
    return [
      "#!/usr/bin/env bash",
      `# elmbench plan ${options.name}: ${cells.length} cells; rerunning skips finished ones.`,
      "set -euo pipefail",
      `cd ${shellQuote(root)}`,
      `mkdir -p ${shellQuote(cellsDir)}`,
      ...lines,
      "",
    ].join("\n");
  }
  const extra = (options.slurmOptions ?? "").split(/\s+/).filter((s) => s !== "")
    .map((o) => `#SBATCH ${o}`);
  return [
    "#!/usr/bin/env bash",
    `#SBATCH --job-name=elmbench-${options.name}`,
    `#SBATCH --array=0-${cells.length - 1}`,
    `#SBATCH --output=${absOut}/logs/%A_%a.log`,
    "#SBATCH --cpus-per-task=2",
    ...extra,
    `# elmbench plan ${options.name}: one cell per array task; merge with:`,
    `#   elmbench table ${cellsDir} --layout table2`,
    "set -euo pipefail",
    `cd ${shellQuote(root)}`,
    `mkdir -p ${shellQuote(cellsDir)} ${shellQuote(`${absOut}/logs`)}`,
    "CELLS=(",
    ...lines.map((l) => `  ${shellQuote(l)}`),
    ")",
    'eval "${CELLS[$SLURM_ARRAY_TASK_ID]}"',
    "",
  ].join("\n");
}

/** Runs `plan`. */
export async function planCommand(
  args: string[],
  plugins: PluginRecord,
  experiments: Readonly<Record<string, Experiment>>,
): Promise<void> {
  const { values, positionals } = parseArgs("plan", args, {
    ...CELL_OPTIONS,
    format: { type: "string", default: "shell" },
    "slurm-options": { type: "string" },
  });
  if (values.help) return console.log(PLAN_HELP);
  const format = oneOf("format", values.format as string, ["shell", "slurm", "json"] as const);
  const { experiment, cells, out } = cellsFromOptions(experiments, plugins, positionals[0], values);
  await Deno.mkdir(`${out}/logs`, { recursive: true });
  console.log(renderPlan(cells, format, out, {
    name: experiment.name,
    slurmOptions: values["slurm-options"] as string | undefined,
  }));
}

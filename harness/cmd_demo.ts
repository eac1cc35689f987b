/**
 * `elmbench demo`: the main job on the embedded synthetic data. Every
 * registered plugin runs at the `tiny` preset on both tasks, and the two
 * tables are printed. Needs no files from outside the project.
 *
 * @module
 */
import { parseArgs } from "./cli_args.ts";
import { generateSynthetic } from "./synthetic.ts";
import { parseSyntheticOptions } from "./data_source.ts";
import { stderrProgress } from "./progress.ts";
import type { PluginRecord } from "./registry.ts";
import { buildTable } from "./report_model.ts";
import { renderTable } from "./report_render.ts";
import { runCells } from "./runner.ts";
import { TASKS } from "./types.ts";

/** Help text of `demo`. */
export const DEMO_HELP = `elmbench demo [--results out/demo/results.jsonl] [--force] [--seed N]
    [--synthetic users=600,items=400,...]
  Runs every registered plugin at the tiny preset on the embedded synthetic
  data (seeded), for the direct and sequential tasks, and prints both tables.`;

/** Runs `demo`. */
export async function demoCommand(
  args: string[],
  builtins: PluginRecord,
  signal?: AbortSignal,
): Promise<void> {
  const { values } = parseArgs("demo", args, {
    results: { type: "string", default: "out/demo/results.jsonl" },
    force: { type: "boolean" },
    seed: { type: "string", default: "0" },
    synthetic: { type: "string" },
  });
  if (values.help) return console.log(DEMO_HELP);
  const started = performance.now();
  const dataset = await generateSynthetic(parseSyntheticOptions(values.synthetic as string));
  console.error(
    `demo: synthetic data, ${dataset.nUsers} users, ${dataset.nItems} items, hash ${
      dataset.hash.slice(0, 12)
    }`,
  );
  const progress = stderrProgress();
  for (const task of TASKS) {
    const plugins = Object.values(builtins).filter((p) => p.tasks.includes(task));
    const records = await runCells(dataset, {
      task,
      plugins,
      seeds: [Number(values.seed)],
      preset: "tiny",
      dataSpec: values.synthetic ? `synthetic:${values.synthetic}` : "synthetic",
      resultsPath: values.results as string,
      force: Boolean(values.force),
      progress,
      signal,
    });
    console.log(renderTable(buildTable(records, task === "direct" ? "table2" : "table3"), "md"));
  }
  console.error(
    `demo: done in ${
      ((performance.now() - started) / 1000).toFixed(1)
    }s; results in ${values.results}`,
  );
}

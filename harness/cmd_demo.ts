/**
 * `elmbench demo`: the main job on the embedded synthetic data. Every
 * registered plugin runs at the `tiny` preset on both tasks, and the two
 * tables are printed. Needs no files from outside the project.
 *
 * @module
 */
import { parseArgs } from "./cli_args.ts";
import { loadPublished } from "./cmd_report.ts";
import { generateSynthetic } from "./synthetic.ts";
import { parseSyntheticOptions } from "./data_source.ts";
import { stderrProgress } from "./progress.ts";
import type { PluginRecord } from "./registry.ts";
import { buildTable } from "./report_model.ts";
import { renderTable } from "./report_render.ts";
import type { ResultRecord } from "./results.ts";
import { runCells } from "./runner.ts";
import { TASKS } from "./types.ts";

/** Help text of `demo`. */
export const DEMO_HELP = `elmbench demo [--results out/demo/results.jsonl] [--force] [--seed N]
    [--synthetic users=600,items=400,...] [--report out/demo/report]
  Runs every registered plugin at the tiny preset on the embedded synthetic
  data (seeded), for the direct and sequential tasks, prints both tables, and
  writes the report of the run (see \`elmbench report\`) and prints its path.`;

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
    report: { type: "string", default: "out/demo/report" },
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
  const ran: ResultRecord[] = [];
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
    ran.push(...records);
    console.log(renderTable(buildTable(records, task === "direct" ? "table2" : "table3"), "md"));
  }
  // The page of this run's records only, as the tables above are.
  const resultsPath = values.results as string;
  const published = await loadPublished(undefined, false);
  const { writeSite } = await import("./site_build.ts");
  const site = await writeSite(ran.map((record) => ({ record, path: resultsPath })), {
    out: values.report as string,
    published: published.rows,
    publishedNote: published.note,
  });
  console.error(
    `demo: done in ${
      ((performance.now() - started) / 1000).toFixed(1)
    }s; results in ${values.results}; report (open in a browser):`,
  );
  console.log(site.index);
}

/**
 * `elmbench demo`: the main job on the embedded synthetic data. Every
 * registered plugin runs at the `tiny` preset on both tasks, and the two
 * tables are printed. Needs no files from outside the project.
 *
 * @module
 */
import { type CellFailure, CellsFailedError } from "./cell_failures.ts";
import { integer, parseArgs } from "./cli_args.ts";
import { tableText } from "./cmd_table.ts";
import { loadPublished } from "./cmd_report.ts";
import { generateSynthetic } from "./synthetic.ts";
import { parseSyntheticOptions } from "./data_source.ts";
import { stderrProgress } from "./progress.ts";
import type { PluginRecord } from "./registry.ts";
import type { TableDefaults } from "./report_model.ts";
import { runCellsReport } from "./runner.ts";
import type { SourcedRecord } from "./significance.ts";
import { TASKS } from "./types.ts";

/** Help text of `demo`. */
export const DEMO_HELP = `elmbench demo [--results out/demo/results.jsonl] [--force] [--seed N]
    [--synthetic users=600,items=400,...] [--report out/demo/report]
  Runs every registered plugin at the tiny preset on the embedded synthetic
  data (seeded), for the direct and sequential tasks, prints both tables, and
  writes the report of the run (see \`elmbench report\`) and prints its path.`;

/**
 * What a demo can and cannot show, printed under its tables: newcomers read
 * the improvement row as the result otherwise.
 */
export const DEMO_CAVEAT =
  "A tiny run checks that every plugin fits and scores end to end on one split in seconds; " +
  "it does not rank the methods. The LLM-based rows train 3 epochs from random weights; their " +
  "free-decoded direct lists seldom name a candidate and score below chance (HR@10 0.10 of 100), " +
  "so their improvement row here measures the budget, not the method; " +
  'README.md, "The tables", has the cpu-preset runs.';

/** Runs `demo`. */
export async function demoCommand(
  args: string[],
  builtins: PluginRecord,
  signal?: AbortSignal,
  tables: TableDefaults = {},
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
  const resultsPath = values.results as string;
  const ran: SourcedRecord[] = [];
  const failed: CellFailure[] = [];
  let cells = 0;
  for (const task of TASKS) {
    const plugins = Object.values(builtins).filter((p) => p.tasks.includes(task));
    const report = await runCellsReport(dataset, {
      task,
      plugins,
      seeds: [integer("seed", values.seed as string)],
      preset: "tiny",
      dataSpec: values.synthetic ? `synthetic:${values.synthetic}` : "synthetic",
      resultsPath,
      force: Boolean(values.force),
      progress,
      signal,
    });
    const sources = report.records.map((record) => ({ record, path: resultsPath }));
    ran.push(...sources);
    failed.push(...report.failed);
    cells += report.cells;
    // The same table `elmbench table` prints of these records, † marks included.
    console.log(
      await tableText(sources, task === "direct" ? "table2" : "table3", {
        ...tables,
        failures: report.failed,
      }),
    );
  }
  console.log(DEMO_CAVEAT);
  // The page of this run's records only, as the tables above are.
  const published = await loadPublished(undefined, false);
  const { writeSite } = await import("./site_build.ts");
  const site = await writeSite(ran, {
    out: values.report as string,
    published: published.rows,
    publishedNote: published.note,
    ours: tables.ours,
    order: tables.order,
    plugins: tables.plugins,
  });
  console.error(
    `demo: done in ${
      ((performance.now() - started) / 1000).toFixed(1)
    }s; results in ${resultsPath}; report (open in a browser):`,
  );
  console.log(site.index);
  if (failed.length) throw new CellsFailedError(failed, cells, resultsPath);
}

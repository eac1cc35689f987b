/**
 * `elmbench report <results...> --out DIR`: a static site a researcher
 * opens in a browser from disk. The page and its builders load only when
 * the command runs, so the plotting libraries cost other commands nothing.
 *
 * @module
 */
import { list, parseArgs, UsageError } from "./cli_args.ts";
import { DEFAULT_PUBLISHED } from "./cmd_table.ts";
import { type PublishedRow, readPublished, type TableDefaults } from "./report_model.ts";
import { expandGlob } from "./results_files.ts";
import type { SourcedRecord } from "./significance.ts";

/** Help text of `report`. */
export const REPORT_HELP = `elmbench report <results.jsonl|dir|figure...> [--out out/report]
    [--published PATH | --no-published] [--ours METHOD] [--datasets a,b] [--title TEXT]
  Writes a static site (DIR/index.html and DIR/assets/) that opens from disk
  with no server and no network: Table 2 and Table 3 as \`table\` prints them
  (sortable; click a number for its records: config, hashes, seed, versions,
  machine, timings), one learning curve per training (info.train_log), the
  sweeps found in the records, the leak audit (P5 ids beside random ids, leak
  variants such as graphEdges=leaky beside the clean config), and figures.
  Arguments ending in .png, .svg, .jpg or .vl.json are figures (an
  embed-plot figure fills the embedding-plot section); the rest are results
  files or folders of them. Published rows come from ${DEFAULT_PUBLISHED}
  when it exists.`;

const FIGURE = /\.(png|svg|jpe?g|vl\.json)$/i;

/**
 * Published rows and a sentence saying where they came from: `path`, else
 * the default file where it exists, else none.
 */
export async function loadPublished(
  path: string | undefined,
  none: boolean,
): Promise<{ rows?: PublishedRow[]; note: string }> {
  if (none) return { note: "No published rows (--no-published)." };
  if (path !== undefined) {
    return { rows: await readPublished(path), note: `Published rows: ${path}.` };
  }
  try {
    return {
      rows: await readPublished(DEFAULT_PUBLISHED),
      note: `Published rows: ${DEFAULT_PUBLISHED}.`,
    };
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    return { note: `No published rows (no ${DEFAULT_PUBLISHED}; pass --published PATH).` };
  }
}

/** Runs `report`; returns the path of the page. */
export async function reportCommand(
  args: string[],
  defaults: TableDefaults = {},
): Promise<string | undefined> {
  const { values, positionals } = parseArgs("report", args, {
    out: { type: "string", default: "out/report" },
    published: { type: "string" },
    "no-published": { type: "boolean" },
    ours: { type: "string" },
    datasets: { type: "string" },
    title: { type: "string" },
  });
  if (values.help) return void console.log(REPORT_HELP);
  const inputs = positionals.filter((p) => !FIGURE.test(p));
  const figures = positionals.filter((p) => FIGURE.test(p));
  if (inputs.length === 0) throw new UsageError("report expects at least one results file");
  const sources: SourcedRecord[] = [];
  for (const path of [...inputs, ...figures]) {
    try {
      await Deno.stat(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw new UsageError(`report: ${path} does not exist`);
      throw e;
    }
  }
  for (const path of inputs) sources.push(...await expandGlob(path));
  if (sources.length === 0) {
    throw new UsageError(`report: no result records in ${inputs.join(", ")}`);
  }
  const pub = await loadPublished(
    values.published as string | undefined,
    Boolean(values["no-published"]),
  );
  const { writeSite } = await import("./site_build.ts");
  const site = await writeSite(sources, {
    out: values.out as string,
    published: pub.rows,
    publishedNote: pub.note,
    ours: (values.ours as string | undefined) ?? defaults.ours,
    order: defaults.order,
    plugins: defaults.plugins,
    datasets: values.datasets ? list(values.datasets as string) : undefined,
    figures,
    ...(values.title ? { title: values.title as string } : {}),
  });
  console.error(
    `report: ${sources.length} records, ${site.files.length} files, ${
      (site.bytes / 2 ** 20).toFixed(1)
    } MiB`,
  );
  console.log(site.index);
  return site.index;
}

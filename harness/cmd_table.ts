/**
 * `elmbench table <results...> --layout table2|table3`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { list, oneOf, parseArgs, UsageError } from "./cli_args.ts";
import { buildTable, type Layout, readPublished } from "./report_model.ts";
import { renderTable, type TableFormat } from "./report_render.ts";
import { expandGlob } from "./results_files.ts";
import { addSignificance, type SourcedRecord } from "./significance.ts";

/** Where published numbers are looked for when `--with-published` names no file. */
export const DEFAULT_PUBLISHED = fileURLToPath(
  new URL("../../shared/reference/published.json", import.meta.url),
);

/** Help text of `table`. */
export const TABLE_HELP = `elmbench table <results.jsonl|dir...> --layout table2|table3
    [--format md|csv|latex|json] [--with-published [path]] [--ours METHOD]
    [--datasets sports,beauty,toys]
  Prints result records in the layout of the paper's Table 2 (direct) or
  Table 3 (sequential): rows = methods, columns = dataset x metric, mean ± std
  over seeds, best of our rows in bold and second underlined, and the
  improvement of --ours (default: elmrec when present) over the best other row.
  --with-published adds the published rows (default ${DEFAULT_PUBLISHED}).`;

/** Runs `table`. */
export async function tableCommand(args: string[]): Promise<void> {
  // `--with-published` takes an optional path: rewrite the bare flag before parsing.
  const normalized = args.flatMap((a, i) =>
    a === "--with-published" && (args[i + 1] === undefined || args[i + 1].startsWith("--") ||
        args[i + 1].endsWith(".jsonl"))
      ? ["--with-published", DEFAULT_PUBLISHED]
      : [a]
  );
  const { values, positionals } = parseArgs("table", normalized, {
    layout: { type: "string" },
    format: { type: "string", default: "md" },
    "with-published": { type: "string" },
    ours: { type: "string" },
    datasets: { type: "string" },
  });
  if (values.help) return console.log(TABLE_HELP);
  if (positionals.length === 0) throw new UsageError("table expects at least one results file");
  if (values.layout === undefined) throw new UsageError("table needs --layout table2|table3");
  const layout = oneOf("layout", values.layout as string, ["table2", "table3"] as Layout[]);
  const format = oneOf(
    "format",
    values.format as string,
    ["md", "csv", "latex", "json"] as TableFormat[],
  );
  const sources: SourcedRecord[] = [];
  for (const path of positionals) sources.push(...(await expandGlob(path)));
  const records = sources.map((s) => s.record);
  const published = values["with-published"]
    ? await readPublished(values["with-published"] as string)
    : undefined;
  const datasets = values.datasets ? list(values.datasets as string) : undefined;
  const model = buildTable(records, layout, {
    published,
    ours: values.ours as string | undefined,
    datasets,
  });
  await addSignificance(model, sources);
  console.log(renderTable(model, format));
}

/**
 * `elmbench table <results...> --layout table2|table3`, and the one way
 * every command prints a table of records ({@linkcode tableText}): `run`,
 * `demo` and `table` print the same thing for the same records.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { type CellFailure, describeFailure } from "./cell_failures.ts";
import { list, oneOf, parseArgs, UsageError } from "./cli_args.ts";
import {
  buildTable,
  type Layout,
  layoutTask,
  type PublishedRow,
  readPublished,
  type TableDefaults,
} from "./report_model.ts";
import { renderTable, type TableFormat } from "./report_render.ts";
import { openFailures, readResultsPaths } from "./results_files.ts";
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
  Table 3 (sequential): rows = methods, grouped by plugin, columns = dataset
  x metric, mean ± std over seeds, best of our rows in bold and second
  underlined (ties share the mark), and the improvement of --ours (a row
  label, or a plugin: its row with the fewest tags; default: the method the
  paper proposes) over the best other row, with † where a paired t-test
  over users finds p < 0.05. Records under one label that differ in config
  get a row each, named by the keys that differ. A folder reads every
  .jsonl file in it (reproduce's <out>/cells). Failed cells are listed.
  --with-published adds the published rows (default ${DEFAULT_PUBLISHED}).`;

/** Options of {@linkcode tableText}. */
export interface TableTextOptions extends TableDefaults {
  /** The user named `ours`: a table without its row is an error. */
  readonly requireOurs?: boolean;
  readonly published?: readonly PublishedRow[];
  readonly datasets?: readonly string[];
  /** @default "md" */
  readonly format?: TableFormat;
  /** Failed cells read with the records; those of this table's task are listed under it. */
  readonly failures?: readonly CellFailure[];
}

/**
 * A table of `sources` in `layout`, as `elmbench table` prints it: the
 * model, the paired tests, and (md) a note per failed cell not superseded.
 */
export async function tableText(
  sources: readonly SourcedRecord[],
  layout: Layout,
  options: TableTextOptions = {},
): Promise<string> {
  const model = buildTable(sources.map((s) => s.record), layout, options);
  await addSignificance(model, sources);
  const failed = openFailures(options.failures ?? [], sources)
    .filter((f) => f.task === layoutTask(layout) && f.stage === "test");
  for (const f of failed) model.notes.push(`Failed, not in the table: ${describeFailure(f)}`);
  return renderTable(model, options.format ?? "md");
}

/** Runs `table`. */
export async function tableCommand(args: string[], defaults: TableDefaults = {}): Promise<void> {
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
  const { sources, failures } = await readResultsPaths("table", positionals);
  const published = values["with-published"]
    ? await readPublished(values["with-published"] as string)
    : undefined;
  console.log(
    await tableText(sources, layout, {
      ...defaults,
      ours: (values.ours as string | undefined) ?? defaults.ours,
      requireOurs: values.ours !== undefined,
      published,
      datasets: values.datasets ? list(values.datasets as string) : undefined,
      format,
      failures,
    }),
  );
}

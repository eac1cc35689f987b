/**
 * Turns result records (and published numbers) into the model of a table in
 * the paper's layout: rows = methods, columns = dataset x metric. Rendering
 * to text formats is `report_render.ts`.
 *
 * @module
 */
import { metricNames } from "./metrics.ts";
import type { ResultRecord } from "./results.ts";
import { type KeysByPlugin, orderRows, rowLabel, rowLabels } from "./row_labels.ts";

export { rowLabel };
import type { Task } from "./types.ts";

/** The paper's two tables: Table 2 (direct) and Table 3 (sequential). */
export type Layout = "table2" | "table3";

/** One published number from `published.json`. */
export interface PublishedRow {
  readonly task: Task;
  readonly dataset: string;
  readonly method: string;
  readonly metric: string;
  readonly value: number;
  readonly source: string;
  readonly note?: string;
}

/** A cell: mean and sample std over seeds (std 0 for one seed). */
export interface Cell {
  readonly mean: number;
  readonly std: number;
  readonly n: number;
}

/** A row of the table. */
export interface TableRow {
  readonly method: string;
  /** The plugin of the row (published rows: the method). */
  readonly plugin: string;
  readonly published: boolean;
  readonly cells: (Cell | null)[];
  /** Per column: 1 = best, 2 = second best among our rows, else 0. */
  readonly rank: number[];
  readonly sources?: string[];
}

/** The table before rendering. */
export interface TableModel {
  readonly layout: Layout;
  readonly task: Task;
  readonly columns: { dataset: string; metric: string }[];
  readonly rows: TableRow[];
  /** Relative improvement of `ours` over the best other row of ours, per column. */
  readonly improvement: {
    ours: string;
    over: (string | null)[];
    values: (number | null)[];
    /** Two-sided paired t-test p-values (filled by `addSignificance`). */
    p?: (number | null)[];
  } | null;
  readonly notes: string[];
  /** The row label of each record given (not in the JSON output). */
  readonly labelOf: (r: ResultRecord) => string;
}

/** Dataset order of the paper's tables; others follow alphabetically. */
const DATASET_ORDER = ["sports", "beauty", "toys"];

/** The task a layout shows. */
export function layoutTask(layout: Layout): Task {
  if (layout === "table2") return "direct";
  if (layout === "table3") return "sequential";
  throw new RangeError(`Unknown layout "${layout}"; valid layouts: table2, table3`);
}

/**
 * What the face tells the commands that print tables about the built-ins:
 * the order of their rows, the method under test (its improvement row),
 * and their key declarations. The harness knows no plugin by name.
 */
export interface TableDefaults {
  readonly order?: readonly string[];
  readonly ours?: string;
  readonly plugins?: KeysByPlugin;
}

/** Options of {@linkcode buildTable}. */
export interface BuildTableOptions {
  readonly published?: readonly PublishedRow[];
  /**
   * The row whose improvement over the best other row is reported: a row
   * label, or a plugin name, which picks that plugin's default row (see
   * {@linkcode defaultRow}); none when it has no row here. @default none
   */
  readonly ours?: string;
  /** `ours` was asked for (`--ours`): a table without such a row is an error. */
  readonly requireOurs?: boolean;
  /** Plugin names in the order their rows should appear (others follow, as met). */
  readonly order?: readonly string[];
  /** Restrict and order datasets. */
  readonly datasets?: readonly string[];
  /** Key declarations, so that records made under a key's old name label as newer ones. */
  readonly plugins?: KeysByPlugin;
}

/** Builds the table model of `layout` from test-stage records. */
export function buildTable(
  records: readonly ResultRecord[],
  layout: Layout,
  options: BuildTableOptions = {},
): TableModel {
  const task = layoutTask(layout);
  const metrics = metricNames(task);
  const mine = records.filter((r) => r.task === task && r.stage === "test");
  // Published numbers fill the columns of our datasets; alone, they bring their own.
  const datasetSet = new Set(mine.map((r) => r.dataset));
  if (datasetSet.size === 0) {
    for (const p of options.published ?? []) if (p.task === task) datasetSet.add(p.dataset);
  }
  const datasets = options.datasets
    ? [...options.datasets]
    : [...datasetSet].sort((a, b) => orderOf(a) - orderOf(b) || (a < b ? -1 : 1));
  const columns = datasets.flatMap((dataset) => metrics.map((metric) => ({ dataset, metric })));

  // The latest record wins per (row, dataset, seed): reruns replace, seeds aggregate.
  const labels = rowLabels(mine, options.plugins);
  const latest = new Map<string, ResultRecord>();
  for (const r of mine) latest.set(`${labels.of(r)}\0${r.dataset}\0${r.seed}`, r);
  const found: { method: string; plugin: string }[] = [];
  for (const r of mine) {
    const method = labels.of(r);
    if (!found.some((f) => f.method === method)) found.push({ method, plugin: r.plugin });
  }
  const rows: TableRow[] = orderRows(found, options.order).map((i) => ({
    ...found[i],
    published: false,
    rank: [],
    cells: columns.map(({ dataset, metric }) => {
      const values = [...latest.values()]
        .filter((r) => labels.of(r) === found[i].method && r.dataset === dataset)
        .map((r) => r.metrics[metric])
        .filter((v) => v !== undefined);
      return values.length ? summarize(values) : null;
    }),
  }));

  const published = (options.published ?? []).filter((p) => p.task === task);
  const pubMethods = [...new Set(published.map((p) => p.method))];
  for (const method of pubMethods) {
    const sources = new Set<string>();
    const cells = columns.map(({ dataset, metric }) => {
      const p = published.find((q) =>
        q.method === method && q.dataset === dataset && q.metric === metric
      );
      if (!p) return null;
      sources.add(p.source);
      return { mean: p.value, std: 0, n: 1 };
    });
    if (cells.some((c) => c !== null)) {
      rows.push({
        method,
        plugin: method,
        published: true,
        cells,
        rank: [],
        sources: [...sources],
      });
    }
  }
  for (const r of rows) r.rank.push(...columns.map(() => 0));
  columns.forEach((_, j) => {
    // Ties share their mark: every row at the best value is bold, every row at the next underlined.
    const values = [
      ...new Set(
        rows.filter((r) => !r.published && r.cells[j] !== null)
          .map((r) => r.cells[j]!.mean),
      ),
    ].sort((a, b) => b - a);
    for (const r of rows) {
      if (r.published || r.cells[j] === null) continue;
      const at = values.indexOf(r.cells[j]!.mean);
      if (at < 2) r.rank[j] = at + 1;
    }
  });

  const ourRows = rows.filter((r) => !r.published);
  const oursLabel = options.ours === undefined
    ? undefined
    : ourRows.some((r) => r.method === options.ours)
    ? options.ours
    : defaultRow(ourRows, options.ours, mine, labels.of);
  if (options.requireOurs && oursLabel === undefined && ourRows.length) {
    throw new RangeError(
      `--ours "${options.ours}" is neither a row nor a plugin of this table; rows: ${
        ourRows.map((r) => r.method).join(", ")
      }`,
    );
  }
  let improvement: TableModel["improvement"] = null;
  if (oursLabel !== undefined && ourRows.length >= 2) {
    const oursRow = ourRows.find((r) => r.method === oursLabel)!;
    const over: (string | null)[] = [];
    const values = columns.map((_, j) => {
      const others = ourRows.filter((r) => r !== oursRow && r.cells[j] !== null);
      const best = others.sort((a, b) => b.cells[j]!.mean - a.cells[j]!.mean)[0];
      over.push(best?.method ?? null);
      const mine = oursRow.cells[j];
      if (!best || !mine || best.cells[j]!.mean === 0) return null;
      return (mine.mean - best.cells[j]!.mean) / best.cells[j]!.mean;
    });
    improvement = { ours: oursLabel, over, values };
  }

  const notes: string[] = [];
  const seeded = new Set(
    mine.filter((r) => r.test_negatives === "seeded" && task === "direct").map((r) => r.dataset),
  );
  if (seeded.size) {
    notes.push(
      `Direct-protocol negatives for ${
        [...seeded].sort().join(", ")
      } are elmbench's seeded uniform draws (no official negative file); published rows used other draws.`,
    );
  }
  if (rows.some((r) => r.published)) {
    notes.push("Rows marked (published) are copied from the sources in published.json, not rerun.");
  }
  if (task === "sequential" && mine.some((r) => r.mask === "none")) {
    notes.push(
      "Sequential ranking is over all items with no history item excluded (as in the released code).",
    );
  }
  if (mine.some((r) => r.reindex === "none") && task === "sequential") {
    notes.push("P5 item ids leak the next item (see idleak); compare with reindex=random rows.");
  }
  for (const { label, keys } of labels.split) {
    notes.push(
      `Records labelled "${label}" differ in ${
        keys.join(", ")
      }; each setting is its own row, named by those keys, so that none hides another.`,
    );
  }
  return { layout, task, columns, rows, improvement, notes, labelOf: labels.of };
}

/**
 * The row of `plugin` an improvement is reported for when `--ours` names a
 * plugin: among its rows without renumbering or masking, the one with the
 * fewest tags, then the one with results on the most datasets, then the
 * one finished last (the latest of its runs).
 */
export function defaultRow(
  rows: readonly TableRow[],
  plugin: string,
  records: readonly ResultRecord[],
  labelOf: (r: ResultRecord) => string,
): string | undefined {
  const candidates = rows.filter((r) => r.plugin === plugin && !r.published);
  const plain = candidates.filter((r) => !/[(, ](reindex|mask)=/.test(r.method));
  const pool = plain.length ? plain : candidates;
  const tagCount = (r: TableRow) => r.method === r.plugin ? 0 : r.method.split(", ").length;
  const datasets = (r: TableRow) =>
    new Set(records.filter((x) => labelOf(x) === r.method).map((x) => x.dataset)).size;
  const last = (r: TableRow) =>
    records.filter((x) => labelOf(x) === r.method).map((x) => x.finished_at).sort().at(-1) ?? "";
  return [...pool].sort((a, b) =>
    tagCount(a) - tagCount(b) || datasets(b) - datasets(a) || (last(a) > last(b) ? -1 : 1)
  )[0]?.method;
}

function orderOf(dataset: string): number {
  const i = DATASET_ORDER.indexOf(dataset);
  return i < 0 ? DATASET_ORDER.length : i;
}

/** Mean and sample standard deviation. */
export function summarize(values: readonly number[]): Cell {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), n };
}

/** Reads `published.json` (`{ rows: PublishedRow[] }`), naming the file on malformed input. */
export async function readPublished(path: string): Promise<PublishedRow[]> {
  const text = await Deno.readTextFile(path);
  let parsed: { rows?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new SyntaxError(`${path}: expected JSON but ${(e as Error).message}`);
  }
  if (!Array.isArray(parsed.rows)) {
    throw new SyntaxError(`${path}: expected an object with a "rows" array`);
  }
  return parsed.rows.map((r, i) => {
    const row = r as PublishedRow;
    if (typeof row.value !== "number" || typeof row.method !== "string") {
      throw new SyntaxError(
        `${path}: row ${i} needs a numeric "value" and a "method" but found ${JSON.stringify(r)}`,
      );
    }
    return row;
  });
}

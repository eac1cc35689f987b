/**
 * Turns result records (and published numbers) into the model of a table in
 * the paper's layout: rows = methods, columns = dataset x metric. Rendering
 * to text formats is `report_render.ts`.
 *
 * @module
 */
import { metricNames } from "./metrics.ts";
import type { ResultRecord } from "./results.ts";
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
}

/** Dataset order of the paper's tables; others follow alphabetically. */
const DATASET_ORDER = ["sports", "beauty", "toys"];

/** The task a layout shows. */
export function layoutTask(layout: Layout): Task {
  if (layout === "table2") return "direct";
  if (layout === "table3") return "sequential";
  throw new RangeError(`Unknown layout "${layout}"; valid layouts: table2, table3`);
}

/** The row label of a record: plugin, plus what makes it a different measurement. */
export function rowLabel(r: ResultRecord): string {
  const tags: string[] = [];
  if (r.variant) tags.push(r.variant);
  if (r.reindex !== "none") tags.push(`reindex=${r.reindex}`);
  if (r.mask !== "none") tags.push(`mask=${r.mask}`);
  return tags.length ? `${r.plugin} (${tags.join(", ")})` : r.plugin;
}

/** Options of {@linkcode buildTable}. */
export interface BuildTableOptions {
  readonly published?: readonly PublishedRow[];
  /** Row whose improvement over the best other row is reported; @default "elmrec" when present, else none */
  readonly ours?: string;
  /** Plugin names in the order their rows should appear. */
  readonly order?: readonly string[];
  /** Restrict and order datasets. */
  readonly datasets?: readonly string[];
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
  const latest = new Map<string, ResultRecord>();
  for (const r of mine) latest.set(`${rowLabel(r)}\0${r.dataset}\0${r.seed}`, r);
  const labels: string[] = [];
  for (const r of mine) if (!labels.includes(rowLabel(r))) labels.push(rowLabel(r));
  if (options.order) {
    // Rows follow the experiment's plugin order; variants stay after their plugin.
    const rank = (label: string) => {
      const i = options.order!.indexOf(label.split(" (")[0]);
      return i < 0 ? options.order!.length : i;
    };
    labels.sort((a, b) => rank(a) - rank(b));
  }
  const rows: TableRow[] = labels.map((method) => ({
    method,
    published: false,
    rank: [],
    cells: columns.map(({ dataset, metric }) => {
      const values = [...latest.values()]
        .filter((r) => rowLabel(r) === method && r.dataset === dataset)
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
      rows.push({ method, published: true, cells, rank: [], sources: [...sources] });
    }
  }
  for (const r of rows) r.rank.push(...columns.map(() => 0));
  columns.forEach((_, j) => {
    const ours = rows.filter((r) => !r.published && r.cells[j] !== null)
      .sort((a, b) => b.cells[j]!.mean - a.cells[j]!.mean);
    if (ours[0]) ours[0].rank[j] = 1;
    if (ours[1] && ours[1].cells[j]!.mean < ours[0].cells[j]!.mean) ours[1].rank[j] = 2;
  });

  const ourLabels = rows.filter((r) => !r.published).map((r) => r.method);
  const oursLabel = options.ours ?? ourLabels.find((l) => l === "elmrec");
  let improvement: TableModel["improvement"] = null;
  if (oursLabel !== undefined && ourLabels.length >= 2) {
    const oursRow = rows.find((r) => !r.published && r.method === oursLabel);
    if (!oursRow) {
      throw new RangeError(
        `--ours "${oursLabel}" is not a row of this table; rows: ${ourLabels.join(", ")}`,
      );
    }
    const over: (string | null)[] = [];
    const values = columns.map((_, j) => {
      const others = rows.filter((r) => !r.published && r !== oursRow && r.cells[j] !== null);
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
  return { layout, task, columns, rows, improvement, notes };
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

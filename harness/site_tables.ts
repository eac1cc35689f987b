/**
 * The report page's Table 2 and Table 3: the same {@linkcode TableModel}
 * that `elmbench table` prints, as HTML with the same text in every cell
 * (`value`, `label` and `percent` of `report_render.ts`), plus, per cell,
 * which records made it, so that the page can show a cell's provenance.
 *
 * @module
 */
import { buildTable, type Layout, type PublishedRow, type TableModel } from "./report_model.ts";
import type { KeysByPlugin } from "./row_labels.ts";
import { label, percent, value } from "./report_render.ts";
import { addSignificance, type SourcedRecord } from "./significance.ts";
import { escapeHtml } from "./site_html.ts";

/** Where a table cell's number came from: result records (by index) or a published source. */
export type CellSource =
  | { readonly records: number[] }
  | { readonly published: { readonly source: string; readonly note?: string } };

/** A table of the page: its model, its HTML and its cells' sources (`<layout>:<row>:<col>`). */
export interface SiteTable {
  readonly model: TableModel;
  readonly html: string;
  readonly cells: Record<string, CellSource>;
}

/** Options of {@linkcode siteTable}. */
export interface SiteTableOptions {
  readonly published?: readonly PublishedRow[];
  readonly ours?: string;
  readonly datasets?: readonly string[];
  readonly order?: readonly string[];
  readonly plugins?: KeysByPlugin;
}

/**
 * Builds one layout as `elmbench table` does (`buildTable`, then the paired
 * tests), or null when no test record of its task is among `sources`.
 */
export async function siteTable(
  sources: readonly SourcedRecord[],
  layout: Layout,
  options: SiteTableOptions = {},
): Promise<SiteTable | null> {
  const records = sources.map((s) => s.record);
  const model = buildTable(records, layout, options);
  if (!records.some((r) => r.task === model.task && r.stage === "test")) return null;
  await addSignificance(model, sources);
  const cells = cellSources(sources, model, options.published ?? []);
  return { model, html: tableHtml(model), cells };
}

/**
 * The records behind each of our cells, chosen as `buildTable` chooses them
 * (the latest record per row, dataset and seed). A mean that does not come
 * out equal is an error: the page would otherwise show provenance for a
 * number it does not print.
 */
export function cellSources(
  sources: readonly SourcedRecord[],
  model: TableModel,
  published: readonly PublishedRow[],
): Record<string, CellSource> {
  const latest = new Map<string, number>();
  sources.forEach((s, i) => {
    const r = s.record;
    if (r.task !== model.task || r.stage !== "test") return;
    latest.set(`${model.labelOf(r)}\0${r.dataset}\0${r.seed}`, i);
  });
  const out: Record<string, CellSource> = {};
  model.rows.forEach((row, i) => {
    model.columns.forEach(({ dataset, metric }, j) => {
      const cell = row.cells[j];
      if (cell === null) return;
      const key = `${model.layout}:${i}:${j}`;
      if (row.published) {
        const p = published.find((q) =>
          q.task === model.task && q.method === row.method && q.dataset === dataset &&
          q.metric === metric
        );
        if (p) out[key] = { published: { source: p.source, ...(p.note ? { note: p.note } : {}) } };
        return;
      }
      const picked = [...latest.entries()]
        .filter(([k]) => k.startsWith(`${row.method}\0${dataset}\0`))
        .map(([, idx]) => idx)
        .filter((idx) => sources[idx].record.metrics[metric] !== undefined);
      const mean = picked.reduce((a, idx) => a + sources[idx].record.metrics[metric], 0) /
        picked.length;
      if (!(Math.abs(mean - cell.mean) <= 1e-12 * Math.max(1, Math.abs(cell.mean)))) {
        throw new RangeError(
          `Provenance of ${model.layout} row "${row.method}", ${dataset} ${metric}: expected ` +
            `records averaging ${cell.mean} but found ${mean} (${picked.length} records)`,
        );
      }
      out[key] = { records: picked };
    });
  });
  return out;
}

/** The table as HTML: a two-row header (dataset, metric), rows, the improvement in the footer. */
export function tableHtml(model: TableModel): string {
  const datasets: { name: string; span: number }[] = [];
  for (const c of model.columns) {
    const last = datasets.at(-1);
    if (last && last.name === c.dataset) last.span++;
    else datasets.push({ name: c.dataset, span: 1 });
  }
  const title = `${
    model.layout === "table2" ? "Table 2" : "Table 3"
  }: ${model.task} recommendation`;
  const head = [
    `<tr><th rowspan="2" class="sortable" data-col="-1" scope="col">Method</th>${
      datasets.map((d) => `<th colspan="${d.span}" scope="colgroup">${escapeHtml(d.name)}</th>`)
        .join("")
    }</tr>`,
    `<tr>${
      model.columns.map((c, j) =>
        `<th class="sortable" data-col="${j}" scope="col" title="sort by ${
          escapeHtml(`${c.dataset} ${c.metric}`)
        }">${escapeHtml(c.metric)}</th>`
      ).join("")
    }</tr>`,
  ];
  const body = model.rows.map((row, i) => {
    const name = row.published
      ? `${escapeHtml(row.method)} <span class="tag">(published)</span>`
      : escapeHtml(label(row));
    const cells = row.cells.map((cell, j) => {
      const text = escapeHtml(value(cell));
      const shown = row.rank[j] === 1
        ? `<strong>${text}</strong>`
        : row.rank[j] === 2
        ? `<u>${text}</u>`
        : text;
      const v = cell === null ? "" : ` data-v="${cell.mean}"`;
      const click = cell === null ? "" : ` data-cell="${model.layout}:${i}:${j}" tabindex="0"`;
      return `<td data-col="${j}"${v}${click}>${shown}</td>`;
    }).join("");
    const cls = row.published ? ` class="published"` : "";
    const src = row.sources?.length ? ` title="${escapeHtml(row.sources.join("; "))}"` : "";
    return `<tr data-row="${i}"${cls}${src}><th scope="row" class="method">${name}</th>${cells}</tr>`;
  });
  const imp = model.improvement;
  const foot = imp
    ? `<tfoot><tr class="improvement"><th scope="row">Improv. (${
      escapeHtml(imp.ours)
    } vs best other)</th>${
      imp.values.map((v, j) =>
        `<td data-col="${j}" title="${
          escapeHtml(
            `over ${imp.over[j] ?? "–"}${
              imp.p?.[j] != null ? `, p = ${imp.p[j]!.toPrecision(3)}` : ""
            }`,
          )
        }">${escapeHtml(percent(v, imp.p?.[j]))}</td>`
      ).join("")
    }</tr></tfoot>`
    : "";
  const notes = [...model.notes];
  if (imp?.p?.some((p) => p !== null)) {
    notes.push(
      "† the difference from the best other row is significant (paired t-test over users, p < 0.05).",
    );
  }
  return [
    `<table class="results" id="${model.layout}" data-layout="${model.layout}">`,
    `<caption>${escapeHtml(title)}</caption>`,
    `<thead>${head.join("")}</thead>`,
    `<tbody>${body.join("\n")}</tbody>`,
    foot,
    "</table>",
    notes.length
      ? `<ul class="notes">${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>`
      : "",
  ].join("\n");
}

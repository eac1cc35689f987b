/**
 * Writes the report site: `index.html` (tables, leak audit, learning
 * curves, sweeps, embedding plot, provenance) and `assets/` beside it.
 * Everything the page shows is computed here from the records; the browser
 * only draws the embedded Vega-Lite specs, sorts and shows provenance.
 *
 * @module
 */
import { basename, join } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import type { PublishedRow } from "./report_model.ts";
import type { KeysByPlugin } from "./row_labels.ts";
import type { SourcedRecord } from "./significance.ts";
import { SCRIPTS, STYLESHEET, writeAssets } from "./site_assets.ts";
import { learningCurves } from "./site_curves.ts";
import { escapeHtml, pageHtml, type PageSection } from "./site_html.ts";
import { leakPairs } from "./site_leaks.ts";
import {
  curveSection,
  figureSection,
  type GivenFigure,
  leakSection,
  type PageData,
  sweepSection,
} from "./site_sections.ts";
import { findSweeps } from "./site_sweeps.ts";
import { siteTable } from "./site_tables.ts";

/** Options of {@linkcode writeSite}. */
export interface SiteOptions {
  /** The folder to write; created if missing. */
  readonly out: string;
  readonly published?: readonly PublishedRow[];
  /** Where the published rows came from, or why there are none. */
  readonly publishedNote?: string;
  readonly ours?: string;
  readonly datasets?: readonly string[];
  /** Plugin order of the table rows. */
  readonly order?: readonly string[];
  /** Key declarations, so that records under a key's old name label as newer ones. */
  readonly plugins?: KeysByPlugin;
  /** Figures to show: PNG, SVG or JPEG files (copied) and `.vl.json` specs (drawn). */
  readonly figures?: readonly string[];
  /** @default "elmbench report" */
  readonly title?: string;
}

/** What was written. */
export interface SiteResult {
  readonly index: string;
  readonly files: string[];
  readonly bytes: number;
}

/** A record as the provenance panel shows it: everything but the epoch log. */
function provenance(s: SourcedRecord): Record<string, unknown> {
  const { info, ...rest } = s.record;
  const { train_log: log, ...infoRest } = info ?? {};
  return {
    file: s.path,
    ...rest,
    info: Array.isArray(log)
      ? { ...infoRest, train_log: `${log.length} epochs (drawn)` }
      : infoRest,
  };
}

async function givenFigures(paths: readonly string[], out: string): Promise<GivenFigure[]> {
  const figures: GivenFigure[] = [];
  const used = new Set<string>();
  for (const path of paths) {
    const name = basename(path);
    if (name.endsWith(".vl.json")) {
      let spec: TopLevelSpec;
      try {
        spec = JSON.parse(await Deno.readTextFile(path));
      } catch (e) {
        throw new SyntaxError(
          `${path}: expected a Vega-Lite spec (JSON) but ${(e as Error).message}`,
        );
      }
      figures.push({ kind: "spec", name, spec });
      continue;
    }
    let target = name;
    for (let k = 2; used.has(target); k++) target = `${k}-${name}`;
    used.add(target);
    await Deno.mkdir(join(out, "figures"), { recursive: true });
    await Deno.copyFile(path, join(out, "figures", target));
    figures.push({ kind: "image", name, href: `figures/${target}` });
  }
  return figures;
}

function countBy<T>(items: readonly T[], key: (t: T) => string): [string, number][] {
  const m = new Map<string, number>();
  for (const t of items) m.set(key(t), (m.get(key(t)) ?? 0) + 1);
  return [...m.entries()];
}

function summaryHtml(sources: readonly SourcedRecord[], options: SiteOptions): string {
  const records = sources.map((s) => s.record);
  const files = countBy(sources, (s) => s.path);
  const list = (xs: Iterable<string>) => escapeHtml([...new Set(xs)].sort().join(", "));
  return `<div class="summary"><p>${records.length} records from ${
    files.map(([f, n]) => `<code>${escapeHtml(f)}</code> (${n})`).join(", ")
  }; datasets: ${list(records.map((r) => r.dataset))}; plugins: ${
    list(records.map((r) => r.plugin))
  }. ${escapeHtml(options.publishedNote ?? "")} Written ${
    new Date().toISOString().slice(0, 16).replace("T", " ")
  } UTC. Click a number for the records behind it; click a column head to sort.</p></div>`;
}

function aboutHtml(sources: readonly SourcedRecord[]): string {
  // The git revision moves with every commit; the rest of the versions rarely do.
  const versions = countBy(
    sources,
    ({ record: r }) =>
      Object.entries(r.versions ?? {}).filter(([k]) => k !== "git").map(([k, v]) => `${k} ${v}`)
        .join(", "),
  );
  const revisions = countBy(sources, ({ record: r }) => r.versions?.git ?? "unknown");
  const machines = countBy(
    sources,
    ({ record: r }) => Object.entries(r.machine ?? {}).map(([k, v]) => `${k} ${v}`).join(", "),
  );
  const table = (head: string, rows: [string, number][]) =>
    `<table class="plain"><thead><tr><th>${head}</th><th>records</th></tr></thead><tbody>${
      rows.map(([k, n]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${n}</td></tr>`).join("")
    }</tbody></table>`;
  return `<p>Where the records were computed (each cell's own values are in its provenance).</p>
${table("versions", versions)}<p>git revisions: ${
    revisions.map(([k, n]) => `<code>${escapeHtml(k)}</code> (${n})`).join(", ")
  }</p>${table("machine", machines)}`;
}

/** Builds the page from `sources` and writes it with its assets under `options.out`. */
export async function writeSite(
  sources: readonly SourcedRecord[],
  options: SiteOptions,
): Promise<SiteResult> {
  await Deno.mkdir(options.out, { recursive: true });
  const data: PageData = { charts: {}, cells: {} };
  const columns: Record<string, string[]> = {};
  const sections: PageSection[] = [];
  for (const layout of ["table2", "table3"] as const) {
    const table = await siteTable(sources, layout, options);
    const title = layout === "table2" ? "Table 2 (direct)" : "Table 3 (sequential)";
    if (!table) {
      sections.push({
        id: layout,
        title,
        html: `<p class="empty">No test record of this task.</p>`,
      });
      continue;
    }
    Object.assign(data.cells, table.cells);
    columns[layout] = table.model.columns.map((c) => `${c.dataset} ${c.metric}`);
    sections.push({ id: layout, title, html: table.html });
  }
  sections.push({
    id: "leaks",
    title: "Leak audit",
    html: leakSection(await leakPairs(sources), data),
  });
  const { curves, skipped } = learningCurves(sources);
  sections.push({
    id: "curves",
    title: "Learning curves",
    html: curveSection(curves, sources, skipped, data),
  });
  sections.push({
    id: "sweeps",
    title: "Sweeps",
    html: sweepSection(findSweeps(sources), sources, data),
  });
  const figures = await givenFigures(options.figures ?? [], options.out);
  sections.push({ id: "embedding", title: "Embedding plot", html: figureSection(figures, data) });
  sections.push({ id: "about", title: "Versions and machines", html: aboutHtml(sources) });

  const html = pageHtml({
    title: options.title ?? "elmbench report",
    summary: summaryHtml(sources, options),
    sections,
    scripts: SCRIPTS,
    stylesheet: STYLESHEET,
    data: { ...data, columns, records: sources.map(provenance) },
  });
  const index = join(options.out, "index.html");
  await Deno.writeTextFile(index, html);
  const files = [
    index,
    ...await writeAssets(options.out),
    ...figures.filter((f) => f.kind === "image")
      .map((f) => join(options.out, (f as { href: string }).href)),
  ];
  let bytes = 0;
  for (const f of files) bytes += (await Deno.stat(f)).size;
  return { index, files, bytes };
}

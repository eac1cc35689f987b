/**
 * The report page's sections other than the two tables: the leak audit,
 * the learning curves, the sweeps and the embedding plot. Each returns
 * HTML and registers its charts (Vega-Lite specs, drawn in the browser)
 * and clickable cells (the records behind a number) in a {@linkcode PageData}.
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { rowLabel } from "./report_model.ts";
import type { SourcedRecord } from "./significance.ts";
import { type Curve, curveSpec } from "./site_curves.ts";
import { escapeHtml } from "./site_html.ts";
import { type LeakPair, leakSpec } from "./site_leaks.ts";
import { type Sweep, sweepSpec } from "./site_sweeps.ts";
import type { CellSource } from "./site_tables.ts";

/** The page's data, filled by the sections: charts by id and cell sources by key. */
export interface PageData {
  readonly charts: Record<string, TopLevelSpec>;
  readonly cells: Record<string, CellSource>;
}

/** Registers a chart and returns the element the page draws it into. */
export function chartDiv(data: PageData, id: string, spec: TopLevelSpec): string {
  data.charts[id] = spec;
  return `<div class="chart" data-chart="${escapeHtml(id)}"></div>`;
}

const f4 = (x: number) => x.toFixed(4);
const signed = (x: number, digits: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(digits)}`;

function code(text: string): string {
  return `<code>${escapeHtml(text)}</code>`;
}

/** The leak audit: a table and a bar chart per kind of leak and task. */
export function leakSection(pairs: readonly LeakPair[], data: PageData): string {
  const intro = `<p>Each row is one measurement beside the same measurement without its leak.
Item ids: P5 numbers items by first appearance, so the next item is often ${code("max(history)+1")};
${code("--reindex random")} renumbers items before anything sees the data. Leak variants: a record
whose variant holds a value naming a leak (such as ${code("graphEdges=leaky")}, the released code's
graph with test edges) beside the record whose config differs in that key only.
Δ = with the leak − without; † = paired t-test over users, p &lt; 0.05 (needs per-user files).</p>`;
  if (pairs.length === 0) {
    return `${intro}<p class="empty">No pairs in these records. Run the same cells with
${code("--reindex random")}, or with a leak variant (${code("--set <plugin>.graphEdges=leaky")}),
and pass both results files.</p>`;
  }
  const groups = new Map<string, LeakPair[]>();
  for (const p of pairs) {
    const k = `${p.key}\0${p.task}`;
    groups.set(k, [...(groups.get(k) ?? []), p]);
  }
  const parts = [intro];
  let g = 0;
  for (const group of groups.values()) {
    const { key, task } = group[0];
    const what = key === "reindex" ? "item ids" : `${key}`;
    const metrics = ["HR@10", "NDCG@10"].filter((m) => group.some((p) => p.clean.metrics[m]));
    const head = `<tr><th rowspan="2">Row</th><th rowspan="2">dataset</th>${
      metrics.map((m) => `<th colspan="4">${escapeHtml(m)}</th>`).join("")
    }</tr><tr>${
      metrics.map(() => "<th>without</th><th>with</th><th>Δ</th><th>Δ %</th>").join("")
    }</tr>`;
    const rows = group.map((p, i) => {
      const cells = metrics.map((m) => {
        const c = p.clean.metrics[m], l = p.leaky.metrics[m];
        if (!c || !l) return "<td>–</td>".repeat(4);
        const key = (s: string) => `leak:${g}:${i}:${s}`;
        data.cells[key("clean")] = { records: p.clean.records };
        data.cells[key("leaky")] = { records: p.leaky.records };
        const mark = p.p[m] != null && p.p[m]! < 0.05 ? "†" : "";
        const rel = c.mean === 0 ? "–" : `${signed(100 * (l.mean - c.mean) / c.mean, 1)}%`;
        return `<td data-cell="${key("clean")}" tabindex="0" title="${escapeHtml(p.clean.label)}">${
          f4(c.mean)
        }</td><td data-cell="${key("leaky")}" tabindex="0" title="${escapeHtml(p.leaky.label)}">${
          f4(l.mean)
        }</td><td>${signed(l.mean - c.mean, 4)}${mark}</td><td>${rel}</td>`;
      }).join("");
      return `<tr><th scope="row">${escapeHtml(p.method)}<br><small>${
        escapeHtml(`${p.clean.label} → ${p.leaky.label}`)
      }</small></th><td>${escapeHtml(p.dataset)}</td>${cells}</tr>`;
    });
    parts.push(`<h3>${escapeHtml(`${what}, ${task} task`)}</h3>`);
    parts.push(`<table class="audit" data-audit="${escapeHtml(key)}:${escapeHtml(task)}">
<thead>${head}</thead><tbody>${rows.join("\n")}</tbody></table>`);
    const metric = metrics.at(-1);
    if (metric) {
      parts.push(chartDiv(
        data,
        `leak-${g}`,
        leakSpec(group, metric, `${what}, ${task}: ${metric} without and with the leak`),
      ));
    }
    g++;
  }
  return parts.join("\n");
}

/** Learning curves grouped by plugin and dataset, and what trained without a log. */
export function curveSection(
  curves: readonly Curve[],
  sources: readonly SourcedRecord[],
  skipped: readonly number[],
  data: PageData,
): string {
  const parts = [`<p>One chart per training (cells that share a checkpoint share a chart), from
${code("info.train_log")}: training loss per epoch, the validation loss or metric early stopping
watched, the popularity prior's validation loss where recorded (dashed), and the best epoch (red).</p>`];
  if (curves.length === 0) parts.push(`<p class="empty">No record here holds a training log.</p>`);
  let last = "";
  curves.forEach((c, i) => {
    const head = `${c.plugin} on ${c.dataset}`;
    if (head !== last) {
      if (last) parts.push("</div>");
      parts.push(`<h3>${escapeHtml(head)}</h3><div class="grid">`);
      last = head;
    }
    data.cells[`curve:${i}`] = { records: c.records };
    const facts = [
      c.bestEpoch !== null
        ? `best epoch ${c.bestEpoch} of ${c.epochs}`
        : `${c.epochs} epoch${c.epochs === 1 ? "" : "s"}`,
      c.prior !== null ? `prior ${c.prior.toFixed(4)}` : "",
    ].filter(Boolean).join("; ");
    parts.push(`<figure class="curve">${chartDiv(data, `curve-${i}`, curveSpec(c))}
<figcaption data-cell="curve:${i}" tabindex="0">${escapeHtml(facts)}<br><small>${
      c.labels.map(escapeHtml).join("<br>")
    }</small></figcaption></figure>`);
  });
  if (last) parts.push("</div>");
  // Trained records without a log: say what they did record.
  const withLog = new Set(curves.flatMap((c) => c.records));
  const silent = sources.map((s, i) => ({ s, i })).filter(({ s, i }) =>
    !withLog.has(i) && !skipped.includes(i) && typeof s.record.info?.best_epoch === "number"
  );
  if (silent.length || skipped.length) {
    const rows = [
      ...silent.map(({ s, i }) => ({ s, i, why: "no per-epoch log recorded" })),
      ...skipped.map((i) => ({ s: sources[i], i, why: "train_log of an unknown shape" })),
    ]
      .map(({ s, i, why }) => {
        const r = s.record;
        const bv = r.info.best_valid as Record<string, number> | undefined;
        const valid = typeof r.info.best_valid_loss === "number"
          ? `valid loss ${(r.info.best_valid_loss as number).toFixed(4)}`
          : bv?.["NDCG@10"] !== undefined
          ? `valid NDCG@10 ${bv["NDCG@10"].toFixed(4)}`
          : "";
        data.cells[`trained:${i}`] = { records: [i] };
        return `<tr data-cell="trained:${i}" tabindex="0"><td>${escapeHtml(rowLabel(r))}</td><td>${
          escapeHtml(r.dataset)
        }</td><td>${r.task}</td><td>${r.info.best_epoch} of ${r.info.epochs_run ?? "?"}</td><td>${
          escapeHtml(valid)
        }</td><td>${why}</td></tr>`;
      });
    parts.push(`<h3>Trained without a curve</h3><table class="plain"><thead><tr><th>Row</th>
<th>dataset</th><th>task</th><th>best epoch</th><th>best validation</th><th></th></tr></thead>
<tbody>${rows.join("\n")}</tbody></table>`);
  }
  return parts.join("\n");
}

/** Each sweep: the metrics against the value, and its points. */
export function sweepSection(
  sweeps: readonly Sweep[],
  sources: readonly SourcedRecord[],
  data: PageData,
): string {
  const parts = [`<p>Test records of one plugin, dataset and task whose configs differ in one key
only, at three values or more (${code("elmbench sweep")} writes them; so do runs at several
settings of one key). Metrics are means over seeds.</p>`];
  if (sweeps.length === 0) parts.push(`<p class="empty">No sweep in these records.</p>`);
  const shown = ["HR@5", "NDCG@5", "HR@10", "NDCG@10"];
  sweeps.forEach((s, i) => {
    const metrics = shown.filter((m) => s.points.some((p) => p.metrics[m] !== undefined));
    const rows = s.points.map((p, j) => {
      data.cells[`sweep:${i}:${j}`] = { records: p.records };
      const labels = [...new Set(p.records.map((k) => rowLabel(sources[k].record)))];
      return `<tr data-cell="sweep:${i}:${j}" tabindex="0"><td>${
        escapeHtml(String(p.value))
      }</td><td>${p.seeds}</td>${
        metrics.map((m) => `<td>${p.metrics[m] === undefined ? "–" : f4(p.metrics[m])}</td>`).join(
          "",
        )
      }<td><small>${labels.map(escapeHtml).join("<br>")}</small></td></tr>`;
    });
    parts.push(
      `<div class="sweep"><h3>${escapeHtml(`${s.plugin}, ${s.dataset} ${s.task}: ${s.key}`)}${
        s.fixed.length || s.protocol
          ? ` <small>(${
            escapeHtml([s.fixed.join(", "), s.protocol].filter(Boolean).join("; "))
          })</small>`
          : ""
      }</h3>
${chartDiv(data, `sweep-${i}`, sweepSpec(s, ["HR@10", "NDCG@10"]))}
<table class="plain"><thead><tr><th>${escapeHtml(s.key)}</th><th>seeds</th>${
        metrics.map((m) => `<th>${m}</th>`).join("")
      }<th>rows</th></tr></thead><tbody>${rows.join("\n")}</tbody></table></div>`,
    );
  });
  return parts.join("\n");
}

/** A figure given on the command line: an image copied beside the page, or a spec drawn in it. */
export type GivenFigure =
  | { readonly kind: "image"; readonly name: string; readonly href: string }
  | { readonly kind: "spec"; readonly name: string; readonly spec: TopLevelSpec };

/** The embedding plot (figures whose name holds "embed") and any other figure given. */
export function figureSection(figures: readonly GivenFigure[], data: PageData): string {
  const embed = figures.filter((f) => /embed/i.test(f.name));
  const others = figures.filter((f) => !/embed/i.test(f.name));
  const show = (f: GivenFigure, i: number) =>
    f.kind === "image"
      ? `<figure><a href="${escapeHtml(f.href)}"><img src="${escapeHtml(f.href)}" alt="${
        escapeHtml(f.name)
      }"></a><figcaption>${escapeHtml(f.name)}</figcaption></figure>`
      : `<figure>${chartDiv(data, `figure-${i}`, f.spec)}<figcaption>${
        escapeHtml(f.name)
      }</figcaption></figure>`;
  const parts: string[] = [];
  if (embed.length) parts.push(...embed.map((f) => show(f, figures.indexOf(f))));
  else {
    parts.push(`<p class="empty">No result record holds the data of the embedding plot, and no
embedding figure was given. Draw it with ${
      code("elmbench embed-plot --data <dir> --checkpoint <dir>/best.safetensors")
    } and pass its ${code("embed-plot.vl.json")} (drawn here from its data) or its PNG/SVG to
${code("elmbench report")}.</p>`);
  }
  if (others.length) {
    parts.push("<h3>Other figures given</h3>");
    parts.push(...others.map((f) => show(f, figures.indexOf(f))));
  }
  return parts.join("\n");
}

/**
 * Renders a {@linkcode TableModel} as Markdown, CSV, LaTeX or JSON. Best of
 * our rows is bold and second best underlined (md, latex); published rows are
 * marked and never bolded, since they were measured on other negatives.
 *
 * @module
 */
import type { Cell, TableModel, TableRow } from "./report_model.ts";

/** Output formats of `elmbench table`. */
export type TableFormat = "md" | "csv" | "latex" | "json";

/** Renders `model` in `format`. */
export function renderTable(model: TableModel, format: TableFormat): string {
  switch (format) {
    case "md":
      return renderMarkdown(model);
    case "csv":
      return renderCsv(model);
    case "latex":
      return renderLatex(model);
    case "json":
      return JSON.stringify(model, null, 2) + "\n";
    default:
      throw new RangeError(`Unknown format "${format}"; valid formats: md, csv, latex, json`);
  }
}

/** A cell as every format prints it: the mean, with ± std over several seeds. */
export function value(cell: Cell | null): string {
  if (cell === null) return "–";
  const mean = cell.mean.toFixed(4);
  return cell.n > 1 ? `${mean} ± ${cell.std.toFixed(4)}` : mean;
}

/** A row's label, marked when the row is published. */
export function label(row: TableRow): string {
  return row.published ? `${row.method} (published)` : row.method;
}

/** An improvement as a signed percentage, with † when p < 0.05. */
export function percent(x: number | null, p?: number | null): string {
  if (x === null) return "–";
  const mark = p !== undefined && p !== null && p < 0.05 ? "†" : "";
  return `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}%${mark}`;
}

function improvementCells(model: TableModel): string[] {
  const imp = model.improvement!;
  return imp.values.map((v, j) => percent(v, imp.p?.[j]));
}

function renderMarkdown(model: TableModel): string {
  const header = ["Method", ...model.columns.map((c) => `${c.dataset} ${c.metric}`)];
  const lines = [
    `| ${header.join(" | ")} |`,
    `|${header.map((_, i) => i ? "---:" : "---").join("|")}|`,
  ];
  for (const row of model.rows) {
    const cells = row.cells.map((c, j) => {
      const v = value(c);
      return row.rank[j] === 1 ? `**${v}**` : row.rank[j] === 2 ? `<u>${v}</u>` : v;
    });
    lines.push(`| ${[label(row), ...cells].join(" | ")} |`);
  }
  if (model.improvement) {
    lines.push(
      `| Improv. (${model.improvement.ours} vs best other) | ${
        improvementCells(model).join(" | ")
      } |`,
    );
  }
  const title = `${
    model.layout === "table2" ? "Table 2" : "Table 3"
  }: ${model.task} recommendation`;
  const notes = model.notes.map((n) => `- ${n}`);
  if (model.improvement?.p?.some((p) => p !== null)) {
    notes.push(
      "- † the difference from the best other row is significant (paired t-test over users, p < 0.05).",
    );
  }
  return [`**${title}**`, "", ...lines, "", ...notes, ""].join("\n");
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function renderCsv(model: TableModel): string {
  const header = ["method", "published", ...model.columns.map((c) => `${c.dataset}:${c.metric}`)];
  const lines = [header.map(csvField).join(",")];
  for (const row of model.rows) {
    lines.push(
      [row.method, String(row.published), ...row.cells.map((c) => c ? String(c.mean) : "")]
        .map(csvField).join(","),
    );
  }
  if (model.improvement) {
    lines.push(
      [
        `improvement:${model.improvement.ours}`,
        "false",
        ...model.improvement.values.map((v) => v === null ? "" : String(v)),
      ].map(csvField).join(","),
    );
  }
  return lines.join("\n") + "\n";
}

function latexEscape(s: string): string {
  return s.replace(/([&%$#_{}])/g, "\\$1").replaceAll("±", "$\\pm$");
}

function renderLatex(model: TableModel): string {
  const datasets = [...new Set(model.columns.map((c) => c.dataset))];
  const perDataset = model.columns.length / Math.max(1, datasets.length);
  const spec = "l" + "c".repeat(model.columns.length);
  const lines = [
    `\\begin{tabular}{${spec}}`,
    "\\toprule",
    ` & ${
      datasets.map((d) => `\\multicolumn{${perDataset}}{c}{${latexEscape(d)}}`).join(" & ")
    } \\\\`,
    `Method & ${model.columns.map((c) => latexEscape(c.metric)).join(" & ")} \\\\`,
    "\\midrule",
  ];
  for (const row of model.rows) {
    const cells = row.cells.map((c, j) => {
      const v = latexEscape(value(c));
      return row.rank[j] === 1 ? `\\textbf{${v}}` : row.rank[j] === 2 ? `\\underline{${v}}` : v;
    });
    lines.push(`${latexEscape(label(row))} & ${cells.join(" & ")} \\\\`);
  }
  if (model.improvement) {
    lines.push("\\midrule");
    lines.push(
      `Improv. & ${improvementCells(model).map(latexEscape).join(" & ")} \\\\`,
    );
  }
  lines.push("\\bottomrule", "\\end{tabular}");
  return lines.join("\n") + "\n";
}

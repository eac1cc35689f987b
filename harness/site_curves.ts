/**
 * Learning curves from the records' `info.train_log`: one curve per
 * training, however many cells it scored. Two log shapes are read: the T5
 * loop's (`train` losses per task, `valid` loss) and the pairwise loop's
 * (`loss`, validation `metrics`). A log that is a prefix of a longer one
 * of the same plugin and dataset is the same training scored earlier (a
 * resumed checkpoint), so it joins the longer curve instead of drawing its
 * own; so does a log equal to another but for its timings (the same
 * training run twice).
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { rowLabel } from "./report_model.ts";
import { stableJson } from "./results.ts";
import type { SourcedRecord } from "./significance.ts";

/** One point of a curve; `axis` keeps losses and ranking metrics on separate scales. */
export interface CurvePoint {
  readonly epoch: number;
  readonly series: string;
  readonly value: number;
  readonly axis: "loss" | "metric";
}

/** One training's curve. */
export interface Curve {
  readonly plugin: string;
  readonly dataset: string;
  /** The cells it scored: row label and task, with the epoch where shorter. */
  readonly labels: string[];
  readonly points: CurvePoint[];
  readonly epochs: number;
  readonly bestEpoch: number | null;
  /** The popularity prior's validation loss (`info.prior_valid_loss`), where recorded. */
  readonly prior: number | null;
  /** Indices into the sources of the records that hold this log. */
  readonly records: number[];
}

/** Validation metrics drawn from a pairwise log; the others stay in the record. */
const SHOWN_METRICS = ["NDCG@10", "HR@10"];

/** The points of one log entry, or null when its shape is not one of the two known. */
function entryPoints(entry: unknown): CurvePoint[] | null {
  if (entry === null || typeof entry !== "object") return null;
  const e = entry as Record<string, unknown>;
  if (typeof e.epoch !== "number") return null;
  const epoch = e.epoch;
  const out: CurvePoint[] = [];
  const add = (series: string, value: unknown, axis: CurvePoint["axis"]) => {
    if (typeof value === "number" && Number.isFinite(value)) {
      out.push({ epoch, series, value, axis });
    }
  };
  if (typeof e.train === "number") add("train loss", e.train, "loss");
  else if (e.train && typeof e.train === "object") {
    for (const [task, v] of Object.entries(e.train)) add(`train loss (${task})`, v, "loss");
  }
  add("train loss", e.loss, "loss");
  if (typeof e.valid === "number") add("validation loss", e.valid, "loss");
  if (e.metrics && typeof e.metrics === "object") {
    const metrics = e.metrics as Record<string, unknown>;
    const names = SHOWN_METRICS.some((m) => m in metrics) ? SHOWN_METRICS : Object.keys(metrics);
    for (const m of names) add(`validation ${m}`, metrics[m], "metric");
  }
  return out.length ? out : null;
}

/** The points of a whole log, or null when any entry is unreadable. */
export function logPoints(log: unknown): CurvePoint[] | null {
  if (!Array.isArray(log) || log.length === 0) return null;
  const out: CurvePoint[] = [];
  for (const entry of log) {
    const points = entryPoints(entry);
    if (points === null) return null;
    out.push(...points);
  }
  return out;
}

/**
 * An entry without its timing: two cells that trained the same model
 * (deterministically, or one resuming the other's checkpoint) log the same
 * losses in different seconds.
 */
function untimed(entry: unknown): string {
  const { seconds: _, ...rest } = entry as Record<string, unknown>;
  return stableJson(rest);
}

function isPrefix(short: readonly unknown[], long: readonly unknown[]): boolean {
  return short.length <= long.length && short.every((e, i) => untimed(e) === untimed(long[i]));
}

/**
 * One curve per training among `sources`, ordered by plugin, dataset and
 * length. Records whose log cannot be read are listed in `skipped`.
 */
export function learningCurves(
  sources: readonly SourcedRecord[],
): { curves: Curve[]; skipped: number[] } {
  const skipped: number[] = [];
  const groups = new Map<string, { log: unknown[]; records: number[] }>();
  sources.forEach(({ record: r }, i) => {
    const log = r.info?.train_log;
    if (log === undefined) return;
    if (logPoints(log) === null) return void skipped.push(i);
    const key = `${r.plugin}\0${r.dataset}\0${(log as unknown[]).map(untimed).join("\n")}`;
    const g = groups.get(key) ?? { log: log as unknown[], records: [] };
    g.records.push(i);
    groups.set(key, g);
  });
  const sorted = [...groups.values()].sort((a, b) => b.log.length - a.log.length);
  const kept: { log: unknown[]; records: number[]; shorter: number[] }[] = [];
  for (const g of sorted) {
    const r0 = sources[g.records[0]].record;
    const home = kept.find((k) => {
      const r = sources[k.records[0]].record;
      return r.plugin === r0.plugin && r.dataset === r0.dataset && isPrefix(g.log, k.log);
    });
    if (home) home.shorter.push(...g.records);
    else kept.push({ ...g, shorter: [] });
  }
  const curves = kept.map((k): Curve => {
    const r = sources[k.records[0]].record;
    const tag = (i: number, epoch?: number) => {
      const rec = sources[i].record;
      return `${rowLabel(rec)} · ${rec.task}${epoch === undefined ? "" : ` (at epoch ${epoch})`}`;
    };
    const labels = [
      ...k.records.map((i) => tag(i)),
      ...k.shorter.map((i) => tag(i, (sources[i].record.info.train_log as unknown[]).length)),
    ];
    const best = r.info.best_epoch;
    const prior = r.info.prior_valid_loss;
    return {
      plugin: r.plugin,
      dataset: r.dataset,
      labels: [...new Set(labels)],
      points: logPoints(k.log)!,
      epochs: k.log.length,
      bestEpoch: typeof best === "number" && best > 0 ? best : null,
      prior: typeof prior === "number" ? prior : null,
      records: [...k.records, ...k.shorter],
    };
  });
  curves.sort((a, b) =>
    a.plugin.localeCompare(b.plugin) || a.dataset.localeCompare(b.dataset) ||
    b.epochs - a.epochs
  );
  return { curves, skipped };
}

/** The legend entry of the prior's rule. */
const PRIOR = "popularity prior (validation loss)";

/** One colour per series name on every chart of the page, so a colour means one thing. */
const SERIES_COLORS: Record<string, string> = {
  "train loss": "#4c78a8",
  "train loss (direct)": "#4c78a8",
  "train loss (sequential)": "#f58518",
  "validation loss": "#e45756",
  "validation NDCG@10": "#54a24b",
  "validation HR@10": "#b279a2",
  [PRIOR]: "#555555",
};
const OTHER_COLORS = ["#72b7b2", "#eeca3b", "#ff9da6", "#9d755d", "#bab0ac"];

function seriesColor(name: string, index: number): string {
  return SERIES_COLORS[name] ?? OTHER_COLORS[index % OTHER_COLORS.length];
}

/**
 * The curve as Vega-Lite: losses on the left axis (with the prior as a
 * dashed rule), validation metrics on an independent right axis, and the
 * best epoch as a vertical rule.
 */
export function curveSpec(curve: Curve): TopLevelSpec {
  const x = {
    field: "epoch",
    type: "quantitative",
    title: "epoch",
    axis: { tickMinStep: 1, format: "d" },
    scale: { domainMin: 1 },
  };
  const names = [...new Set(curve.points.map((p) => p.series))];
  if (curve.prior !== null) names.push(PRIOR);
  const color = {
    field: "series",
    type: "nominal",
    title: null,
    legend: { orient: "bottom", columns: 2 },
    scale: { domain: names, range: names.map(seriesColor) },
  };
  const series = (axis: CurvePoint["axis"], title: string) => ({
    data: { values: curve.points.filter((p) => p.axis === axis) },
    mark: { type: "line", point: { size: 30 } },
    encoding: {
      x,
      y: {
        field: "value",
        type: "quantitative",
        title,
        scale: { zero: false },
        ...(axis === "metric" ? { axis: { orient: "right" } } : {}),
      },
      color,
      tooltip: [
        { field: "series", type: "nominal" },
        { field: "epoch", type: "quantitative" },
        { field: "value", type: "quantitative", format: ".4f" },
      ],
    },
  });
  const hasLoss = curve.points.some((p) => p.axis === "loss");
  const hasMetric = curve.points.some((p) => p.axis === "metric");
  const lossLayers: unknown[] = hasLoss ? [series("loss", "loss")] : [];
  if (hasLoss && curve.prior !== null) {
    // In the legend rather than labelled on the chart, where the curves run into it.
    lossLayers.push({
      data: { values: [{ value: curve.prior, series: PRIOR }] },
      mark: { type: "rule", strokeDash: [6, 4] },
      encoding: {
        y: { field: "value", type: "quantitative" },
        color,
        tooltip: [{ field: "series", type: "nominal" }, {
          field: "value",
          type: "quantitative",
          format: ".4f",
        }],
      },
    });
  }
  const layers: unknown[] = [];
  if (lossLayers.length) layers.push({ layer: lossLayers });
  if (hasMetric) layers.push(series("metric", "validation metric"));
  if (curve.bestEpoch !== null) {
    const right = curve.bestEpoch > (1 + curve.epochs) / 2;
    layers.push({
      data: { values: [{ epoch: curve.bestEpoch, label: `best epoch ${curve.bestEpoch}` }] },
      layer: [
        { mark: { type: "rule", color: "#b00", strokeWidth: 1.5 }, encoding: { x } },
        {
          // Labelled on the side with room: left of a rule in the right half.
          mark: {
            type: "text",
            align: right ? "right" : "left",
            baseline: "top",
            dx: right ? -3 : 3,
            color: "#b00",
            fontSize: 10,
          },
          encoding: { x, y: { value: 2 }, text: { field: "label" } },
        },
      ],
    });
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: curve.labels[0],
      subtitle: `${curve.plugin} on ${curve.dataset}, ${curve.epochs} epoch${
        curve.epochs === 1 ? "" : "s"
      }`,
      fontSize: 12,
      limit: 330,
    },
    width: 340,
    height: 200,
    layer: layers,
    resolve: { scale: { y: "independent" } },
  } as unknown as TopLevelSpec;
}

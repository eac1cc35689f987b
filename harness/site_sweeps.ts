/**
 * Sweeps found in the records: test records of one plugin, dataset, task
 * and protocol whose configs differ in exactly one key, at three values or
 * more. That is what `elmbench sweep` writes, and also what several runs at
 * different settings of one key (e.g. epochs) make; the page shows both the
 * same way. Two values are a comparison, not a curve, and are left to the
 * tables.
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { lineChart } from "./figures.ts";
import { summarize } from "./report_model.ts";
import { stableJson } from "./results.ts";
import type { SourcedRecord } from "./significance.ts";

/** One value of a sweep: metric means over seeds. */
export interface SweepPoint {
  readonly value: string | number | boolean;
  readonly seeds: number;
  readonly metrics: Record<string, number>;
  /** Indices into the sources. */
  readonly records: number[];
}

/** A sweep of `key` with the rest of the config fixed. */
export interface Sweep {
  readonly plugin: string;
  readonly dataset: string;
  readonly task: string;
  readonly key: string;
  /** Protocol tags shared by the points (reindex, mask, preset, users scored). */
  readonly protocol: string;
  /** Variant tags every point shares, the swept key's aside (what tells two sweeps of a key apart). */
  readonly fixed: string[];
  readonly points: SweepPoint[];
}

/** The fewest values that make a sweep. */
export const MIN_SWEEP_VALUES = 3;

function without(config: Record<string, unknown>, key: string): string {
  const { [key]: _, ...rest } = config;
  return stableJson(rest);
}

/** Every sweep among the test records of `sources`. */
export function findSweeps(sources: readonly SourcedRecord[]): Sweep[] {
  // One record per cell id and seed: the same training may sit in two files.
  const byId = new Map<string, number>();
  sources.forEach(({ record: r }, i) => {
    if (r.stage === "test") byId.set(r.id, i);
  });
  const groups = new Map<string, number[]>();
  for (const i of byId.values()) {
    const r = sources[i].record;
    const key = [
      r.plugin,
      r.dataset,
      r.task,
      r.reindex,
      r.mask,
      r.eval_users ?? "all",
      r.preset ?? "",
      r.data_hash,
    ].join("\0");
    groups.set(key, [...(groups.get(key) ?? []), i]);
  }
  const sweeps: Sweep[] = [];
  for (const members of groups.values()) {
    const keys = new Set(members.flatMap((i) => Object.keys(sources[i].record.config)));
    for (const key of [...keys].sort()) {
      const byRest = new Map<string, number[]>();
      for (const i of members) {
        const rest = without(sources[i].record.config, key);
        byRest.set(rest, [...(byRest.get(rest) ?? []), i]);
      }
      for (const part of byRest.values()) {
        const sweep = sweepOf(sources, part, key);
        if (sweep) sweeps.push(sweep);
      }
    }
  }
  return sweeps.sort((a, b) =>
    a.plugin.localeCompare(b.plugin) || a.dataset.localeCompare(b.dataset) ||
    a.task.localeCompare(b.task) || a.key.localeCompare(b.key)
  );
}

function sweepOf(sources: readonly SourcedRecord[], part: number[], key: string): Sweep | null {
  const values = new Map<string, number[]>();
  for (const i of part) {
    const v = stableJson(sources[i].record.config[key]);
    values.set(v, [...(values.get(v) ?? []), i]);
  }
  if (values.size < MIN_SWEEP_VALUES) return null;
  const points = [...values.values()].map((idx): SweepPoint => {
    // The latest record per seed, as the tables take it.
    const bySeed = new Map<number, number>();
    for (const i of idx.sort((a, b) => a - b)) bySeed.set(sources[i].record.seed, i);
    const chosen = [...bySeed.values()];
    const names = Object.keys(sources[chosen[0]].record.metrics);
    const metrics = Object.fromEntries(
      names.map((n) => [n, summarize(chosen.map((i) => sources[i].record.metrics[n])).mean]),
    );
    const value = sources[chosen[0]].record.config[key] as string | number | boolean;
    return { value, seeds: chosen.length, metrics, records: chosen };
  });
  const numeric = points.every((p) => typeof p.value === "number");
  if (numeric) points.sort((a, b) => (a.value as number) - (b.value as number));
  const tagsOf = (i: number) =>
    (sources[i].record.variant ?? "").split(",").map((t) => t.trim())
      .filter((t) => t !== "" && !t.startsWith(`${key}=`));
  const all = points.flatMap((p) => p.records);
  const fixed = tagsOf(all[0]).filter((t) => all.every((i) => tagsOf(i).includes(t)));
  const r = sources[part[0]].record;
  const tags = [
    r.reindex !== "none" ? `reindex=${r.reindex}` : "",
    r.mask !== "none" ? `mask=${r.mask}` : "",
    r.preset ? `preset ${r.preset}` : "",
    r.eval_users ? `${r.eval_users} users` : "",
  ].filter(Boolean);
  return {
    plugin: r.plugin,
    dataset: r.dataset,
    task: r.task,
    key,
    protocol: tags.join(", "),
    fixed,
    points,
  };
}

/** The metrics drawn against the swept value (as `elmbench sweep` draws them). */
export function sweepSpec(sweep: Sweep, metrics: readonly string[]): TopLevelSpec {
  const numeric = sweep.points.every((p) => typeof p.value === "number");
  const points = sweep.points.flatMap((p) =>
    metrics.filter((m) => p.metrics[m] !== undefined).map((m) => ({
      x: numeric ? (p.value as number) : String(p.value),
      y: p.metrics[m],
      series: m,
    }))
  );
  return lineChart(points, {
    title: `${sweep.plugin}, ${sweep.dataset} ${sweep.task}: ${sweep.key}`,
    xTitle: sweep.key,
    yTitle: "metric",
  });
}

/**
 * The leak audit: each measurement beside the same one without its leak.
 * Two kinds are found from the records alone. Item ids: a record on P5 ids
 * (`reindex` none) and the same cell on renumbered ids (`reindex` random,
 * spec section 1). Leak variants: a record whose `variant` holds `key=value`
 * with a value naming a leak (e.g. `graphEdges=leaky`) and the record whose
 * config differs from it in that key only. Differences are leaky minus
 * clean, with a paired t-test over users where per-user files exist.
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { metricNames } from "./metrics.ts";
import { type Cell, rowLabel, summarize } from "./report_model.ts";
import { type ResultRecord, stableJson } from "./results.ts";
import { readPerUserIfPresent, type SourcedRecord } from "./significance.ts";
import { pairedTTest } from "./stats.ts";

/** One side of a pair: the records (latest per seed) and their metric cells. */
export interface LeakSide {
  readonly label: string;
  readonly records: number[];
  readonly metrics: Record<string, Cell>;
}

/** A measurement with and without a leak. */
export interface LeakPair {
  /** `reindex` for item ids, else the config key of the leak variant. */
  readonly key: string;
  readonly method: string;
  readonly dataset: string;
  readonly task: string;
  readonly clean: LeakSide;
  readonly leaky: LeakSide;
  /** Two-sided p of the paired t-test per metric, null without per-user values. */
  readonly p: Record<string, number | null>;
}

/** A variant value that names a leak. */
const LEAK_VALUE = /leak/i;

function baseKey(r: ResultRecord): string {
  return [r.plugin, r.dataset, r.task, r.mask, r.eval_users ?? "all", r.data_hash].join("\0");
}

function side(sources: readonly SourcedRecord[], idx: number[], label: string): LeakSide {
  const bySeed = new Map<number, number>();
  for (const i of [...idx].sort((a, b) => a - b)) bySeed.set(sources[i].record.seed, i);
  const records = [...bySeed.values()];
  const r = sources[records[0]].record;
  const metrics: Record<string, Cell> = {};
  for (const m of metricNames(r.task)) {
    const values = records.map((i) => sources[i].record.metrics[m]).filter((v) => v !== undefined);
    if (values.length) metrics[m] = summarize(values);
  }
  return { label, records, metrics };
}

function groupBy(idx: Iterable<number>, key: (i: number) => string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const i of idx) out.set(key(i), [...(out.get(key(i)) ?? []), i]);
  return out;
}

/** Tags `k=v` of a variant whose value names a leak and equals the config's value. */
function leakKeys(r: ResultRecord): string[] {
  return (r.variant ?? "").split(",").map((t) => t.trim().split("="))
    .filter(([k, v]) => v !== undefined && LEAK_VALUE.test(v) && String(r.config[k]) === v)
    .map(([k]) => k);
}

/** Every pair among the test records of `sources`, ids first, then leak variants. */
export async function leakPairs(sources: readonly SourcedRecord[]): Promise<LeakPair[]> {
  const test = sources.map((_, i) => i).filter((i) => sources[i].record.stage === "test");
  const pairs: Omit<LeakPair, "p">[] = [];
  const cells = groupBy(test, (i) => {
    const r = sources[i].record;
    return `${baseKey(r)}\0${r.variant ?? ""}\0${r.config_hash}`;
  });
  for (const idx of cells.values()) {
    const byIds = groupBy(idx, (i) => sources[i].record.reindex);
    const p5Ids = byIds.get("none");
    if (!p5Ids) continue;
    for (const [reindex, other] of byIds) {
      if (reindex === "none") continue;
      const r = sources[p5Ids[0]].record;
      pairs.push({
        key: "reindex",
        method: rowLabel(r),
        dataset: r.dataset,
        task: r.task,
        clean: side(sources, other, `${reindex} ids`),
        leaky: side(sources, p5Ids, "P5 ids"),
      });
    }
  }
  const leakyRecords = test.filter((i) => leakKeys(sources[i].record).length > 0);
  for (const key of new Set(leakyRecords.flatMap((i) => leakKeys(sources[i].record)))) {
    const withKey = leakyRecords.filter((i) => leakKeys(sources[i].record).includes(key));
    const rest = (i: number) => {
      const r = sources[i].record;
      const { [key]: _, ...others } = r.config;
      return `${baseKey(r)}\0${r.reindex}\0${stableJson(others)}`;
    };
    const partners = groupBy(
      test.filter((i) => {
        const v = sources[i].record.config[key];
        return v !== undefined && !LEAK_VALUE.test(String(v));
      }),
      rest,
    );
    for (
      const [k, leaky] of groupBy(withKey, (i) => `${rest(i)}\0${sources[i].record.config[key]}`)
    ) {
      const clean = partners.get(k.slice(0, k.lastIndexOf("\0")));
      if (!clean) continue;
      const c = sources[clean[0]].record;
      const l = sources[leaky[0]].record;
      pairs.push({
        key,
        method: rowLabel(c),
        dataset: c.dataset,
        task: c.task,
        clean: side(sources, clean, `${key}=${c.config[key]}`),
        leaky: side(sources, leaky, `${key}=${l.config[key]}`),
      });
    }
  }
  const out: LeakPair[] = [];
  for (const pair of pairs) out.push({ ...pair, p: await pairTests(sources, pair) });
  return out;
}

async function perUserMeans(
  sources: readonly SourcedRecord[],
  idx: readonly number[],
  metric: string,
): Promise<Map<number, number> | null> {
  if (idx.some((i) => sources[i].record.per_user === null)) return null;
  const sum = new Map<number, number>();
  for (const i of idx) {
    const perUser = await readPerUserIfPresent(sources[i].path, sources[i].record);
    if (perUser === null || !perUser.values[metric]) return null;
    const { users, values } = perUser;
    users.forEach((u, k) => sum.set(u, (sum.get(u) ?? 0) + values[metric][k]));
  }
  for (const [u, s] of sum) sum.set(u, s / idx.length);
  return sum;
}

async function pairTests(
  sources: readonly SourcedRecord[],
  pair: Omit<LeakPair, "p">,
): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = {};
  for (const metric of Object.keys(pair.clean.metrics)) {
    const a = await perUserMeans(sources, pair.leaky.records, metric);
    const b = await perUserMeans(sources, pair.clean.records, metric);
    const users = a && b ? [...a.keys()].filter((u) => b.has(u)) : [];
    out[metric] = users.length >= 2
      ? pairedTTest(
        Float64Array.from(users, (u) => a!.get(u)!),
        Float64Array.from(users, (u) => b!.get(u)!),
      ).p
      : null;
  }
  return out;
}

/** Bars of `metric` for each pair of one kind and task: clean beside leaky. */
export function leakSpec(pairs: readonly LeakPair[], metric: string, title: string): TopLevelSpec {
  const values = pairs.flatMap((p) =>
    [p.clean, p.leaky].filter((s) => s.metrics[metric]).map((s, k) => ({
      row: `${p.method} · ${p.dataset}`,
      side: k === 0 ? "without the leak" : "with the leak",
      label: s.label,
      value: s.metrics[metric].mean,
    }))
  );
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: { step: 18 },
    height: 200,
    data: { values },
    mark: "bar",
    encoding: {
      x: { field: "row", type: "nominal", title: null, axis: { labelAngle: -30, labelLimit: 220 } },
      xOffset: { field: "side", type: "nominal", sort: ["without the leak", "with the leak"] },
      y: { field: "value", type: "quantitative", title: metric },
      color: {
        field: "side",
        type: "nominal",
        title: null,
        sort: ["without the leak", "with the leak"],
        legend: { orient: "top" },
      },
      tooltip: [
        { field: "row", type: "nominal", title: "row" },
        { field: "label", type: "nominal", title: "ids / variant" },
        { field: "value", type: "quantitative", format: ".4f", title: metric },
      ],
    },
  } as TopLevelSpec;
}

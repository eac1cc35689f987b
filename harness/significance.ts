/**
 * Paired t-tests behind the improvement row: for every column, `ours`
 * against the best other row, over the same users (per-user values averaged
 * over seeds first, so each user counts once).
 *
 * @module
 */
import { readPerUser, type ResultRecord } from "./results.ts";
import type { TableModel } from "./report_model.ts";
import { pairedTTest } from "./stats.ts";

/** A record and the results file it came from (per-user files sit beside it). */
export interface SourcedRecord {
  readonly record: ResultRecord;
  readonly path: string;
}

async function perUserMean(
  sources: readonly SourcedRecord[],
  metric: string,
): Promise<Map<number, number> | null> {
  if (sources.length === 0 || sources.some((s) => s.record.per_user === null)) return null;
  const sum = new Map<number, number>();
  for (const { record, path } of sources) {
    const perUser = await readPerUserIfPresent(path, record);
    if (perUser === null) return null;
    const { users, values } = perUser;
    const v = values[metric];
    for (let i = 0; i < users.length; i++) sum.set(users[i], (sum.get(users[i]) ?? 0) + v[i]);
  }
  for (const [u, s] of sum) sum.set(u, s / sources.length);
  return sum;
}

/**
 * A record's per-user values, or null when its file is gone: committed
 * results files keep their records but not the per-user files
 * (`results/regen.sh` drops them), and a table of them is still wanted,
 * without the test.
 */
export async function readPerUserIfPresent(
  path: string,
  record: ResultRecord,
): Promise<Awaited<ReturnType<typeof readPerUser>> | null> {
  try {
    return await readPerUser(path, record);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * Fills `model.improvement.p` with two-sided p-values (null where per-user
 * values are missing). Mutates and returns `model`.
 */
export async function addSignificance(
  model: TableModel,
  sources: readonly SourcedRecord[],
): Promise<TableModel> {
  const imp = model.improvement;
  if (!imp) return model;
  const test = sources.filter((s) => s.record.task === model.task && s.record.stage === "test");
  const p: (number | null)[] = [];
  for (let j = 0; j < model.columns.length; j++) {
    const { dataset, metric } = model.columns[j];
    const other = imp.over[j];
    const pick = (label: string) =>
      latestPerSeed(
        test.filter((s) => model.labelOf(s.record) === label && s.record.dataset === dataset),
      );
    const a = other === null ? null : await perUserMean(pick(imp.ours), metric);
    const b = other === null ? null : await perUserMean(pick(other), metric);
    if (!a || !b) {
      p.push(null);
      continue;
    }
    const users = [...a.keys()].filter((u) => b.has(u));
    const x = Float64Array.from(users, (u) => a.get(u)!);
    const y = Float64Array.from(users, (u) => b.get(u)!);
    p.push(users.length >= 2 ? pairedTTest(x, y).p : null);
  }
  (imp as { p?: (number | null)[] }).p = p;
  return model;
}

function latestPerSeed(sources: SourcedRecord[]): SourcedRecord[] {
  const bySeed = new Map<number, SourcedRecord>();
  for (const s of sources) bySeed.set(s.record.seed, s);
  return [...bySeed.values()];
}

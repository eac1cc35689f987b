/**
 * Row labels of result records, and the order of rows in a table.
 *
 * A record's label is its plugin plus its `variant` tags and any renumbering
 * or masking (`lightgcn (reindex=random)`). Records that share a label but
 * measured different things (configs that differ in a key no variant tag
 * names, another `--eval-users`, other data under one dataset name) must not
 * be merged, or a capped run could hide a full one: their labels then name
 * every key in which they differ (`lightgcn (epochs=5)` beside
 * `lightgcn (epochs=300)`), and the table says so in a note.
 *
 * @module
 */
import { currentNames } from "./config_keys.ts";
import type { KeySpecs, PluginConfig } from "./plugin.ts";
import { type ResultRecord, stableJson } from "./results.ts";

/** Key declarations by plugin name, to read records made under a key's legacy name. */
export type KeysByPlugin = Readonly<
  Record<string, { readonly keys: KeySpecs<PluginConfig> }>
>;

function baseTags(r: ResultRecord): string[] {
  const tags: string[] = [];
  if (r.variant) tags.push(r.variant);
  if (r.reindex !== "none") tags.push(`reindex=${r.reindex}`);
  if (r.mask !== "none") tags.push(`mask=${r.mask}`);
  return tags;
}

function labelOf(plugin: string, tags: readonly string[]): string {
  return tags.length ? `${plugin} (${tags.join(", ")})` : plugin;
}

/** The row label of a record on its own: plugin, plus what makes it a different measurement. */
export function rowLabel(r: ResultRecord): string {
  return labelOf(r.plugin, baseTags(r));
}

/** Labels that were split because their records differ, and in what. */
export interface SplitLabel {
  readonly label: string;
  /** The keys (config keys, `evalUsers`, `data`) whose values differ under it. */
  readonly keys: readonly string[];
}

/** The labels of a set of records. */
export interface RowLabels {
  /** The label of one of the records given. */
  readonly of: (r: ResultRecord) => string;
  /** Labels under which the records differed, in the order first met. */
  readonly split: readonly SplitLabel[];
}

/**
 * Labels every record of `records` (grouped by task): {@linkcode rowLabel},
 * plus `key=value` for each key in which records under that label differ.
 *
 * @example
 * ```ts ignore
 * import { rowLabels } from "./row_labels.ts";
 * const labels = rowLabels(records);
 * console.log(records.map(labels.of)); // ["lightgcn (epochs=5)", "lightgcn (epochs=300)"]
 * ```
 */
export function rowLabels(records: readonly ResultRecord[], plugins?: KeysByPlugin): RowLabels {
  const groups = new Map<string, ResultRecord[]>();
  for (const r of records) {
    const key = `${r.task}\0${rowLabel(r)}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const labels = new Map<ResultRecord, string>();
  const split: SplitLabel[] = [];
  for (const group of groups.values()) {
    const base = rowLabel(group[0]);
    const extra = differences(group, plugins);
    if (extra.keys.length === 0) {
      for (const r of group) labels.set(r, base);
      continue;
    }
    if (!split.some((s) => s.label === base)) split.push({ label: base, keys: extra.keys });
    for (const r of group) labels.set(r, labelOf(r.plugin, [...baseTags(r), ...extra.tags(r)]));
  }
  return {
    of: (r) => labels.get(r) ?? rowLabel(r),
    split,
  };
}

/** The keys in which `group` differs, and each record's `key=value` tags for them. */
function differences(
  group: readonly ResultRecord[],
  plugins?: KeysByPlugin,
): { keys: string[]; tags: (r: ResultRecord) => string[] } {
  const sameCell = (r: ResultRecord) => `${r.config_hash}\0${r.eval_users ?? ""}`;
  const dataHashes = new Map<string, Set<string>>();
  for (const r of group) {
    dataHashes.set(r.dataset, (dataHashes.get(r.dataset) ?? new Set()).add(r.data_hash));
  }
  const otherData = [...dataHashes.values()].some((s) => s.size > 1);
  if (new Set(group.map(sameCell)).size <= 1 && !otherData) return { keys: [], tags: () => [] };

  const configs = new Map<ResultRecord, Record<string, unknown>>();
  for (const r of group) {
    const keys = plugins?.[r.plugin]?.keys;
    configs.set(r, keys ? currentNames(keys, r.config) : { ...r.config });
  }
  const names = [...new Set(group.flatMap((r) => Object.keys(configs.get(r)!)))];
  const text = (r: ResultRecord, k: string) => {
    const v = configs.get(r)![k];
    return v === undefined ? "unset" : typeof v === "string" ? v : stableJson(v);
  };
  const differing = names.filter((k) => new Set(group.map((r) => text(r, k))).size > 1);
  const users = new Set(group.map((r) => r.eval_users ?? "all")).size > 1;
  const hashesOnly = differing.length === 0 && new Set(group.map((r) => r.config_hash)).size > 1;
  const keys = [
    ...differing,
    ...(users ? ["evalUsers"] : []),
    ...(otherData ? ["data"] : []),
    // Configs that hash apart but read alike (a record made by other code): the hash tells them apart.
    ...(hashesOnly ? ["config"] : []),
  ];
  return {
    keys,
    tags: (r) => [
      ...differing.map((k) => `${k}=${text(r, k)}`),
      ...(users ? [`evalUsers=${r.eval_users ?? "all"}`] : []),
      ...(otherData ? [`data=${r.data_hash.slice(0, 8)}`] : []),
      ...(hashesOnly ? [`config=${r.config_hash.slice(0, 8)}`] : []),
    ],
  };
}

/**
 * Orders row labels: by plugin, in `order` where given (a plugin not in it
 * after those, in the order first met), and under each plugin its plain row
 * first, then rows that only add renumbering or masking last, the rest by
 * fewest tags, then by label.
 */
export function orderRows(
  rows: readonly { method: string; plugin: string }[],
  order?: readonly string[],
): number[] {
  const met: string[] = [];
  for (const r of rows) if (!met.includes(r.plugin)) met.push(r.plugin);
  const rank = (plugin: string) => {
    const i = order?.indexOf(plugin) ?? -1;
    return i >= 0 ? i : (order?.length ?? 0) + met.indexOf(plugin);
  };
  const tags = (method: string, plugin: string) =>
    method === plugin ? [] : method.slice(plugin.length + 2, -1).split(", ");
  const key = (r: { method: string; plugin: string }) => {
    const t = tags(r.method, r.plugin);
    const protocol = t.some((x) => x.startsWith("reindex=") || x.startsWith("mask=")) ? 1 : 0;
    return { plugin: rank(r.plugin), protocol, count: t.length, method: r.method };
  };
  return rows.map((r, i) => ({ i, k: key(r) })).sort((a, b) =>
    a.k.plugin - b.k.plugin || a.k.protocol - b.k.protocol || a.k.count - b.k.count ||
    (a.k.method < b.k.method ? -1 : a.k.method > b.k.method ? 1 : 0)
  ).map(({ i }) => i);
}

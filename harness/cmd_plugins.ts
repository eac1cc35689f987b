/**
 * `elmbench plugins`: every registered plugin with its tasks, requirements,
 * presets and keys (default, doc, per-dataset values and roles), as text
 * or JSON.
 *
 * @module
 */
import { describeKey } from "./config_keys.ts";
import type { KeySpec } from "./plugin.ts";
import type { PluginRecord } from "./registry.ts";

/** Help text of `plugins`. */
export const PLUGINS_HELP = `elmbench plugins [--json]
  Lists registered plugins, tasks, requirements, presets and every config key
  with its default and doc. A key whose default is -1 takes its value from the
  dataset; the list says which value each dataset gets. Roles: "variant label"
  keys make a row of their own when changed; "not in the checkpoint key" keys
  do not change what is trained; "added" keys were added after records existed;
  "was x" names a key's legacy name, still accepted by --set.`;

/** One plugin as `plugins --json` prints it. */
export interface PluginListing {
  readonly name: string;
  readonly description: string;
  readonly tasks: readonly string[];
  readonly requires: readonly string[];
  readonly defaults: Readonly<Record<string, unknown>>;
  readonly presets: readonly string[];
  readonly keys: Readonly<Record<string, KeySpec>>;
}

/** The listing of every plugin of `record`, in its order. */
export function pluginListing(record: PluginRecord): PluginListing[] {
  return Object.values(record).map((p) => ({
    name: p.name,
    description: p.description,
    tasks: p.tasks,
    requires: p.requires,
    defaults: p.defaults,
    presets: Object.keys(p.presets ?? {}),
    keys: p.keys,
  }));
}

/** The text listing: a plugin's header lines, then one line per key. */
export function renderPlugins(rows: readonly PluginListing[]): string {
  const pad = "".padEnd(10);
  const lines: string[] = [];
  for (const r of rows) {
    lines.push(`${r.name.padEnd(10)} ${r.description}`);
    lines.push(`${pad} tasks: ${r.tasks.join(", ")}; requires: ${r.requires.join(", ")}`);
    if (r.presets.length) lines.push(`${pad} presets: ${r.presets.join(", ")}`);
    const entries = Object.entries(r.keys);
    if (entries.length === 0) continue;
    const width = Math.max(...entries.map(([k, s]) => `${k}=${s.default}`.length));
    for (const [k, spec] of entries) {
      lines.push(`${pad}   ${`${k}=${spec.default}`.padEnd(width)}  ${describeKey(spec)}`);
    }
  }
  return lines.join("\n");
}

/** Runs `plugins`. */
export function pluginsCommand(args: readonly string[], record: PluginRecord): void {
  if (args.includes("--help")) return console.log(PLUGINS_HELP);
  const rows = pluginListing(record);
  if (args.includes("--json")) return console.log(JSON.stringify(rows, null, 2));
  console.log(renderPlugins(rows));
}

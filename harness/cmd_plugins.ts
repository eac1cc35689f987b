/**
 * `elmbench plugins`: the registered plugins with their tasks, requirements
 * and defaults, as text or JSON.
 *
 * @module
 */
import type { PluginRecord } from "./registry.ts";

/** Help of `elmbench plugins`. */
export const PLUGINS_HELP =
  "elmbench plugins [--json]\n  Lists registered plugins, tasks, requirements and defaults.";

/** Prints the plugins of `record` (`--json`: one JSON array). */
export function pluginsCommand(args: string[], record: PluginRecord): void {
  const rows = Object.values(record).map((p) => ({
    name: p.name,
    description: p.description,
    tasks: p.tasks,
    requires: p.requires,
    defaults: p.defaults,
    presets: Object.keys(p.presets ?? {}),
  }));
  if (args.includes("--json")) return console.log(JSON.stringify(rows, null, 2));
  for (const r of rows) {
    console.log(`${r.name.padEnd(10)} ${r.description}`);
    console.log(
      `${"".padEnd(10)} tasks: ${r.tasks.join(", ")}; requires: ${r.requires.join(", ")}`,
    );
    const defaults = Object.entries(r.defaults).map(([k, v]) => `${k}=${v}`).join(" ");
    if (defaults) console.log(`${"".padEnd(10)} defaults: ${defaults}`);
  }
}

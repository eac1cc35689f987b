/**
 * Finding plugins by name and resolving their configuration. Built-ins come
 * from a static record handed in by the caller; an external plugin is a
 * module whose default export (or any export) is a {@linkcode Plugin}.
 * Misspelt names and keys are errors that list the valid ones; a key's
 * legacy name (`batch_size` for `batchSize`) is accepted with a note.
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { checkKeys, checkValue, keyNamed, withDefaults } from "./config_keys.ts";
import type { ConfigValue, Plugin, PluginConfig, PluginDefinition, Preset } from "./plugin.ts";
import { PRESETS } from "./plugin.ts";
import { TASKS } from "./types.ts";

/** A record of plugins by name. */
export type PluginRecord = Readonly<Record<string, Plugin<PluginConfig>>>;

/** Checks that `value` has the shape of a plugin; throws TypeError naming what is missing. */
export function assertPlugin(value: unknown, where: string): Plugin<PluginConfig> {
  const p = value as Partial<Plugin<PluginConfig>> | null;
  const missing: string[] = [];
  if (!p || typeof p !== "object") throw new TypeError(`Expected a plugin object in ${where}`);
  if (typeof p.name !== "string" || !/^[a-z][a-z0-9_-]*$/.test(p.name)) missing.push("name");
  if (typeof p.fit !== "function") missing.push("fit");
  if (!Array.isArray(p.tasks) || p.tasks.some((t) => !TASKS.includes(t))) missing.push("tasks");
  const hasKeys = !!p.keys && typeof p.keys === "object";
  if (!hasKeys && (!p.defaults || typeof p.defaults !== "object")) missing.push("keys");
  if (!Array.isArray(p.requires)) missing.push("requires");
  if (missing.length) {
    throw new TypeError(
      `Expected a plugin in ${where} but these fields are missing or invalid: ${
        missing.join(", ")
      }`,
    );
  }
  // A plugin object not made by definePlugin (or of the shape before `keys`) gets its defaults here.
  if (!hasKeys || !p.defaults) return withDefaults(p as PluginDefinition<PluginConfig>);
  checkKeys(p.name!, p.keys!);
  return p as Plugin<PluginConfig>;
}

/** Loads external plugin modules and merges them over the built-ins. */
export async function withExternalPlugins(
  builtins: PluginRecord,
  paths: readonly string[],
): Promise<PluginRecord> {
  const out: Record<string, Plugin<PluginConfig>> = { ...builtins };
  for (const path of paths) {
    const module = await import(pathToFileURL(resolve(path)).href);
    const candidates = "default" in module ? [module.default] : Object.values(module);
    const plugins = candidates.filter((c) => c && typeof c === "object" && "fit" in (c as object));
    if (plugins.length === 0) {
      throw new TypeError(`Expected ${path} to export a plugin but it exports none`);
    }
    for (const candidate of plugins) {
      const plugin = assertPlugin(candidate, path);
      if (plugin.name in builtins) {
        throw new RangeError(
          `Plugin "${plugin.name}" from ${path} clashes with a built-in plugin; rename it`,
        );
      }
      out[plugin.name] = plugin;
    }
  }
  return out;
}

/** Looks plugins up by name; an unknown name lists the valid ones. */
export function pickPlugins(record: PluginRecord, names: readonly string[]): Plugin[] {
  return names.map((name) => {
    const plugin = record[name];
    if (!plugin) {
      throw new RangeError(
        `Unknown plugin "${name}"; valid plugins: ${Object.keys(record).sort().join(", ")}`,
      );
    }
    return plugin;
  });
}

/**
 * Parses `key=value` overrides. A key may be scoped to one plugin
 * (`lightgcn.lr=1e-3`) or apply to every selected plugin that has it.
 */
export function parseOverrides(
  pairs: readonly string[],
): { scope?: string; key: string; raw: string }[] {
  return pairs.map((pair) => {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      throw new SyntaxError(`Expected --set key=value but found "${pair}"`);
    }
    const lhs = pair.slice(0, eq);
    const dot = lhs.indexOf(".");
    return dot > 0
      ? { scope: lhs.slice(0, dot), key: lhs.slice(dot + 1), raw: pair.slice(eq + 1) }
      : { key: lhs, raw: pair.slice(eq + 1) };
  });
}

/** Converts a raw override to the type of the default it replaces. */
export function coerce(plugin: string, key: string, raw: string, def: ConfigValue): ConfigValue {
  if (typeof def === "number") {
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n)) {
      throw new TypeError(`Expected a number for ${plugin}.${key} but found "${raw}"`);
    }
    return n;
  }
  if (typeof def === "boolean") {
    if (raw === "true" || raw === "1") return true;
    if (raw === "false" || raw === "0") return false;
    throw new TypeError(`Expected true or false for ${plugin}.${key} but found "${raw}"`);
  }
  return raw;
}

/**
 * Resolves a plugin's configuration: defaults, then the preset, then the
 * overrides. Unknown keys (from a preset or the command line) are errors;
 * a legacy name sets its key.
 */
export function resolveConfig(
  plugin: Plugin,
  preset: Preset | undefined,
  overrides: readonly { scope?: string; key: string; raw: string }[],
): PluginConfig {
  if (preset !== undefined && !PRESETS.includes(preset)) {
    throw new RangeError(`Unknown preset "${preset}"; valid presets: ${PRESETS.join(", ")}`);
  }
  const config: PluginConfig = { ...plugin.defaults };
  const valid = Object.keys(plugin.defaults);
  const presetValues = preset ? plugin.presets?.[preset] ?? {} : {};
  for (const [name, value] of Object.entries(presetValues)) {
    const key = keyNamed(plugin, name, { quiet: true });
    if (key === undefined) {
      throw new RangeError(`Preset "${preset}" of ${plugin.name} sets unknown key "${name}"`);
    }
    checkValue(plugin.name, key, plugin.keys[key], value as ConfigValue, `preset ${preset}`);
    config[key] = value as ConfigValue;
  }
  for (const o of overrides) {
    if (o.scope !== undefined && o.scope !== plugin.name) continue;
    const key = keyNamed(plugin, o.key);
    if (key === undefined) {
      if (o.scope === undefined) continue;
      throw new RangeError(
        `Unknown config key "${o.key}" for plugin ${plugin.name}; valid keys: ${
          valid.length ? valid.join(", ") : "(none)"
        }`,
      );
    }
    config[key] = coerce(plugin.name, key, o.raw, plugin.defaults[key]);
    checkValue(plugin.name, key, plugin.keys[key], config[key], "--set");
  }
  return config;
}

/** An unscoped override that no selected plugin knows is an error listing every valid key. */
export function checkUnscopedOverrides(
  plugins: readonly Plugin[],
  overrides: readonly { scope?: string; key: string }[],
): void {
  for (const o of overrides) {
    if (o.scope !== undefined) {
      if (!plugins.some((p) => p.name === o.scope)) {
        throw new RangeError(
          `--set ${o.scope}.${o.key} names plugin "${o.scope}", which is not selected; selected: ${
            plugins.map((p) => p.name).join(", ")
          }`,
        );
      }
      continue;
    }
    if (!plugins.some((p) => keyNamed(p, o.key, { quiet: true }) !== undefined)) {
      const keys = plugins.flatMap((p) => Object.keys(p.defaults).map((k) => `${p.name}.${k}`));
      throw new RangeError(
        `Unknown config key "${o.key}"; valid keys: ${keys.length ? keys.join(", ") : "(none)"}`,
      );
    }
  }
}

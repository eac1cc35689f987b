/**
 * What follows from each plugin's key declarations ({@linkcode KeySpec}):
 * the defaults, the names a key answers to (its camelCase name and its
 * legacy name), the config that names a cell (hashed under legacy names,
 * without keys at the value they were added with), the variant label, and
 * the per-dataset values of keys left at -1. Model-agnostic: every rule
 * here reads only the declarations.
 *
 * @module
 */
import type {
  ConfigValue,
  KeySpec,
  KeySpecs,
  Plugin,
  PluginConfig,
  PluginDefinition,
} from "./plugin.ts";

/** The dataset entry of {@linkcode KeySpec.byDataset} that any other dataset takes. */
export const ANY_DATASET = "*";

/** Every key's default, in declaration order. */
export function defaultsOf<C>(keys: KeySpecs<C>): C {
  return Object.fromEntries(
    Object.entries(keys).map(([k, spec]) => [k, (spec as KeySpec).default]),
  ) as C;
}

/**
 * Checks a plugin's declarations and adds its `defaults`. A plugin object
 * of the shape before per-key declarations (`defaults`, `docs`,
 * `variantKeys`, `addedKeys`) is converted, so external plugins written
 * against it still load.
 */
export function withDefaults(definition: PluginDefinition<PluginConfig>): Plugin {
  const keys = definition.keys ?? keysOfOldShape(definition as unknown as OldShape);
  checkKeys(definition.name, keys);
  return { ...definition, keys, defaults: defaultsOf(keys) };
}

interface OldShape {
  readonly name: string;
  readonly defaults?: PluginConfig;
  readonly docs?: Partial<Record<string, string>>;
  readonly variantKeys?: readonly string[];
  readonly addedKeys?: Partial<PluginConfig>;
}

function keysOfOldShape(p: OldShape): KeySpecs<PluginConfig> {
  if (!p.defaults || typeof p.defaults !== "object") {
    throw new TypeError(`Expected plugin ${p.name} to declare its config keys in "keys"`);
  }
  const variants = p.variantKeys ?? [];
  const added = p.addedKeys ?? {};
  return Object.fromEntries(
    Object.entries(p.defaults).map(([k, v]) => {
      const spec: KeySpec = {
        default: v,
        doc: p.docs?.[k] ?? "",
        ...(variants.includes(k) ? { variant: variants.indexOf(k) } : {}),
        ...(k in added ? { addedAt: added[k] as ConfigValue } : {}),
      };
      return [k, spec];
    }),
  );
}

const VALUE_TYPES = ["number", "string", "boolean"];

/** Throws a TypeError naming the key when a declaration is inconsistent. */
export function checkKeys(plugin: string, keys: KeySpecs<PluginConfig>): void {
  const legacy = new Map<string, string>();
  for (const [key, spec] of Object.entries(keys)) {
    const where = `key "${key}" of plugin ${plugin}`;
    const type = typeof spec.default;
    if (!VALUE_TYPES.includes(type)) {
      throw new TypeError(`Expected the default of ${where} to be a number, string or boolean`);
    }
    if (typeof spec.doc !== "string") throw new TypeError(`Expected a doc string for ${where}`);
    const sameType = (what: string, v: unknown) => {
      const found = typeof v;
      if (found !== type) {
        throw new TypeError(`Expected ${what} of ${where} to be a ${type} but found ${v}`);
      }
    };
    if ("addedAt" in spec) sameType("addedAt", spec.addedAt);
    for (const v of Object.values(spec.byDataset ?? {})) sameType("byDataset", v);
    if (spec.byDataset && !(ANY_DATASET in spec.byDataset)) {
      throw new TypeError(`Expected byDataset of ${where} to have an entry "${ANY_DATASET}"`);
    }
    if (spec.values !== undefined) {
      if (!Array.isArray(spec.values) || spec.values.length === 0) {
        throw new TypeError(`Expected values of ${where} to be a non-empty list`);
      }
      for (const v of spec.values) sameType("values", v);
      if (!spec.values.includes(spec.default)) {
        throw new TypeError(
          `Expected the default of ${where} to be one of its values (${
            spec.values.join(", ")
          }) but found ${spec.default}`,
        );
      }
    }
    if (spec.variant !== undefined && !Number.isFinite(spec.variant)) {
      throw new TypeError(`Expected variant of ${where} to be a number but found ${spec.variant}`);
    }
    if (spec.legacy !== undefined) {
      if (spec.legacy in keys || legacy.has(spec.legacy)) {
        throw new TypeError(`Legacy name "${spec.legacy}" of ${where} is already a name`);
      }
      legacy.set(spec.legacy, key);
    }
  }
}

const noted = new Set<string>();

/**
 * The key that `name` names in `plugin`: itself, or the key whose legacy
 * name it is (with a one-line note on stderr, once per name and process,
 * unless `quiet`); `undefined` when it names none.
 */
export function keyNamed(
  plugin: Plugin,
  name: string,
  options: { quiet?: boolean } = {},
): string | undefined {
  if (name in plugin.keys) return name;
  const found = Object.entries(plugin.keys).find(([, spec]) => spec.legacy === name)?.[0];
  if (found && !options.quiet && !noted.has(name)) {
    noted.add(name);
    console.error(`note: config key "${name}" is now "${found}" (the old name still works)`);
  }
  return found;
}

/**
 * A stored config (a record's or a checkpoint's, made before or after a
 * rename) under the current key names; other entries are kept as they are.
 */
export function currentNames<T>(
  keys: KeySpecs<PluginConfig>,
  config: Readonly<Record<string, T>>,
): Record<string, T> {
  const renamed = new Map(
    Object.entries(keys).filter(([, s]) => s.legacy !== undefined).map(([k, s]) => [s.legacy!, k]),
  );
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [renamed.get(k) ?? k, v]));
}

/**
 * A stored config as it runs today: under the current key names
 * ({@linkcode currentNames}), with every key added since the record was
 * made at the value it ran at (its `addedAt`), so that rerunning it runs
 * what it ran even where a key's default has moved on.
 */
export function storedConfig(
  keys: KeySpecs<PluginConfig>,
  config: Readonly<Record<string, ConfigValue>>,
): Record<string, ConfigValue> {
  const out = currentNames(keys, config);
  for (const [k, spec] of Object.entries(keys)) {
    if (!(k in out) && "addedAt" in spec) out[k] = spec.addedAt!;
  }
  return out;
}

/**
 * The config that names a cell or a training run: keys at their `addedAt`
 * value are left out and renamed keys go under their legacy names, so the
 * hash of a setting is what it was before either change.
 *
 * @example
 * ```ts
 * import { hashedConfig } from "./config_keys.ts";
 * const keys = {
 *   batchSize: { default: 64, doc: "batch", legacy: "batch_size" },
 *   prompt: { default: "old", doc: "prompt", addedAt: "old" },
 * };
 * console.log(hashedConfig({ batchSize: 32, prompt: "old" }, keys)); // { batch_size: 32 }
 * ```
 */
export function hashedConfig(
  config: Readonly<PluginConfig>,
  keys: KeySpecs<PluginConfig>,
): PluginConfig {
  return Object.fromEntries(
    Object.entries(config)
      .filter(([k, v]) => !(keys[k] && "addedAt" in keys[k] && keys[k].addedAt === v))
      .map(([k, v]) => [keys[k]?.legacy ?? k, v]),
  );
}

/**
 * The variant tags of `config`: its `variant` keys whose value differs from
 * `base` (the preset's values), as `key=value` ordered by their `variant`
 * number; renamed keys are tagged under their legacy names.
 */
export function variantTags(
  keys: KeySpecs<PluginConfig>,
  config: Readonly<PluginConfig>,
  base: Readonly<Record<string, ConfigValue | undefined>>,
): string[] {
  return Object.entries(keys)
    .filter(([k, spec]) => spec.variant !== undefined && config[k] !== base[k])
    .sort(([, a], [, b]) => a.variant! - b.variant!)
    .map(([k, spec]) => `${spec.legacy ?? k}=${config[k]}`);
}

/**
 * Checks `value` against the key's declared `values`; the error names the
 * plugin, the key, where the value came from and every accepted value.
 *
 * @example
 * ```ts
 * import { checkValue } from "./config_keys.ts";
 * const spec = { default: "free", doc: "decoding", values: ["free", "constrained"] };
 * checkValue("p5", "decode", spec, "constrained", "--set"); // passes
 * ```
 */
export function checkValue(
  plugin: string,
  key: string,
  spec: KeySpec | undefined,
  value: ConfigValue,
  from: string,
): void {
  if (!spec?.values || spec.values.includes(value)) return;
  throw new RangeError(
    `Expected ${plugin}.${key} (${from}) to be one of ${
      spec.values.map((v) => JSON.stringify(v)).join(", ")
    } but found ${JSON.stringify(value)}`,
  );
}

/** The value a `byDataset` key takes on `dataset` (case-insensitive) at its default. */
export function valueForDataset<V>(spec: KeySpec<V>, value: V, dataset: string): V {
  if (!spec.byDataset || value !== spec.default) return value;
  return spec.byDataset[dataset.toLowerCase()] ?? spec.byDataset[ANY_DATASET];
}

/**
 * The line `elmbench plugins` shows for a key: its doc, what its default
 * resolves to per dataset, its legacy name and its roles.
 */
export function describeKey(spec: KeySpec): string {
  const parts = [spec.doc || "(undocumented)"];
  if (spec.byDataset) {
    const entries = Object.entries(spec.byDataset);
    const named = entries.filter(([d]) => d !== ANY_DATASET).map(([d, v]) => `${d} ${v}`);
    parts.push(
      `[${spec.default} = from the dataset: ${
        [...named, `other datasets ${spec.byDataset[ANY_DATASET]}`].join(", ")
      }]`,
    );
  }
  const roles = [
    spec.variant !== undefined ? "variant label" : "",
    spec.untrained ? "not in the checkpoint key" : "",
    "addedAt" in spec ? `added later, earlier records ran at ${spec.addedAt}` : "",
    spec.legacy ? `was ${spec.legacy}` : "",
  ].filter(Boolean);
  if (roles.length) parts.push(`(${roles.join("; ")})`);
  return parts.join(" ");
}

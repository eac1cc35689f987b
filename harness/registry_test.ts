import { strict as assert } from "node:assert";
import { definePlugin } from "./plugin.ts";
import {
  checkUnscopedOverrides,
  parseOverrides,
  pickPlugins,
  resolveConfig,
  withExternalPlugins,
} from "./registry.ts";

const toy = definePlugin({
  name: "toy",
  description: "test plugin",
  tasks: ["direct"],
  keys: {
    lr: { default: 0.01, doc: "learning rate" },
    layers: { default: 3, doc: "layers" },
    norm: { default: true, doc: "normalise" },
    loss: { default: "bpr", doc: "loss" },
    batchSize: { default: 64, doc: "batch", legacy: "batch_size" },
  },
  presets: { tiny: { layers: 1 } },
  requires: [],
  fit: () => Promise.resolve({}),
});
const other = definePlugin({
  name: "other",
  description: "second test plugin",
  tasks: ["direct"],
  keys: { epochs: { default: 5, doc: "epochs" } },
  requires: [],
  fit: () => Promise.resolve({}),
});
const record = { toy, other };

Deno.test("pickPlugins() lists the valid names when one is unknown", () => {
  assert.deepEqual(pickPlugins(record, ["other", "toy"]).map((p) => p.name), ["other", "toy"]);
  assert.throws(
    () => pickPlugins(record, ["lightgnc"]),
    /Unknown plugin "lightgnc"; valid plugins: other, toy/,
  );
});

Deno.test("resolveConfig() applies defaults, then the preset, then typed overrides", () => {
  const o = parseOverrides(["toy.lr=0.5", "norm=false", "loss=ce"]);
  assert.deepEqual(resolveConfig(toy, "tiny", o), {
    lr: 0.5,
    layers: 1,
    norm: false,
    loss: "ce",
    batchSize: 64,
  });
  assert.deepEqual(resolveConfig(toy, undefined, []), toy.defaults);
});

Deno.test("a key's legacy name sets the key, scoped or not, and passes the unscoped check", () => {
  assert.equal(resolveConfig(toy, "tiny", parseOverrides(["toy.batch_size=32"])).batchSize, 32);
  assert.equal(resolveConfig(toy, "tiny", parseOverrides(["batch_size=16"])).batchSize, 16);
  assert.deepEqual(
    resolveConfig(toy, undefined, parseOverrides(["batch_size=16"])),
    resolveConfig(toy, undefined, parseOverrides(["batchSize=16"])),
  );
  checkUnscopedOverrides([toy, other], parseOverrides(["batch_size=16"]));
  assert.throws(
    () => resolveConfig(toy, undefined, parseOverrides(["toy.batch_size=many"])),
    /Expected a number for toy.batchSize but found "many"/,
  );
});

Deno.test("an unknown config key is an error that lists the valid keys", () => {
  assert.throws(
    () => resolveConfig(toy, undefined, parseOverrides(["toy.lrr=1"])),
    /Unknown config key "lrr" for plugin toy; valid keys: lr, layers, norm, loss, batchSize$/,
  );
  assert.throws(
    () => checkUnscopedOverrides([toy, other], parseOverrides(["epochz=1"])),
    /valid keys: toy.lr, toy.layers, toy.norm, toy.loss, toy.batchSize, other.epochs$/,
  );
  assert.throws(
    () => checkUnscopedOverrides([toy], parseOverrides(["other.epochs=1"])),
    /not selected/,
  );
});

Deno.test("an override of the wrong type names the key and the value", () => {
  assert.throws(
    () => resolveConfig(toy, undefined, parseOverrides(["lr=fast"])),
    /number for toy.lr but found "fast"/,
  );
  assert.throws(
    () => resolveConfig(toy, undefined, parseOverrides(["norm=maybe"])),
    /true or false/,
  );
  assert.throws(() => parseOverrides(["lr"]), /key=value/);
});

Deno.test("withExternalPlugins() loads a plugin module from a path", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/ext.ts`;
  const here = new URL("./plugin.ts", import.meta.url).href;
  await Deno.writeTextFile(
    path,
    `import { definePlugin } from "${here}";
export default definePlugin({ name: "ext", description: "x", tasks: ["direct"], keys: {}, requires: [], fit: () => Promise.resolve({}) });`,
  );
  await Deno.writeTextFile(`${dir}/bad.ts`, `export default { name: "Bad Name", fit: 1 };`);
  // A plugin written before per-key declarations (defaults + docs) still loads.
  await Deno.writeTextFile(
    `${dir}/old.ts`,
    `export default { name: "old", description: "x", tasks: ["direct"], defaults: { k: 2 }, docs: { k: "a doc" }, requires: [], fit: () => Promise.resolve({}) };`,
  );
  try {
    const merged = await withExternalPlugins(record, [path, `${dir}/old.ts`]);
    assert.deepEqual(Object.keys(merged).sort(), ["ext", "old", "other", "toy"]);
    assert.deepEqual(merged.old.keys, { k: { default: 2, doc: "a doc" } });
    assert.deepEqual(resolveConfig(merged.old, undefined, parseOverrides(["k=3"])), { k: 3 });
    await assert.rejects(() => withExternalPlugins(record, [`${dir}/bad.ts`]), /fit/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

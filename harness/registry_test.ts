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
  defaults: { lr: 0.01, layers: 3, norm: true, loss: "bpr" },
  presets: { tiny: { layers: 1 } },
  requires: [],
  fit: () => Promise.resolve({}),
});
const other = definePlugin({
  name: "other",
  description: "second test plugin",
  tasks: ["direct"],
  defaults: { epochs: 5 },
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
  assert.deepEqual(resolveConfig(toy, "tiny", o), { lr: 0.5, layers: 1, norm: false, loss: "ce" });
  assert.deepEqual(resolveConfig(toy, undefined, []), toy.defaults);
});

Deno.test("an unknown config key is an error that lists the valid keys", () => {
  assert.throws(
    () => resolveConfig(toy, undefined, parseOverrides(["toy.lrr=1"])),
    /Unknown config key "lrr" for plugin toy; valid keys: lr, layers, norm, loss/,
  );
  assert.throws(
    () => checkUnscopedOverrides([toy, other], parseOverrides(["epochz=1"])),
    /valid keys: toy.lr, toy.layers, toy.norm, toy.loss, other.epochs/,
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
export default definePlugin({ name: "ext", description: "x", tasks: ["direct"], defaults: {}, requires: [], fit: () => Promise.resolve({}) });`,
  );
  await Deno.writeTextFile(`${dir}/bad.ts`, `export default { name: "Bad Name", fit: 1 };`);
  try {
    const merged = await withExternalPlugins(record, [path]);
    assert.deepEqual(Object.keys(merged).sort(), ["ext", "other", "toy"]);
    await assert.rejects(() => withExternalPlugins(record, [`${dir}/bad.ts`]), /fit/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

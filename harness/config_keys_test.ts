import { strict as assert } from "node:assert";
import {
  checkKeys,
  currentNames,
  describeKey,
  hashedConfig,
  keyNamed,
  valueForDataset,
  variantTags,
  withDefaults,
} from "./config_keys.ts";
import { definePlugin, type KeySpecs, type PluginConfig } from "./plugin.ts";

const keys: KeySpecs<PluginConfig> = {
  dim: { default: 64, doc: "width" },
  batchSize: { default: 2048, doc: "triples per step", legacy: "batch_size" },
  prompt: { default: "old", doc: "the prompt", addedAt: "old", variant: 2 },
  decode: { default: "free", doc: "decoding", variant: 1, untrained: true },
  sigma: { default: -1, doc: "std", byDataset: { beauty: 6, toys: 5, "*": 1 } },
};

const toy = definePlugin({
  name: "toy",
  description: "test plugin",
  tasks: ["direct"],
  keys: {
    lr: { default: 0.01, doc: "learning rate" },
    batchSize: { default: 64, doc: "batch", legacy: "batch_size" },
  },
  requires: [],
  fit: () => Promise.resolve({}),
});

Deno.test("definePlugin() derives the defaults from the keys, in declaration order", () => {
  assert.deepEqual(toy.defaults, { lr: 0.01, batchSize: 64 });
  assert.deepEqual(Object.keys(toy.defaults), ["lr", "batchSize"]);
});

Deno.test("hashedConfig() hashes renamed keys under their legacy names and drops added keys at their value", () => {
  const config = { dim: 64, batchSize: 256, prompt: "old", decode: "free", sigma: -1 };
  assert.deepEqual(hashedConfig(config, keys), {
    dim: 64,
    batch_size: 256,
    decode: "free",
    sigma: -1,
  });
  // Away from the value it was added with, an added key is hashed like any other.
  assert.equal(hashedConfig({ ...config, prompt: "new" }, keys).prompt, "new");
  // A stored entry that names no declared key passes through.
  assert.deepEqual(hashedConfig({ extra: 1 }, keys), { extra: 1 });
});

Deno.test("variantTags() tags differing variant keys in the order of their numbers", () => {
  const base = { dim: 64, batchSize: 2048, prompt: "old", decode: "free", sigma: -1 };
  assert.deepEqual(variantTags(keys, base, base), []);
  assert.deepEqual(
    variantTags(keys, { ...base, prompt: "new", decode: "constrained", dim: 8 }, base),
    ["decode=constrained", "prompt=new"],
  );
  const renamed: KeySpecs<PluginConfig> = {
    regPow: { default: false, doc: "pow", legacy: "reg_pow", variant: 1 },
  };
  assert.deepEqual(variantTags(renamed, { regPow: true }, { regPow: false }), ["reg_pow=true"]);
});

Deno.test("keyNamed() finds a key by its name or its legacy name, with one note per name", () => {
  const notes: string[] = [];
  const error = console.error;
  console.error = (line: string) => notes.push(line);
  try {
    assert.equal(keyNamed(toy, "lr"), "lr");
    assert.equal(keyNamed(toy, "batch_size"), "batchSize");
    assert.equal(keyNamed(toy, "batch_size"), "batchSize");
    assert.equal(keyNamed(toy, "lrr"), undefined);
  } finally {
    console.error = error;
  }
  assert.deepEqual(notes, [
    'note: config key "batch_size" is now "batchSize" (the old name still works)',
  ]);
});

Deno.test("currentNames() renames legacy entries of a stored config and keeps the rest", () => {
  assert.deepEqual(
    currentNames(keys, { batch_size: 256, dim: 8, n_users: 10 }),
    { batchSize: 256, dim: 8, n_users: 10 },
  );
});

Deno.test("valueForDataset() takes the dataset's entry at the default, `*` for other datasets", () => {
  const sigma = keys.sigma;
  assert.equal(valueForDataset(sigma, -1, "beauty"), 6);
  assert.equal(valueForDataset(sigma, -1, "Toys"), 5);
  assert.equal(valueForDataset(sigma, -1, "synthetic"), 1);
  assert.equal(valueForDataset(sigma, 3, "beauty"), 3);
  assert.equal(valueForDataset(keys.dim, 64, "beauty"), 64);
});

Deno.test("describeKey() shows the doc, the per-dataset values, the roles and the old name", () => {
  assert.equal(
    describeKey(keys.sigma),
    "std [-1 = from the dataset: beauty 6, toys 5, other datasets 1]",
  );
  assert.equal(
    describeKey(keys.decode),
    "decoding (variant label; not in the checkpoint key)",
  );
  assert.equal(describeKey(keys.batchSize), "triples per step (was batch_size)");
  assert.equal(
    describeKey(keys.prompt),
    "the prompt (variant label; added later, earlier records ran at old)",
  );
});

Deno.test("checkKeys() rejects declarations that contradict themselves, naming the key", () => {
  assert.throws(
    () => checkKeys("p", { a: { default: 1, doc: "", addedAt: "x" as unknown as number } }),
    /Expected addedAt of key "a" of plugin p to be a number but found x/,
  );
  assert.throws(
    () => checkKeys("p", { a: { default: 1, doc: "", byDataset: { beauty: 2 } } }),
    /Expected byDataset of key "a" of plugin p to have an entry "\*"/,
  );
  assert.throws(
    () =>
      checkKeys("p", {
        a: { default: 1, doc: "", legacy: "b" },
        b: { default: 2, doc: "" },
      }),
    /Legacy name "b" of key "a" of plugin p is already a name/,
  );
  assert.throws(
    () => checkKeys("p", { a: { default: [1] as unknown as number, doc: "" } }),
    /Expected the default of key "a" of plugin p to be a number, string or boolean/,
  );
});

Deno.test("withDefaults() converts a plugin of the shape before per-key declarations", () => {
  const old = {
    name: "old",
    description: "defaults, docs, variantKeys, addedKeys",
    tasks: ["direct"],
    defaults: { epochs: 10, decode: "free", prompt: "a" },
    docs: { epochs: "epochs" },
    variantKeys: ["decode", "epochs"],
    addedKeys: { prompt: "a" },
    requires: [],
    fit: () => Promise.resolve({}),
  };
  // deno-lint-ignore no-explicit-any
  const plugin = withDefaults(old as any);
  assert.deepEqual(plugin.defaults, { epochs: 10, decode: "free", prompt: "a" });
  assert.deepEqual(plugin.keys.epochs, { default: 10, doc: "epochs", variant: 1 });
  assert.deepEqual(plugin.keys.decode, { default: "free", doc: "", variant: 0 });
  assert.deepEqual(plugin.keys.prompt, { default: "a", doc: "", addedAt: "a" });
});

/**
 * The per-key declarations of the built-in plugins against what was made
 * before them: every committed record keeps its id whichever spelling of a
 * renamed key gives the setting, `check` reruns records that hold the old
 * names, labels and T5 checkpoint keys come out as before, and every key
 * is camelCase and documented.
 */
import { strict as assert } from "node:assert";
import { BUILTIN_PLUGINS } from "../plugins.ts";
import { checkCommand } from "../harness/cmd_check.ts";
import { pluginListing, renderPlugins } from "../harness/cmd_plugins.ts";
import { currentNames, storedConfig } from "../harness/config_keys.ts";
import type { Preset } from "../harness/plugin.ts";
import { parseOverrides, resolveConfig } from "../harness/registry.ts";
import { cellId, readResults, type ResultRecord } from "../harness/results.ts";
import { cellConfigHash, variantOf } from "../harness/runner.ts";
import { ELMREC_DEFAULTS, resolveDatasetDefaults } from "../models/elmrec.ts";
import { trainingKey } from "../models/seq2seq_config.ts";

const results = (name: string) => new URL(`../results/${name}`, import.meta.url).pathname;
/** Records made before the keys were renamed, config in the old names (under results/'s parent). */
const OLD_NAMES = "../tests/fixtures/keys/old_names.jsonl";

/** The id a record's cell gets when its config is given by `sets` (`--set plugin.key=value`). */
async function idWith(record: ResultRecord, sets: readonly string[]): Promise<string> {
  const plugin = BUILTIN_PLUGINS[record.plugin];
  const config = resolveConfig(
    plugin,
    (record.preset ?? undefined) as Preset | undefined,
    parseOverrides(sets),
  );
  return await cellId({ ...record, config_hash: await cellConfigHash(plugin, config) });
}

async function recordWithId(file: string, id: string): Promise<ResultRecord> {
  const found = (await readResults(results(file))).find((r) => r.id === id);
  assert.ok(found, `record ${id} in ${file}`);
  return found;
}

Deno.test("a renamed key's old and new spelling give a committed record its id", async () => {
  // Simplex, direct, tiny preset (batch_size 256, history_len 20), as tiny_synthetic.jsonl
  // held it before the keys were renamed (tests/fixtures/keys/old_names.jsonl).
  const tiny = await recordWithId(OLD_NAMES, "6ad72bdbe91bd8ee");
  assert.equal(tiny.config.history_len, 20);
  assert.equal(await idWith(tiny, []), "6ad72bdbe91bd8ee");
  assert.equal(
    await idWith(tiny, ["simplex.batch_size=256", "simplex.history_len=20"]),
    "6ad72bdbe91bd8ee",
  );
  assert.equal(
    await idWith(tiny, ["simplex.batchSize=256", "historyLen=20"]),
    "6ad72bdbe91bd8ee",
  );
  assert.notEqual(await idWith(tiny, ["simplex.historyLen=21"]), "6ad72bdbe91bd8ee");

  // Simplex on Beauty, direct, cpu preset with 3,000 validation users, as results/cpu_real.jsonl
  // held it before issue 21's rerun (old names; tests/fixtures/keys/old_names.jsonl).
  const real = await recordWithId(OLD_NAMES, "f848357a45342c8b");
  assert.equal(real.config.valid_users, 3000);
  assert.equal(await idWith(real, ["simplex.valid_users=3000"]), "f848357a45342c8b");
  assert.equal(await idWith(real, ["validUsers=3000"]), "f848357a45342c8b");
  assert.notEqual(await idWith(real, []), "f848357a45342c8b");
  // LightGCN from the same file, given its settings by their new names.
  const lightgcn = await recordWithId("cpu_real.jsonl", "429a84b1f55b63c3");
  assert.equal(
    await idWith(lightgcn, ["lightgcn.validUsers=3000", "lightgcn.validProtocol=full"]),
    "429a84b1f55b63c3",
  );
});

Deno.test("every committed record's own config, old names and all, gives back its id and label", async () => {
  for (const file of ["tiny_synthetic.jsonl", "tiny_beauty.jsonl", "cpu_real.jsonl"]) {
    const records = await readResults(results(file));
    for (const r of records) {
      const plugin = BUILTIN_PLUGINS[r.plugin];
      const current = storedConfig(plugin.keys, r.config);
      const sets = Object.entries(current).map(([k, v]) => `${r.plugin}.${k}=${v}`);
      assert.equal(await idWith(r, sets), r.id, `${file} ${r.id}`);
      // The label the roles give now is the record's (after an experiment's own name, if any),
      // less the tags of keys added since (directLists=candidates), which it could not carry.
      const config = resolveConfig(plugin, (r.preset ?? undefined) as Preset, parseOverrides(sets));
      const added = Object.keys(plugin.keys).filter((k) =>
        !(k in currentNames(plugin.keys, r.config))
      );
      const tags = variantOf(plugin, config, (r.preset ?? undefined) as Preset).variant
        ?.split(", ").filter((t) => !added.some((k) => t.startsWith(`${k}=`))).join(", ");
      if (tags) assert.ok(r.variant?.endsWith(tags), `${file} ${r.id}: ${r.variant} / ${tags}`);
      else assert.ok(!r.variant || !r.variant.includes("="), `${file} ${r.id}: ${r.variant}`);
    }
    assert.ok(records.length >= 6, file);
  }
});

Deno.test("check reruns a committed record whose config holds the old key names", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const record = await recordWithId(OLD_NAMES, "9cba7e1bc0fa2b55");
    assert.equal(record.plugin, "bprmf");
    assert.equal(record.config.batch_size, 256);
    const path = `${dir}/baseline.jsonl`;
    await Deno.writeTextFile(path, JSON.stringify(record) + "\n");
    assert.equal(await checkCommand(["--baseline", path], BUILTIN_PLUGINS), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("variant roles label the T5 rows as their committed records are labelled", () => {
  const label = (name: string, sets: string[]) => {
    const plugin = BUILTIN_PLUGINS[name];
    return variantOf(plugin, resolveConfig(plugin, "cpu", parseOverrides(sets)), "cpu").variant;
  };
  assert.equal(label("p5", ["epochs=3", "decode=constrained"]), "decode=constrained, epochs=3");
  assert.equal(label("pod", ["epochs=3", "decode=constrained"]), "decode=constrained, epochs=3");
  assert.equal(
    label("elmrec", ["epochs=3", "decode=constrained", "graphEdges=leaky"]),
    "epochs=3, decode=constrained, graphEdges=leaky",
  );
  assert.equal(
    label("p5", ["epochs=50", "keep=last", "directPrompt=user", "decode=constrained"]),
    "decode=constrained, directPrompt=user, keep=last, epochs=50",
  );
  assert.equal(label("elmrec", ["lr=0.01", "sigma=6"]), undefined);
  // Added since, at the rule the committed records ran under: a row of its own.
  assert.equal(
    label("pod", ["directLists=candidates", "epochs=3"]),
    "epochs=3, directLists=candidates",
  );
});

Deno.test("T5 checkpoint keys are the ones of runs made before the per-key roles", () => {
  // Computed with the code of db2ee83 (UNTRAINED_KEYS, untrainedKeys, SEQ2SEQ_ADDED_KEYS), at
  // the settings of the keys added by issue 25 that those runs trained under.
  const before25 = [
    "attentionDropout=false",
    "elmrec.alphaPer=batch",
    "pod.trainPrompts=ids",
    "elmrec.trainPrompts=ids",
  ];
  const key = (name: string, preset: Preset, sets: string[], tasks = ["direct", "sequential"]) => {
    const plugin = BUILTIN_PLUGINS[name];
    const config = resolveConfig(plugin, preset, parseOverrides([...before25, ...sets]));
    // deno-lint-ignore no-explicit-any
    return trainingKey(name, "splithash", 0, config as any, tasks as any, plugin.keys);
  };
  assert.equal(key("p5", "tiny", []), "61e3ba092840f8a8");
  assert.equal(key("pod", "cpu", []), "4c5bf0b247c5f1b6");
  assert.equal(key("pod", "cpu", ["epochs=4", "decode=constrained"]), "4c5bf0b247c5f1b6");
  assert.equal(key("p5", "paper", ["lr=0.01"]), "5edf6397b7b0f485");
  assert.equal(key("elmrec", "cpu", []), "74fea048d8301c4c");
  // Untrained keys, the shared ones and ELMRec's own, leave the key as it is.
  assert.equal(key("elmrec", "cpu", ["epochs=4", "decode=constrained"]), "74fea048d8301c4c");
  assert.equal(
    key("elmrec", "cpu", ["rerank=false", "seqBeams=5", "rerankN=3"]),
    "74fea048d8301c4c",
  );
  // Added keys away from the value they were added with, and trained keys, change it.
  assert.equal(key("elmrec", "cpu", ["keep=last", "directPrompt=user"]), "eb019751ef14b065");
  assert.equal(key("elmrec", "cpu", ["sigma=6", "layers=2"]), "fcfe14b139cff27b");
  assert.equal(key("elmrec", "cpu", [], ["direct"]), "558cf539193f3f19");
  // directLists is untrained: scoring by either rule resumes the same run.
  assert.equal(key("pod", "cpu", ["directLists=candidates"]), "4c5bf0b247c5f1b6");
  // ELMRec's run at one alpha is named by it; the direct and the sequential
  // run of Beauty (9 and 6) are two, of equal alphas one.
  const elmrec = BUILTIN_PLUGINS.elmrec;
  const run = (alpha: number) =>
    trainingKey(
      "elmrec",
      "h",
      0,
      resolveConfig(elmrec, "cpu", []) as never,
      [
        "direct",
        "sequential",
      ],
      elmrec.keys,
      { alpha },
    );
  assert.notEqual(run(9), run(6));
  assert.equal(run(6), run(6));
  // The defaults since issue 25 train another model, under another key.
  const plugin = BUILTIN_PLUGINS.pod;
  const now = trainingKey("pod", "splithash", 0, resolveConfig(plugin, "cpu", []) as never, [
    "direct",
    "sequential",
  ], plugin.keys);
  assert.notEqual(now, "4c5bf0b247c5f1b6");
});

Deno.test("every key of every built-in plugin is camelCase and documented", () => {
  for (const plugin of Object.values(BUILTIN_PLUGINS)) {
    for (const [key, spec] of Object.entries(plugin.keys)) {
      assert.match(key, /^[a-z][a-zA-Z0-9]*$/, `${plugin.name}.${key} is camelCase`);
      assert.ok(spec.doc.trim().length > 0, `${plugin.name}.${key} has a doc`);
      assert.equal(plugin.defaults[key], spec.default);
    }
  }
  assert.equal(Object.keys(BUILTIN_PLUGINS.elmrec.keys).length, 41);
});

Deno.test("ELMRec's -1 keys resolve per dataset to the values they had", () => {
  const at = (dataset: string) => resolveDatasetDefaults(ELMREC_DEFAULTS, dataset);
  assert.deepEqual(at("beauty"), { sigma: 6, layers: 4, alphaDirect: 9, alphaSeq: 6, rerankN: 15 });
  assert.deepEqual(at("sports"), { sigma: 5, layers: 4, alphaDirect: 5, alphaSeq: 1, rerankN: 10 });
  assert.deepEqual(at("toys"), { sigma: 5, layers: 4, alphaDirect: 11, alphaSeq: 9, rerankN: 10 });
  assert.deepEqual(at("synthetic"), {
    sigma: 1,
    layers: 4,
    alphaDirect: 1,
    alphaSeq: 1,
    rerankN: 10,
  });
});

Deno.test("plugins lists each key's default and doc, and what -1 resolves to per dataset", () => {
  const rows = pluginListing(BUILTIN_PLUGINS);
  const bprmf = rows.find((r) => r.name === "bprmf")!;
  assert.deepEqual(bprmf.keys.batchSize, {
    default: 2048,
    doc: "(user, positive, negative) triples per step",
    legacy: "batch_size",
  });
  // The JSON listing round-trips, and `regen.sh` still finds the names.
  const json = JSON.parse(JSON.stringify(rows));
  assert.equal(
    json.find((r: { name: string }) => r.name === "elmrec").keys.sigma.byDataset.toys,
    5,
  );
  const text = renderPlugins(rows);
  assert.match(
    text,
    /sigma=-1 +std of the graph table E0 ~ N\(0, sigma\^2\) \[-1 = from the dataset: beauty 6, sports 5, toys 5, other datasets 1\]/,
  );
  assert.match(
    text,
    /batchSize=2048 +\(user, positive, negative\) triples per step \(was batch_size\)/,
  );
  assert.match(text, /decode=free +free .*\(variant label; not in the checkpoint key\)/);
});

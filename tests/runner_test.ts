/**
 * The run stage end to end on synthetic data: records are written with their
 * provenance, a rerun skips finished cells, --force recomputes, per-user
 * values are kept, and the same seed gives the same metrics.
 */
import { strict as assert } from "node:assert";
import { pop } from "../baselines/pop.ts";
import { idleak } from "../baselines/idleak.ts";
import { readPerUser, readResults } from "../harness/results.ts";
import { runCells, variantOf } from "../harness/runner.ts";
import { generateSynthetic } from "../harness/synthetic.ts";
import { definePlugin } from "../harness/plugin.ts";

Deno.test("runCells() appends one record per cell with provenance, and a rerun skips them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = await generateSynthetic({ users: 120, items: 150 });
    const resultsPath = `${dir}/results.jsonl`;
    const options = {
      task: "direct" as const,
      plugins: [pop, idleak],
      seeds: [0, 1],
      stages: ["test", "valid"] as const,
      resultsPath,
      cacheDir: `${dir}/cache`,
      threads: 1,
    };
    const first = await runCells(data, options);
    assert.equal(first.length, 8);
    const stored = await readResults(resultsPath);
    assert.equal(stored.length, 8);
    const r = stored[0];
    assert.equal(r.plugin, "pop");
    assert.equal(r.data_hash, data.hash);
    assert.equal(r.split_hash.length, 64);
    assert.equal(r.versions.onnxruntime_node, "1.29.0");
    assert.ok(r.versions.deno.length > 0);
    assert.ok(r.machine.cpus >= 1);
    assert.equal(r.machine.device, "cpu");
    assert.equal(r.machine.threads, 1);
    assert.ok("fit" in r.timings_s && "evaluate" in r.timings_s);
    const perUser = await readPerUser(resultsPath, r);
    assert.equal(perUser.users.length, 120);
    const mean = perUser.values["NDCG@10"].reduce((a, b) => a + b, 0) / 120;
    assert.ok(Math.abs(mean - r.metrics["NDCG@10"]) < 1e-7);

    // A rerun finds every cell done: nothing is appended, same metrics returned.
    let fits = 0;
    const counting = definePlugin({ ...pop, fit: (ctx) => (fits++, pop.fit(ctx, {})) });
    const again = await runCells(data, { ...options, plugins: [counting, idleak] });
    assert.equal(fits, 0);
    assert.equal((await readResults(resultsPath)).length, 8);
    assert.deepEqual(again.map((x) => x.metrics), first.map((x) => x.metrics));

    // --force recomputes and appends; the same seed gives the same metrics.
    const forced = await runCells(data, { ...options, plugins: [counting], force: true });
    assert.equal(fits, 2);
    assert.equal((await readResults(resultsPath)).length, 12);
    assert.deepEqual(
      forced.map((x) => x.metrics),
      first.filter((x) => x.plugin === "pop").map((x) => x.metrics),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runCells() refuses a plugin for a task it does not support", async () => {
  const data = await generateSynthetic({ users: 50, items: 150 });
  const directOnly = definePlugin({ ...pop, name: "directonly", tasks: ["direct"] });
  await assert.rejects(
    () =>
      runCells(data, {
        task: "sequential",
        plugins: [directOnly],
        resultsPath: null,
        cacheDir: null,
      }),
    /does not support the sequential task/,
  );
});

Deno.test("masking training items changes only the sequential full-ranking protocol", async () => {
  const data = await generateSynthetic({ users: 200, items: 150 });
  const base = { plugins: [pop], resultsPath: null, cacheDir: null } as const;
  const [none] = await runCells(data, { ...base, task: "sequential" });
  const [train] = await runCells(data, { ...base, task: "sequential", mask: "train" });
  assert.equal(train.mask, "train");
  // Popular training items no longer crowd the list, so pop can only gain.
  assert.ok(train.metrics["HR@10"] >= none.metrics["HR@10"]);
  const [direct] = await runCells(data, { ...base, task: "direct", mask: "train" });
  assert.equal(direct.mask, "none");
});

Deno.test("variantOf() tags variant keys that differ from the preset, not from the bare defaults", () => {
  const plugin = definePlugin({
    name: "v",
    description: "variant keys",
    tasks: ["direct"],
    keys: {
      epochs: { default: 10, doc: "epochs", variant: 2 },
      decode: { default: "free", doc: "decoding", variant: 1 },
      lr: { default: 0.1, doc: "not a variant key" },
    },
    presets: { tiny: { epochs: 3 } },
    requires: [],
    fit: () => Promise.reject(new Error("not fitted")),
  });
  assert.deepEqual(variantOf(plugin, { epochs: 3, decode: "free", lr: 0.1 }, "tiny"), {});
  assert.deepEqual(variantOf(plugin, { epochs: 3, decode: "free", lr: 0.5 }, "cpu"), {
    variant: "epochs=3",
  });
  assert.deepEqual(variantOf(plugin, { epochs: 10, decode: "constrained", lr: 0.1 }), {
    variant: "decode=constrained",
  });
  // Tags follow the `variant` numbers, not the declaration order.
  assert.deepEqual(variantOf(plugin, { epochs: 4, decode: "constrained", lr: 0.1 }), {
    variant: "decode=constrained, epochs=4",
  });
});

Deno.test("a key added to a plugin at the value earlier records ran with keeps their cell ids", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = await generateSynthetic({ users: 120, items: 150 });
    const resultsPath = `${dir}/results.jsonl`;
    const options = { task: "direct" as const, resultsPath, cacheDir: null, threads: 1 };
    const [before] = await runCells(data, { ...options, plugins: [pop] });
    const grown = definePlugin({
      ...pop,
      keys: { prompt: { default: "old", doc: "a key added later", addedAt: "old" } },
    });
    const [again] = await runCells(data, { ...options, plugins: [grown] });
    assert.equal(again.id, before.id);
    assert.equal((await readResults(resultsPath)).length, 1, "the rerun found the cell done");
    const [other] = await runCells(data, {
      ...options,
      plugins: [grown],
      overrides: [{ key: "prompt", raw: "new" }],
    });
    assert.notEqual(other.id, before.id);
    assert.equal(other.config.prompt, "new");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

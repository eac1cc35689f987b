/**
 * One failing plugin does not stop a run: a cell whose fit or scorer throws
 * is recorded as failed, every other cell runs and is recorded, and the run
 * ends with an error naming each failed cell. Config values of every
 * selected plugin are checked before the first cell runs.
 */
import assert from "node:assert/strict";
import { CellsFailedError } from "../harness/cell_failures.ts";
import { definePlugin, type Plugin } from "../harness/plugin.ts";
import { readResults, readResultsFile } from "../harness/results.ts";
import { runCells, runCellsReport } from "../harness/runner.ts";
import { generateSynthetic } from "../harness/synthetic.ts";
import { BUILTIN_PLUGINS } from "../plugins.ts";

const data = await generateSynthetic({ users: 60, items: 200, seed: 3 });
const { pop, idleak } = BUILTIN_PLUGINS;

/** A plugin whose `fit` (where=fit) or scorer (where=score) throws. */
const boom = definePlugin({
  name: "boom",
  description: "throws in fit or in its scorer",
  tasks: ["direct", "sequential"],
  keys: { where: { default: "fit", doc: "fit or score", values: ["fit", "score"] } },
  requires: [],
  fit(_ctx, config) {
    if (config.where === "fit") return Promise.reject(new Error("fit exploded"));
    return Promise.resolve({
      scoreCandidates: () => Promise.reject(new Error("scorer exploded")),
    });
  },
}) as Plugin;

async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const where of ["fit", "score"] as const) {
  for (const order of ["first", "last"] as const) {
    Deno.test(`a ${where} that throws, placed ${order}, fails its cell only`, async () => {
      await inTempDir(async (dir) => {
        const results = `${dir}/results.jsonl`;
        const plugins = order === "first" ? [boom, pop, idleak] : [pop, idleak, boom];
        const report = await runCellsReport(data, {
          task: "direct",
          plugins,
          overrides: [{ scope: "boom", key: "where", raw: where }],
          resultsPath: results,
          cacheDir: null,
        });
        assert.deepEqual(report.records.map((r) => r.plugin).sort(), ["idleak", "pop"]);
        assert.equal(report.cells, 3);
        assert.equal(report.failed.length, 1);
        const [failure] = report.failed;
        assert.equal(failure.plugin, "boom");
        assert.equal(failure.phase, where);
        assert.equal(failure.error.message, `${where === "fit" ? "fit" : "scorer"} exploded`);
        assert.equal(failure.error.stack, undefined, "stacks only with ELMBENCH_DEBUG=1");
        // The file holds both good records and the failure line; readers of results skip it.
        const file = await readResultsFile(results);
        assert.deepEqual(file.records.map((r) => r.plugin).sort(), ["idleak", "pop"]);
        assert.deepEqual(file.failures.map((f) => [f.plugin, f.id]), [["boom", failure.id]]);
        assert.equal((await readResults(results)).length, 2);
        // A rerun skips the finished cells and retries the failed one (which fails again).
        const again = await runCellsReport(data, {
          task: "direct",
          plugins,
          overrides: [{ scope: "boom", key: "where", raw: where }],
          resultsPath: results,
          cacheDir: null,
        });
        assert.deepEqual(
          again.records.map((r) => r.finished_at).sort(),
          report.records.map((r) => r.finished_at).sort(),
        );
        assert.equal(again.failed.length, 1);
        const after = await readResultsFile(results);
        assert.equal(after.records.length, 2);
        assert.equal(after.failures.length, 2);
      });
    });
  }
}

Deno.test("runCells() throws CellsFailedError naming the failed cell after the others ran", async () => {
  await inTempDir(async (dir) => {
    const results = `${dir}/results.jsonl`;
    const error = await runCells(data, {
      task: "sequential",
      plugins: [boom, pop],
      resultsPath: results,
      cacheDir: null,
    }).then(() => null, (e) => e);
    assert.ok(error instanceof CellsFailedError);
    assert.match(
      error.message,
      /^1 of 2 cell\(s\) failed; the others ran and are recorded in .*results\.jsonl:\n {2}boom on synthetic\/sequential, seed 0, test split: fit threw: fit exploded\n/,
    );
    assert.deepEqual((await readResults(results)).map((r) => r.plugin), ["pop"]);
  });
});

Deno.test("with ELMBENCH_DEBUG=1 a failed cell keeps its stack", async () => {
  Deno.env.set("ELMBENCH_DEBUG", "1");
  try {
    const report = await runCellsReport(data, {
      task: "direct",
      plugins: [boom],
      resultsPath: null,
      cacheDir: null,
    });
    assert.match(report.failed[0].error.stack ?? "", /fit exploded\n\s+at /);
  } finally {
    Deno.env.delete("ELMBENCH_DEBUG");
  }
});

Deno.test("a bad --set value of the last plugin is an error before the first cell runs", async () => {
  await inTempDir(async (dir) => {
    const results = `${dir}/results.jsonl`;
    await assert.rejects(
      () =>
        runCells(data, {
          task: "direct",
          plugins: [pop, BUILTIN_PLUGINS.bprmf, BUILTIN_PLUGINS.lightgcn],
          overrides: [{ scope: "lightgcn", key: "validProtocol", raw: "bogus" }],
          resultsPath: results,
          cacheDir: null,
        }),
      {
        name: "RangeError",
        message:
          'Expected lightgcn.validProtocol (--set) to be one of "full", "task" but found "bogus"',
      },
    );
    assert.deepEqual(await readResults(results), [], "nothing ran");
  });
});

Deno.test("a plugin whose preset sets a value outside its declared values fails before any cell", async () => {
  const badPreset = definePlugin({
    name: "badpreset",
    description: "a preset with a value its key does not accept",
    tasks: ["direct"],
    keys: { mode: { default: "a", doc: "a or b", values: ["a", "b"] } },
    presets: { tiny: { mode: "c" } },
    requires: [],
    fit: () => Promise.reject(new Error("never fitted")),
  }) as Plugin;
  await assert.rejects(
    () =>
      runCells(data, {
        task: "direct",
        plugins: [pop, badPreset],
        preset: "tiny",
        resultsPath: null,
        cacheDir: null,
      }),
    { message: 'Expected badpreset.mode (preset tiny) to be one of "a", "b" but found "c"' },
  );
});

/**
 * Small builders shared by the cross-cutting tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Plugin } from "../harness/plugin.ts";
import type { ResultRecord } from "../harness/results.ts";
import { runCells } from "../harness/runner.ts";
import { generateSynthetic } from "../harness/synthetic.ts";
import type { Dataset, Task } from "../harness/types.ts";

/** A dataset from literal sequences (row u-1 = user u). */
export function tinyDataset(
  sequences: number[][],
  options: { nItems?: number; name?: string; negatives?: number[][] } = {},
): Dataset {
  const ragged = (rows: number[][]) => {
    const offsets = new Uint32Array(rows.length + 1);
    const values: number[] = [];
    rows.forEach((r, i) => {
      values.push(...r);
      offsets[i + 1] = values.length;
    });
    return { offsets, values: Int32Array.from(values) };
  };
  const nItems = options.nItems ?? Math.max(...sequences.flat());
  return {
    name: options.name ?? "tiny",
    nUsers: sequences.length,
    nItems,
    sequences: ragged(sequences),
    negatives: options.negatives ? ragged(options.negatives) : undefined,
    hash: `tiny-${JSON.stringify(sequences)}-${nItems}`,
    source: "test",
  };
}

/** The data directory of the real datasets, or undefined (tests then skip). */
export function realDataDir(): string | undefined {
  const dir = Deno.env.get("ELMBENCH_DATA");
  if (!dir) return undefined;
  try {
    Deno.statSync(`${dir}/beauty/sequential.txt`);
    return dir;
  } catch {
    return undefined;
  }
}

/** Logs once why real-data tests are skipped. */
export function explainSkip(what: string): void {
  if (!realDataDir()) {
    console.log(
      `skipping ${what}: set ELMBENCH_DATA to the directory holding beauty/, sports/, toys/ (.ci/run sets ../shared/data)`,
    );
  }
}

/** One `tiny`-preset cell of `plugin` with `settings` as `--set` overrides, written nowhere. */
export async function tinyCell(
  dataset: Dataset,
  task: Task,
  plugin: Plugin,
  settings: Record<string, string>,
  evalUsers?: number,
): Promise<ResultRecord> {
  const overrides = Object.entries(settings).map(([key, raw]) => ({ key, raw }));
  const [record] = await runCells(dataset, {
    task,
    plugins: [plugin],
    preset: "tiny",
    overrides,
    resultsPath: null,
    cacheDir: null,
    evalUsers,
  });
  return record;
}

/**
 * Fits `plugins` for 2 tiny epochs on both tasks with `--save`, scores the
 * saved checkpoints with `--load`, and asserts the metrics are equal.
 */
export async function assertSaveLoadRoundTrip(plugins: readonly Plugin[]): Promise<void> {
  const data = await generateSynthetic({ users: 150, items: 200 });
  const dir = await Deno.makeTempDir();
  try {
    for (const task of ["direct", "sequential"] as const) {
      const common = {
        task,
        plugins: [...plugins],
        preset: "tiny" as const,
        resultsPath: null,
        cacheDir: null,
        overrides: [{ key: "epochs", raw: "2" }],
      };
      const fitted = await runCells(data, { ...common, saveDir: dir });
      const loaded = await runCells(data, { ...common, loadDir: dir });
      fitted.forEach((r, i) =>
        assert.deepEqual(loaded[i].metrics, r.metrics, `${r.plugin} ${task}`)
      );
      assert.ok(loaded.every((r) => r.info.loaded_from !== undefined));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

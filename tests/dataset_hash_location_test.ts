/**
 * `data_hash` and `split_hash` depend on the data's content and the
 * split's parameters only: not on the folder's name, the files' line
 * endings or a final newline; the raw files' sha256 is kept beside them.
 */
import assert from "node:assert/strict";
import { tableFromIPC, tableToIPC } from "apache-arrow";
import { formatSequentialTxt, sha256Hex } from "../harness/dataset_hash.ts";
import { readDataset } from "../harness/dataset_reader.ts";
import { runCells } from "../harness/runner.ts";
import { loadSplit } from "../harness/split.ts";
import { generateSynthetic } from "../harness/synthetic.ts";
import { BUILTIN_PLUGINS } from "../plugins.ts";

const data = await generateSynthetic({ users: 50, items: 200, seed: 7 });
const text = formatSequentialTxt(data.sequences);

/** Writes `sequential.txt` with `content` into `dir/name`; returns the folder. */
async function folder(dir: string, name: string, content: string): Promise<string> {
  await Deno.mkdir(`${dir}/${name}`);
  await Deno.writeTextFile(`${dir}/${name}/sequential.txt`, content);
  return `${dir}/${name}`;
}

Deno.test("one dataset in two folders, with CRLF or without a final newline, hashes alike", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const variants = {
      clean: text,
      clean2: text,
      crlf: text.replaceAll("\n", "\r\n"),
      unterminated: text.slice(0, -1),
    };
    const read = await Promise.all(
      Object.entries(variants).map(async ([name, content]) =>
        readDataset(await folder(dir, name, content))
      ),
    );
    // The content hash is the canonical text's, which the generated data hashes too.
    for (const ds of read) assert.equal(ds.hash, data.hash);
    // The raw sha256 is the files' own.
    const raw = await Promise.all(
      Object.values(variants).map((c) => sha256Hex(new TextEncoder().encode(c))),
    );
    assert.deepEqual(read.map((ds) => ds.rawHash), raw);
    assert.equal(
      new Set(raw).size,
      3,
      "clean and clean2 share the bytes; CRLF and unterminated differ",
    );
    // One split hash for all four, though the folders' names (and the cache files) differ.
    const cache = `${dir}/cache`;
    const splits = await Promise.all(read.map((ds) => loadSplit(ds, { seed: 3, cacheDir: cache })));
    assert.equal(new Set(splits.map((s) => s.hash)).size, 1);
    assert.equal([...Deno.readDirSync(cache)].length, 4);
    // Every metric is identical too, and the records say which bytes they read.
    const records = await Promise.all(read.map((ds) =>
      runCells(ds, {
        task: "direct",
        plugins: [BUILTIN_PLUGINS.pop],
        seeds: [3],
        resultsPath: null,
        cacheDir: null,
      })
    ));
    const [first] = records[0];
    for (const [r] of records) {
      assert.deepEqual(r.metrics, first.metrics);
      assert.equal(r.data_hash, first.data_hash);
      assert.equal(r.split_hash, first.split_hash);
    }
    assert.deepEqual(records.map(([r]) => r.data_raw_hash), raw);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a split cached by the earlier format (with the folder's name) is rebuilt, not used", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const split = await loadSplit(data, { seed: 1, cacheDir: dir });
    const [file] = [...Deno.readDirSync(dir)].map((e) => `${dir}/${e.name}`);
    // Rewrite the cache file as version 1 wrote it: another format tag and the dataset's name.
    const table = tableFromIPC(await Deno.readFile(file));
    table.schema.metadata.set("format", "elmbench-split/1");
    table.schema.metadata.set("dataset", "synthetic");
    const stale = tableToIPC(table, "file");
    await Deno.writeFile(file, stale);
    const again = await loadSplit(data, { seed: 1, cacheDir: dir });
    assert.equal(again.hash, split.hash);
    assert.notEqual(await sha256Hex(stale), split.hash);
    assert.equal(await sha256Hex(await Deno.readFile(file)), split.hash, "overwritten");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

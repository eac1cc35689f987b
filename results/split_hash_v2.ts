/**
 * Rewrites the `split_hash` of committed result records from the first
 * split format (whose Arrow metadata held the dataset's folder name, so the
 * same data in two folders hashed apart) to the second (which does not).
 *
 * Nothing else in a record changes, so its id stays. For each record the
 * split is rebuilt from its data (`data_spec`, the data root, seed and
 * renumbering) and encoded both ways; a record is rewritten only when the
 * first encoding's hash is the one it holds, so every rewritten hash is of
 * the split the record was scored against.
 *
 *   deno run -A results/split_hash_v2.ts [--data-root ../shared/data] results/*.jsonl
 *
 * @module
 */
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { Schema, Table, tableFromIPC, tableToIPC } from "apache-arrow";
import { loadData, SYNTHETIC } from "../harness/data_source.ts";
import { sha256Hex } from "../harness/dataset_hash.ts";
import { reindexItems } from "../harness/reindex.ts";
import type { ResultRecord } from "../harness/results.ts";
import { buildSplitRaw } from "../harness/split.ts";
import { splitToArrow } from "../harness/split_arrow.ts";
import type { Dataset } from "../harness/types.ts";

/** The first format's bytes: the same table with its metadata as version 1 wrote it. */
function firstFormat(bytes: Uint8Array, name: string): Uint8Array {
  const table = tableFromIPC(bytes);
  const meta = table.schema.metadata;
  const v1 = new Map<string, string>([
    ["format", "elmbench-split/1"],
    ["dataset", name],
    ["dataset_hash", meta.get("dataset_hash")!],
    ["seed", meta.get("seed")!],
    ["reindex", meta.get("reindex")!],
    ["n_items", meta.get("n_items")!],
    ["test_negative_source", meta.get("test_negative_source")!],
  ]);
  const schema = new Schema(table.schema.fields, v1);
  return tableToIPC(new Table(schema, table.batches.map((b) => b)), "file");
}

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { "data-root": { type: "string", default: "../shared/data" } },
  allowPositionals: true,
});
const data = new Map<string, Dataset>();
const hashes = new Map<string, { v1: string; v2: string }>();
for (const file of positionals) {
  const lines = (await Deno.readTextFile(file)).split("\n");
  let rewritten = 0;
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    const r = JSON.parse(lines[i]) as ResultRecord;
    const spec = r.data_spec ?? r.dataset;
    if (!data.has(spec)) {
      data.set(
        spec,
        spec === SYNTHETIC || spec.startsWith(`${SYNTHETIC}:`)
          ? await loadData(SYNTHETIC, spec.slice(SYNTHETIC.length + 1))
          : await loadData(`${values["data-root"]}/${basename(spec)}`),
      );
    }
    const key = `${spec}\0${r.seed}\0${r.reindex}`;
    if (!hashes.has(key)) {
      const base = data.get(spec)!;
      const ds = r.reindex === "random" ? reindexItems(base, r.seed) : base;
      const bytes = splitToArrow(buildSplitRaw(ds, { seed: r.seed, reindex: r.reindex }));
      hashes.set(key, {
        v1: await sha256Hex(firstFormat(bytes, ds.name)),
        v2: await sha256Hex(bytes),
      });
    }
    const { v1, v2 } = hashes.get(key)!;
    if (r.split_hash === v2) continue;
    if (r.split_hash !== v1) {
      throw new Error(`${file} line ${i + 1}: split_hash ${r.split_hash} is not this split's (${v1})`);
    }
    // Replace the one field in place, so the line keeps its key order and every other byte.
    lines[i] = lines[i].replace(`"split_hash":"${v1}"`, `"split_hash":"${v2}"`);
    rewritten++;
  }
  await Deno.writeTextFile(file, lines.join("\n"));
  console.log(`${file}: ${rewritten} split hashes rewritten`);
}

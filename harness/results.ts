/**
 * Result records: one JSON line per (plugin, dataset, task, seed, stage),
 * appended atomically to a results file, with per-user metric values beside
 * it in Arrow files. A rerun skips cells whose record exists, so an
 * interrupted run loses nothing already finished.
 *
 * @module
 */
import {
  type Data,
  type DataType,
  Field,
  Float64,
  Int32,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableFromIPC,
  tableToIPC,
} from "apache-arrow";
import { dirname, join } from "node:path";
import { type CellFailure, FAILURE_SCHEMA } from "./cell_failures.ts";
import type { Mask } from "./evaluate.ts";
import { sha256Text } from "./dataset_hash.ts";
import type { PerUserMetrics } from "./metrics.ts";
import type { PluginConfig } from "./plugin.ts";
import type { Machine, Versions } from "./provenance.ts";
import type { Reindex, Stage, Task } from "./types.ts";

/** The identity of a cell: two records with equal keys measure the same thing. */
export interface CellKey {
  readonly plugin: string;
  readonly dataset: string;
  readonly data_hash: string;
  readonly task: Task;
  readonly seed: number;
  readonly stage: Stage;
  readonly reindex: Reindex;
  readonly mask: Mask;
  readonly config_hash: string;
  /** Users scored: all (null) or a fixed seeded subset of this size (`--eval-users`). */
  readonly eval_users?: number | null;
}

/** One line of a results file. */
export interface ResultRecord extends CellKey {
  readonly schema: "elmbench-result/1";
  readonly id: string;
  readonly variant?: string;
  readonly preset: string | null;
  /** How to load the data again: `synthetic[:k=v,...]` or the directory given. */
  readonly data_spec?: string;
  readonly config: PluginConfig;
  /** sha256 of the data files' bytes as read (`data_hash` is their parsed content's). */
  readonly data_raw_hash?: string;
  readonly split_hash: string;
  readonly test_negatives: "negative.txt" | "seeded";
  readonly n_users: number;
  readonly metrics: Record<string, number>;
  /** Path of the per-user Arrow file, relative to the results file. */
  readonly per_user: string | null;
  readonly timings_s: Record<string, number>;
  readonly info: Record<string, unknown>;
  readonly versions: Versions;
  readonly machine: Machine;
  readonly finished_at: string;
}

/** A stable JSON text (sorted keys) for hashing configs. */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0
  );
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
}

/** The record id: a hash of the cell key. */
export async function cellId(key: CellKey): Promise<string> {
  const k: CellKey = {
    plugin: key.plugin,
    dataset: key.dataset,
    data_hash: key.data_hash,
    task: key.task,
    seed: key.seed,
    stage: key.stage,
    reindex: key.reindex,
    mask: key.mask,
    config_hash: key.config_hash,
    // Absent on full evaluations so that their ids stay as they were.
    ...(key.eval_users ? { eval_users: key.eval_users } : {}),
  };
  return (await sha256Text(stableJson(k))).slice(0, 16);
}

/**
 * Reads a results file. A malformed line is an error naming the file and
 * line; a missing file is an empty list. Lines of failed cells
 * (`elmbench-failure/1`) are left out; {@linkcode readResultsFile} has them.
 */
export async function readResults(path: string): Promise<ResultRecord[]> {
  return (await readResultsFile(path)).records;
}

/** The result records and the failed cells of a results file (a missing file holds neither). */
export async function readResultsFile(
  path: string,
): Promise<{ records: ResultRecord[]; failures: CellFailure[] }> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { records: [], failures: [] };
    throw e;
  }
  const records: ResultRecord[] = [];
  const failures: CellFailure[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    let record: ResultRecord | CellFailure;
    try {
      record = JSON.parse(line);
    } catch (e) {
      throw new SyntaxError(
        `${path} line ${i + 1}: expected a JSON result record but found ${
          JSON.stringify(line.slice(0, 60))
        } (${(e as Error).message})`,
      );
    }
    if (record.schema === FAILURE_SCHEMA) {
      failures.push(record as CellFailure);
      continue;
    }
    if (record.schema !== "elmbench-result/1") {
      throw new SyntaxError(
        `${path} line ${i + 1}: expected schema "elmbench-result/1" but found ${
          JSON.stringify((record as { schema?: unknown }).schema)
        }`,
      );
    }
    records.push(record);
  }
  return { records, failures };
}

/**
 * Appends one record (or a failed cell's line) as one write of one line,
 * after its per-user file is in place, so a reader never sees a record whose
 * details are missing.
 */
export async function appendResult(
  path: string,
  record: ResultRecord | CellFailure,
): Promise<void> {
  await Deno.mkdir(dirname(path) || ".", { recursive: true });
  const file = await Deno.open(path, { append: true, create: true });
  try {
    const bytes = new TextEncoder().encode(JSON.stringify(record) + "\n");
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
  } finally {
    file.close();
  }
}

/** Writes per-user metrics as Arrow (`user` + one Float64 column per metric), atomically. */
export async function writePerUser(
  resultsPath: string,
  id: string,
  userRows: Int32Array,
  perUser: PerUserMetrics,
): Promise<string> {
  const relative = join("per_user", `${id}.arrow`);
  const path = join(dirname(resultsPath), relative);
  await Deno.mkdir(dirname(path), { recursive: true });
  const users = Int32Array.from(userRows, (u) => u + 1);
  const fields: Field<DataType>[] = [new Field("user", new Int32(), false)];
  const children: Data<DataType>[] = [
    makeData({ type: new Int32(), length: users.length, data: users }),
  ];
  for (const [name, values] of Object.entries(perUser)) {
    fields.push(new Field(name, new Float64(), false));
    children.push(makeData({ type: new Float64(), length: values.length, data: values }));
  }
  const schema = new Schema(fields);
  const data = makeData({ type: new Struct(fields), length: users.length, nullCount: 0, children });
  const bytes = tableToIPC(new Table(schema, [new RecordBatch(schema, data)]), "file");
  const tmp = `${path}.${Deno.pid}.tmp`;
  await Deno.writeFile(tmp, bytes);
  await Deno.rename(tmp, path);
  return relative;
}

/** Reads per-user metrics of a record (for paired tests). */
export async function readPerUser(
  resultsPath: string,
  record: ResultRecord,
): Promise<{ users: Int32Array; values: PerUserMetrics }> {
  if (record.per_user === null) {
    throw new RangeError(`Result ${record.id} has no per-user values`);
  }
  const table = tableFromIPC(await Deno.readFile(join(dirname(resultsPath), record.per_user)));
  const values: PerUserMetrics = {};
  for (const field of table.schema.fields) {
    if (field.name === "user") continue;
    values[field.name] = Float64Array.from(table.getChild(field.name)!.toArray() as Float64Array);
  }
  return { users: Int32Array.from(table.getChild("user")!.toArray() as Int32Array), values };
}

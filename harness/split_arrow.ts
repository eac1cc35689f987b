/**
 * Arrow IPC encoding of a {@linkcode Split}: one row per user with columns
 * `user`, `train` (list), `valid`, `test`, `valid_negatives` and
 * `test_negatives` (fixed-size lists), and the split's provenance as schema
 * metadata. Arrow makes the cache readable from Python or R as it is.
 *
 * @module
 */
import {
  Field,
  FixedSizeList,
  Int32,
  List,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableFromIPC,
  tableToIPC,
} from "apache-arrow";
import { sha256Hex } from "./dataset_hash.ts";
import type { Dataset, Reindex, Split } from "./types.ts";

/**
 * Version 2 dropped the dataset's name from the metadata (version 1 had it,
 * so its bytes, and `split_hash`, depended on the folder's name).
 */
const FORMAT = "elmbench-split/2";

/** A cached split written by an earlier version of this format: rebuild it. */
export class StaleSplitError extends SyntaxError {
  override name = "StaleSplitError";
}

/** Encodes a split (without its hash, which is the hash of these bytes). */
export function splitToArrow(split: Omit<Split, "hash">): Uint8Array {
  const n = split.nUsers;
  const k = split.negativesPerUser;
  const users = new Int32Array(n);
  for (let u = 0; u < n; u++) users[u] = u + 1;
  const item = () => new Field("item", new Int32(), false);
  const listType = new List(item());
  const fixedType = new FixedSizeList(k, item());
  const int = (data: Int32Array) => makeData({ type: new Int32(), length: data.length, data });
  const fields = [
    new Field("user", new Int32(), false),
    new Field("train", listType, false),
    new Field("valid", new Int32(), false),
    new Field("test", new Int32(), false),
    new Field("valid_negatives", fixedType, false),
    new Field("test_negatives", fixedType, false),
  ];
  const children = [
    int(users),
    makeData({
      type: listType,
      length: n,
      nullCount: 0,
      valueOffsets: Int32Array.from(split.train.offsets),
      child: int(split.train.values),
    }),
    int(split.valid),
    int(split.test),
    makeData({ type: fixedType, length: n, nullCount: 0, child: int(split.validNegatives) }),
    makeData({ type: fixedType, length: n, nullCount: 0, child: int(split.testNegatives) }),
  ];
  const metadata = new Map<string, string>([
    ["format", FORMAT],
    // The content's hash and no folder name: one split of the same data hashes alike anywhere.
    ["dataset_hash", split.dataset.hash],
    ["seed", String(split.seed)],
    ["reindex", split.reindex],
    ["n_items", String(split.nItems)],
    ["test_negative_source", split.testNegativeSource],
  ]);
  const schema = new Schema(fields, metadata);
  const struct = makeData({ type: new Struct(fields), length: n, nullCount: 0, children });
  const table = new Table(schema, [new RecordBatch(schema, struct)]);
  return tableToIPC(table, "file");
}

/**
 * Decodes a split written by {@linkcode splitToArrow} and checks that it
 * belongs to `dataset`: a cache file from other data is an error, not a
 * silently wrong evaluation.
 */
export async function readSplitArrow(
  bytes: Uint8Array,
  dataset: Dataset,
  path: string,
): Promise<Split> {
  const table = tableFromIPC(bytes);
  const meta = table.schema.metadata;
  if (meta.get("format")?.startsWith("elmbench-split/") && meta.get("format") !== FORMAT) {
    throw new StaleSplitError(`${path} holds format ${meta.get("format")}, not ${FORMAT}`);
  }
  if (meta.get("format") !== FORMAT) {
    throw new SyntaxError(
      `Expected an elmbench split (format "${FORMAT}") in ${path} but found format "${
        meta.get("format")
      }"`,
    );
  }
  if (meta.get("dataset_hash") !== dataset.hash) {
    throw new RangeError(
      `Split ${path} was built for dataset hash ${
        meta.get("dataset_hash")
      } but the data has hash ${dataset.hash}; delete the file to rebuild it`,
    );
  }
  const n = table.numRows;
  const column = (name: string) => {
    const c = table.getChild(name);
    if (c === null) throw new SyntaxError(`Expected column "${name}" in ${path}`);
    return c.data[0];
  };
  const flat = (name: string) => column(name).values as Int32Array;
  const trainData = column("train");
  // Arrow may pad its offsets buffer; a CSR over n rows has exactly n + 1 offsets.
  const offsets = Uint32Array.from((trainData.valueOffsets as Int32Array).subarray(0, n + 1));
  const trainValues = trainData.children[0].values as Int32Array;
  const negData = column("test_negatives");
  const perUser = (negData.type as FixedSizeList).listSize;
  return {
    dataset,
    seed: Number(meta.get("seed")),
    reindex: meta.get("reindex") as Reindex,
    nUsers: n,
    nItems: Number(meta.get("n_items")),
    train: { offsets, values: trainValues.slice(0, offsets[n]) },
    valid: flat("valid").slice(0, n),
    test: flat("test").slice(0, n),
    validNegatives: (column("valid_negatives").children[0].values as Int32Array).slice(
      0,
      n * perUser,
    ),
    testNegatives: (negData.children[0].values as Int32Array).slice(0, n * perUser),
    negativesPerUser: perUser,
    testNegativeSource: meta.get("test_negative_source") as Split["testNegativeSource"],
    hash: await sha256Hex(bytes),
  };
}

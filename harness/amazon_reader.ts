/**
 * Converts Amazon 5-core review files (McAuley et al. 2014:
 * `reviews_<Category>_5.json`, optionally gzipped) into the P5 / POD / ELMRec
 * layout, numbering ids exactly the way the published `sequential.txt` files
 * were numbered, and writes that layout back out.
 *
 * The published files come from S3-Rec's `data/data_process.py`
 * (`Amazon` -> `get_interaction` -> `filter_Kcore` -> `id_map`), which P5 and
 * its successors reuse. What this module reproduces, step by step:
 *
 * 1. Users are numbered 1, 2, ... in order of their first review in the file
 *    (S3-Rec fills a Python dict while reading, and dicts keep insertion
 *    order).
 * 2. Each user's reviews are sorted by `unixReviewTime` with a stable sort
 *    (Python's `list.sort`), so reviews on the same day keep file order.
 *    Here the tie is broken explicitly by file position, which is the same.
 * 3. Items are numbered 1, 2, ... in order of first appearance while walking
 *    users in user-id order and, within a user, the time-sorted sequence.
 *
 * Step 3 is where the leak of `spec/methods.md` comes from: while walking
 * user u's sequence, every item not seen in users 1..u-1 or earlier in u's
 * own sequence gets the next unused id. So an item that is new when it
 * appears in a sequence is exactly `max(ids so far) + 1`, and since the ids
 * so far include u's own history, the next item is very often
 * `max(history) + 1`.
 *
 * Not reproduced, because they are no-ops on 5-core files: the rating filter
 * (`overall <= 0` is dropped; ratings are 1..5) and the iterative 5-core
 * filter (the files are 5-core already). A user reviewing the same item twice
 * keeps both interactions, as in S3-Rec.
 *
 * @module
 */

import type { Dataset, Ragged } from "./types.ts";
import { DataError } from "./errors.ts";
import { formatSequentialTxt, sha256Text } from "./dataset_hash.ts";

/** Options of {@linkcode readAmazonReviews}. */
export interface AmazonReaderOptions {
  /**
   * Dataset name.
   * @default the category of `reviews_<Category>_5.json[.gz]`, lower-cased
   * (`Beauty` -> `beauty`), else the file's base name
   */
  name?: string;
}

/** A converted dataset plus the raw ids behind the numbers. */
export interface AmazonDataset extends Dataset {
  /** `rawUserIds[u - 1]` is the `reviewerID` of user `u`. */
  readonly rawUserIds: readonly string[];
  /** `rawItemIds[i - 1]` is the `asin` of item `i`. */
  readonly rawItemIds: readonly string[];
}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1];
}

function defaultName(file: string): string {
  const m = /^reviews_(.+?)(?:_5)?\.json(?:\.gz)?$/.exec(file);
  return m ? m[1].toLowerCase() : file;
}

/** Yields the lines of a text stream with their 1-based numbers. */
async function* lines(stream: ReadableStream<string>): AsyncGenerator<[string, number]> {
  let carry = "";
  let n = 0;
  for await (const chunk of stream) {
    const parts = (carry + chunk).split("\n");
    carry = parts.pop() ?? "";
    for (const p of parts) yield [p, ++n];
  }
  if (carry.length > 0) yield [carry, ++n];
}

function preview(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}...` : text;
}

function stringField(
  rec: Record<string, unknown>,
  key: string,
  file: string,
  line: number,
): string {
  const v = rec[key];
  if (typeof v === "string" && v.length > 0) return v;
  const found = v === undefined ? "nothing" : JSON.stringify(v);
  throw new DataError(
    file,
    line,
    String(found),
    `expected a non-empty string "${key}" but found ${found}`,
  );
}

function timeField(rec: Record<string, unknown>, file: string, line: number): number {
  const v = rec.unixReviewTime;
  // S3-Rec applies int(), so a numeric string is as good as a number.
  const t = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : NaN;
  if (Number.isInteger(t)) return t;
  const found = v === undefined ? "nothing" : JSON.stringify(v);
  throw new DataError(
    file,
    line,
    String(found),
    `expected an integer "unixReviewTime" but found ${found}`,
  );
}

/**
 * Reads an Amazon review file (`.json`, or `.json.gz` through
 * `DecompressionStream`) and numbers users and items as P5's data did (see
 * the module doc). `hash` is the sha256 of the `sequential.txt` text that
 * {@linkcode writeSequentialTxt} writes, so a written-out copy read back with
 * `readDataset` keeps the same hash.
 *
 * @example
 * ```ts ignore
 * import { readAmazonReviews, writeSequentialTxt } from "./amazon_reader.ts";
 * const ds = await readAmazonReviews("reviews_Beauty_5.json.gz");
 * await writeSequentialTxt(ds, "beauty/sequential.txt");
 * ```
 */
export async function readAmazonReviews(
  path: string,
  options: AmazonReaderOptions = {},
): Promise<AmazonDataset> {
  const file = baseName(path);
  const handle = await Deno.open(path, { read: true });
  let bytes: ReadableStream<Uint8Array> = handle.readable;
  if (file.endsWith(".gz")) {
    bytes = bytes.pipeThrough(
      new DecompressionStream("gzip") as TransformStream<Uint8Array, Uint8Array>,
    );
  }
  const userIndex = new Map<string, number>();
  const itemKey = new Map<string, number>();
  const itemKeys: string[] = [];
  const users: number[] = [], items: number[] = [], times: number[] = [];
  for await (const [raw, line] of lines(bytes.pipeThrough(new TextDecoderStream()))) {
    const text = raw.trim();
    if (text.length === 0) continue;
    let rec: unknown;
    try {
      rec = JSON.parse(text);
    } catch (e) {
      throw new DataError(
        file,
        line,
        preview(text),
        `expected a JSON object but found "${preview(text)}" (${(e as Error).message})`,
      );
    }
    if (rec === null || typeof rec !== "object" || Array.isArray(rec)) {
      throw new DataError(
        file,
        line,
        preview(text),
        `expected a JSON object but found ${preview(text)}`,
      );
    }
    const r = rec as Record<string, unknown>;
    const user = stringField(r, "reviewerID", file, line);
    const asin = stringField(r, "asin", file, line);
    const time = timeField(r, file, line);
    let u = userIndex.get(user);
    if (u === undefined) userIndex.set(user, u = userIndex.size);
    let k = itemKey.get(asin);
    if (k === undefined) {
      itemKey.set(asin, k = itemKeys.length);
      itemKeys.push(asin);
    }
    users.push(u);
    items.push(k);
    times.push(time);
  }
  if (users.length === 0) {
    throw new DataError(file, 1, "", "expected at least one review but found none");
  }

  const nUsers = userIndex.size, n = users.length;
  // Counting sort by user keeps file order inside each user.
  const offsets = new Uint32Array(nUsers + 1);
  for (let j = 0; j < n; j++) offsets[users[j] + 1]++;
  for (let u = 0; u < nUsers; u++) offsets[u + 1] += offsets[u];
  const order = new Uint32Array(n);
  const fill = offsets.slice(0, nUsers);
  for (let j = 0; j < n; j++) order[fill[users[j]]++] = j;
  for (let u = 0; u < nUsers; u++) {
    const rowView = order.subarray(offsets[u], offsets[u + 1]);
    // Ties keep file order: the same outcome as Python's stable list.sort.
    rowView.set(Array.from(rowView).sort((a, b) => times[a] - times[b] || a - b));
  }
  const idOfKey = new Int32Array(itemKeys.length);
  const rawItemIds: string[] = [];
  const values = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    const k = items[order[p]];
    if (idOfKey[k] === 0) {
      rawItemIds.push(itemKeys[k]);
      idOfKey[k] = rawItemIds.length;
    }
    values[p] = idOfKey[k];
  }
  const sequences: Ragged = { offsets, values };
  return {
    name: options.name ?? defaultName(file),
    nUsers,
    nItems: rawItemIds.length,
    sequences,
    hash: await sha256Text(formatSequentialTxt(sequences)),
    source: path,
    rawUserIds: [...userIndex.keys()],
    rawItemIds,
  };
}

/**
 * Writes a dataset's sequences as `sequential.txt` (`user item item ...`,
 * single spaces, one LF-terminated line per user).
 *
 * @example
 * ```ts ignore
 * import { writeSequentialTxt } from "./amazon_reader.ts";
 * import { generateSynthetic } from "./synthetic.ts";
 * await writeSequentialTxt(await generateSynthetic(), "/tmp/synthetic/sequential.txt");
 * ```
 */
export async function writeSequentialTxt(dataset: Dataset, path: string): Promise<void> {
  await Deno.writeTextFile(path, formatSequentialTxt(dataset.sequences));
}

/**
 * Reader of the P5 / POD / ELMRec dataset layout: a directory holding
 * `sequential.txt` (`user item item ...`, one line per user, items in time
 * order) and optionally `negative.txt` (`user neg ... neg`).
 *
 * Parsing walks the bytes once instead of splitting strings, so the 10 MB
 * negatives file of Toys costs tens of milliseconds, not a second of
 * garbage. Every rule the harness relies on downstream is checked here, and a
 * violation names the file, the 1-based line and the value.
 *
 * @module
 */

import type { Dataset, Ragged } from "./types.ts";
import { DataError, DataRangeError } from "./errors.ts";
import { datasetContentHash, datasetHash } from "./dataset_hash.ts";

/** Options of {@linkcode readDataset} and {@linkcode parseDataset}. */
export interface ReadDatasetOptions {
  /**
   * Read `negative.txt` when the directory has one.
   * @default true
   */
  negatives?: boolean;
  /**
   * How many negatives every line of `negative.txt` must hold; `"infer"`
   * takes the count of the first line and requires it of the others.
   * @default 99
   */
  negativesPerUser?: number | "infer";
  /**
   * Fewest items a user may have. Leave-one-out needs 3 (one to train on, one
   * to validate, one to test); the real datasets all have at least 5.
   * @default 3
   */
  minSequenceLength?: number;
  /**
   * Dataset name, also the folder part of file names in error messages.
   * @default the directory's base name for readDataset, "dataset" for parseDataset
   */
  name?: string;
  /**
   * Where the data came from, stored in `Dataset.source`.
   * @default the directory path for readDataset, "memory" for parseDataset
   */
  source?: string;
}

/** The raw bytes of a dataset's files, for {@linkcode parseDataset}. */
export interface DatasetFiles {
  readonly sequential: Uint8Array;
  readonly negative?: Uint8Array;
}

/** Lines of integers: line r holds `tokens[rowStart[r] .. rowStart[r+1])`. */
interface IntTable {
  readonly rows: number;
  /** 1-based line number of each row (rows and lines match one to one). */
  readonly lineNo: Uint32Array;
  readonly rowStart: Uint32Array;
  readonly tokens: Int32Array;
}

const SPACE = 32, TAB = 9, CR = 13, LF = 10, ZERO = 48;
// Nine digits always fit an Int32; ids are far below that.
const MAX_DIGITS = 9;

const decoder = new TextDecoder();

function isSeparator(c: number): boolean {
  return c === SPACE || c === TAB || c === CR || c === LF;
}

/** Throws the error for the bad token at `bytes[start..end)`. */
function badToken(
  bytes: Uint8Array,
  start: number,
  file: string,
  line: number,
  role: string,
): never {
  let end = start;
  while (end < bytes.length && !isSeparator(bytes[end])) end++;
  const text = decoder.decode(bytes.subarray(start, end));
  if (/^[0-9]+$/.test(text)) {
    throw new DataRangeError(file, line, text, `expected a ${role} below 10^9 but found "${text}"`);
  }
  throw new DataError(file, line, text, `expected an integer ${role} but found "${text}"`);
}

/**
 * Splits `bytes` into lines of unsigned integers. Spaces, tabs and CR all
 * separate tokens, which is what tolerating CRLF and ragged spacing needs.
 * One flat loop over the bytes: it gets optimised early, which matters for a
 * 10 MB file read once.
 */
function parseIntTable(bytes: Uint8Array, file: string, restRole: string): IntTable {
  const n = bytes.length;
  if (n === 0) throw new DataError(file, 1, "", "expected at least one line but the file is empty");
  let newlines = 0;
  for (let at = bytes.indexOf(LF); at !== -1; at = bytes.indexOf(LF, at + 1)) newlines++;
  const maxRows = newlines + 1;
  const lineNo = new Uint32Array(maxRows);
  const rowStart = new Uint32Array(maxRows + 1);
  // Every token takes at least one digit and one separator.
  const tokens = new Int32Array((n >> 1) + 1);
  let line = 1, rows = 0, nt = 0, begin = 0;
  let v = 0, start = -1; // start = first byte of the current token, -1 between tokens
  for (let i = 0; i <= n; i++) {
    const c = i < n ? bytes[i] : LF;
    const d = c - ZERO;
    if (d >= 0 && d <= 9) {
      if (start < 0) {
        start = i;
        v = d;
      } else v = v * 10 + d;
      continue;
    }
    if (c !== SPACE && c !== TAB && c !== CR && c !== LF) {
      // Back up to the token's first byte so the message shows all of it.
      let from = start >= 0 ? start : i;
      while (from > 0 && !isSeparator(bytes[from - 1])) from--;
      badToken(bytes, from, file, line, nt === begin ? "user id" : restRole);
    }
    if (start >= 0) {
      if (i - start > MAX_DIGITS) {
        badToken(bytes, start, file, line, nt === begin ? "user id" : restRole);
      }
      tokens[nt++] = v;
      start = -1;
    }
    if (c === LF) {
      if (nt === begin) {
        // A final LF ends the last line; it does not open an empty one.
        if (i === n && bytes[i - 1] === LF) break;
        throw new DataError(
          file,
          line,
          "",
          `expected "user ${restRole} ..." but found an empty line`,
        );
      }
      lineNo[rows] = line;
      rowStart[rows] = begin;
      rows++;
      begin = nt;
      line++;
    }
  }
  rowStart[rows] = nt;
  return { rows, lineNo, rowStart, tokens };
}

function rangeError(file: string) {
  return (line: number | undefined, value: number, detail: string) =>
    new DataRangeError(file, line, String(value), detail);
}

/** The first user in 1..nUsers that no row names; used to explain a bad id. */
function firstMissingUser(table: IntTable, nUsers: number): number {
  const seen = new Uint8Array(nUsers + 2);
  for (let r = 0; r < table.rows; r++) {
    const u = table.tokens[table.rowStart[r]];
    if (u >= 1 && u <= nUsers) seen[u] = 1;
  }
  let m = 1;
  while (m <= nUsers && seen[m] === 1) m++;
  return m;
}

function parseSequences(
  table: IntTable,
  file: string,
  minLength: number,
): { nUsers: number; nItems: number; sequences: Ragged } {
  const { rows, lineNo, rowStart, tokens } = table;
  const fail = rangeError(file);
  const nUsers = rows;
  const rowOfUser = new Int32Array(nUsers + 1).fill(-1);
  let maxItem = 0, maxItemRow = 0;
  for (let r = 0; r < rows; r++) {
    const s = rowStart[r], e = rowStart[r + 1];
    const u = tokens[s];
    if (u < 1 || u > nUsers) {
      const m = firstMissingUser(table, nUsers);
      throw fail(
        lineNo[r],
        u,
        `expected user ids 1..${nUsers} (one line per user) but found ${u}; user ${m} is missing`,
      );
    }
    if (rowOfUser[u] !== -1) {
      throw fail(lineNo[r], u, `user ${u} is listed twice (first on line ${lineNo[rowOfUser[u]]})`);
    }
    rowOfUser[u] = r;
    const count = e - s - 1;
    if (count < minLength) {
      throw fail(
        lineNo[r],
        count,
        `expected at least ${minLength} items for user ${u} but found ${count}`,
      );
    }
    for (let k = s + 1; k < e; k++) {
      const v = tokens[k];
      if (v < 1) {
        throw fail(lineNo[r], v, `expected item ids from 1 but found ${v}`);
      }
      if (v > maxItem) {
        maxItem = v;
        maxItemRow = r;
      }
    }
  }
  const nItems = maxItem;
  // Ids must be contiguous so that id-indexed tables have no dead rows.
  // A user repeating an item is accepted (the real data never does, but the
  // protocol does not break on it).
  const present = new Uint8Array(nItems + 1);
  for (let r = 0; r < rows; r++) {
    for (let k = rowStart[r] + 1; k < rowStart[r + 1]; k++) present[tokens[k]] = 1;
  }
  for (let m = 1; m <= nItems; m++) {
    if (present[m] === 0) {
      throw fail(
        lineNo[maxItemRow],
        nItems,
        `expected item ids 1..N without gaps but found ${nItems} here while item ${m} never appears`,
      );
    }
  }
  const offsets = new Uint32Array(nUsers + 1);
  for (let u = 1; u <= nUsers; u++) {
    const r = rowOfUser[u];
    offsets[u] = offsets[u - 1] + (rowStart[r + 1] - rowStart[r] - 1);
  }
  const values = new Int32Array(offsets[nUsers]);
  for (let u = 1; u <= nUsers; u++) {
    const r = rowOfUser[u];
    values.set(tokens.subarray(rowStart[r] + 1, rowStart[r + 1]), offsets[u - 1]);
  }
  return { nUsers, nItems, sequences: { offsets, values } };
}

function parseNegatives(
  table: IntTable,
  file: string,
  sequences: Ragged,
  nUsers: number,
  nItems: number,
  perUser: number | "infer",
): Ragged {
  const { rows, lineNo, rowStart, tokens } = table;
  const fail = rangeError(file);
  const expected = perUser === "infer" ? rowStart[1] - rowStart[0] - 1 : perUser;
  const rowOfUser = new Int32Array(nUsers + 1).fill(-1);
  // stamp[i] === u marks item i as one of user u's interactions: one shared
  // array, no per-user clearing.
  const stamp = new Int32Array(nItems + 1);
  for (let r = 0; r < rows; r++) {
    const s = rowStart[r], e = rowStart[r + 1];
    const u = tokens[s];
    const line = lineNo[r];
    if (u < 1 || u > nUsers) {
      throw fail(
        line,
        u,
        `expected a user id in 1..${nUsers} (the users of sequential.txt) but found ${u}`,
      );
    }
    if (rowOfUser[u] !== -1) {
      throw fail(line, u, `user ${u} is listed twice (first on line ${lineNo[rowOfUser[u]]})`);
    }
    rowOfUser[u] = r;
    const count = e - s - 1;
    if (count !== expected) {
      throw fail(line, count, `expected ${expected} negatives for user ${u} but found ${count}`);
    }
    for (let k = sequences.offsets[u - 1]; k < sequences.offsets[u]; k++) {
      stamp[sequences.values[k]] = u;
    }
    // A negative repeated within a line is kept as is: Toys' published file
    // has 15 such users and scoring must match it.
    for (let k = s + 1; k < e; k++) {
      const v = tokens[k];
      if (v < 1 || v > nItems) {
        throw fail(
          line,
          v,
          `expected negative item ids in 1..${nItems} but found ${v} for user ${u}`,
        );
      }
      if (stamp[v] === u) {
        throw fail(line, v, `negative item ${v} of user ${u} is one of the user's interactions`);
      }
    }
  }
  if (rows < nUsers) {
    const m = firstMissingUser(table, nUsers);
    throw fail(undefined, m, `expected a line for every user but user ${m} has none`);
  }
  const offsets = new Uint32Array(nUsers + 1);
  const values = new Int32Array(nUsers * expected);
  for (let u = 1; u <= nUsers; u++) {
    const r = rowOfUser[u];
    offsets[u] = u * expected;
    values.set(tokens.subarray(rowStart[r] + 1, rowStart[r + 1]), (u - 1) * expected);
  }
  return { offsets, values };
}

/**
 * Parses and validates a dataset from the bytes of its files.
 *
 * @example
 * ```ts
 * import { parseDataset } from "./dataset_reader.ts";
 * const bytes = new TextEncoder().encode("1 1 2 3\n2 2 3 4\n");
 * const ds = await parseDataset({ sequential: bytes }, { name: "tiny" });
 * console.log(ds.nUsers, ds.nItems); // 2 4
 * ```
 */
export async function parseDataset(
  files: DatasetFiles,
  options: ReadDatasetOptions = {},
): Promise<Dataset> {
  const name = options.name ?? "dataset";
  const minLength = options.minSequenceLength ?? 3;
  const perUser = options.negativesPerUser ?? 99;
  if (perUser !== "infer" && (!Number.isInteger(perUser) || perUser < 1)) {
    throw new RangeError(`Expected negativesPerUser >= 1 or "infer" but found ${perUser}`);
  }
  const seqFile = `${name}/sequential.txt`;
  const seqTable = parseIntTable(files.sequential, seqFile, "item id");
  const { nUsers, nItems, sequences } = parseSequences(seqTable, seqFile, minLength);
  const negBytes = options.negatives === false ? undefined : files.negative;
  let negatives: Ragged | undefined;
  if (negBytes !== undefined) {
    const negFile = `${name}/negative.txt`;
    const negTable = parseIntTable(negBytes, negFile, "negative item id");
    negatives = parseNegatives(negTable, negFile, sequences, nUsers, nItems, perUser);
  }
  const hash = await datasetContentHash(sequences, negatives);
  const rawHash = await datasetHash(files.sequential, negBytes);
  const source = options.source ?? "memory";
  return negatives === undefined
    ? { name, nUsers, nItems, sequences, hash, rawHash, source }
    : { name, nUsers, nItems, sequences, negatives, hash, rawHash, source };
}

function baseName(dir: string): string {
  const parts = dir.replace(/[\\/]+$/, "").split(/[\\/]/);
  return parts[parts.length - 1] || dir;
}

async function readOptional(path: string): Promise<Uint8Array | undefined> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * Reads a dataset directory (`sequential.txt`, optional `negative.txt`).
 * `name` is the directory's base name; `hash` is the sha256 of the parsed
 * content written canonically and `rawHash` that of the files' bytes
 * (`sequential.txt` then `negative.txt`); row `u - 1` holds user `u`.
 *
 * @example
 * ```ts ignore
 * import { readDataset } from "./dataset_reader.ts";
 * const beauty = await readDataset("/work/shared/data/beauty");
 * console.log(beauty.nUsers, beauty.nItems); // 22363 12101
 * ```
 */
export async function readDataset(dir: string, options: ReadDatasetOptions = {}): Promise<Dataset> {
  const trimmed = dir.replace(/[\\/]+$/, "") || dir;
  const expected =
    'expected a dataset folder holding sequential.txt ("user item item ...", one line per user) and optionally negative.txt';
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(trimmed);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`${dir} does not exist; ${expected}`);
    }
    throw e;
  }
  if (!info.isDirectory) {
    throw new TypeError(`${dir} is a file; ${expected} (give the folder, not a file in it)`);
  }
  const sequential = await Deno.readFile(`${trimmed}/sequential.txt`).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new Deno.errors.NotFound(`${trimmed}/sequential.txt does not exist; ${expected}`);
  });
  const negative = options.negatives === false
    ? undefined
    : await readOptional(`${trimmed}/negative.txt`);
  return parseDataset(
    negative === undefined ? { sequential } : { sequential, negative },
    { ...options, name: options.name ?? baseName(trimmed), source: options.source ?? dir },
  );
}

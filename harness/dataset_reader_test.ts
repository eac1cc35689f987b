import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { parseDataset, readDataset } from "./dataset_reader.ts";
import { DataError, DataRangeError, isDataError } from "./errors.ts";
import { sha256Hex } from "./dataset_hash.ts";
import { row } from "../kernels/mod.ts";

const fixtures = new URL("../tests/fixtures/", import.meta.url).pathname;
const enc = (s: string) => new TextEncoder().encode(s);
const TINY = "1 1 2 3 4\n2 5 2 6\n3 3 7 1 8 5\n";

/** Parses in memory and returns the error it must throw. */
async function failure(
  sequential: string,
  negative?: string,
): Promise<DataError | DataRangeError> {
  try {
    await parseDataset(
      negative === undefined
        ? { sequential: enc(sequential) }
        : { sequential: enc(sequential), negative: enc(negative) },
      { name: "tiny", negativesPerUser: 2 },
    );
  } catch (e) {
    if (isDataError(e)) return e;
    throw e;
  }
  throw new Error("expected a data error but parsing succeeded");
}

function expectError(
  e: DataError | DataRangeError,
  kind: typeof DataError | typeof DataRangeError,
  file: string,
  line: number | undefined,
  value: string,
  fragment: string,
) {
  ok(e instanceof kind, `expected ${kind.name} but got ${e.name}: ${e.message}`);
  strictEqual(e.file, file);
  strictEqual(e.line, line);
  strictEqual(e.value, value);
  const where = line === undefined ? `${file}: ` : `${file} line ${line}: `;
  ok(e.message.startsWith(where), e.message);
  ok(e.message.includes(fragment), e.message);
}

Deno.test("readDataset() reads the tiny fixture into CSR rows by user", async () => {
  const ds = await readDataset(`${fixtures}tiny`, { negativesPerUser: 2 });
  strictEqual(ds.name, "tiny");
  strictEqual(ds.nUsers, 3);
  strictEqual(ds.nItems, 8);
  deepStrictEqual(Array.from(ds.sequences.offsets), [0, 4, 7, 12]);
  deepStrictEqual(Array.from(row(ds.sequences, 2)), [3, 7, 1, 8, 5]);
  deepStrictEqual(Array.from(ds.negatives!.values), [5, 6, 1, 8, 2, 4]);
  strictEqual(ds.source, `${fixtures}tiny`);
});

Deno.test("readDataset() hashes sequential.txt then negative.txt, canonical as the fixture is", async () => {
  const seq = await Deno.readFile(`${fixtures}tiny/sequential.txt`);
  const neg = await Deno.readFile(`${fixtures}tiny/negative.txt`);
  const ds = await readDataset(`${fixtures}tiny/`, { negativesPerUser: 2 });
  strictEqual(ds.rawHash, await sha256Hex(seq, neg));
  // The fixture is written canonically, so its content hash is its bytes' hash.
  strictEqual(ds.hash, ds.rawHash);
  const noNeg = await readDataset(`${fixtures}tiny`, { negatives: false });
  strictEqual(noNeg.negatives, undefined);
  strictEqual(noNeg.hash, await sha256Hex(seq));
  strictEqual(noNeg.rawHash, noNeg.hash);
});

Deno.test("readDataset() infers the negative count from the first line on request", async () => {
  const ds = await readDataset(`${fixtures}tiny`, { negativesPerUser: "infer" });
  deepStrictEqual(Array.from(ds.negatives!.offsets), [0, 2, 4, 6]);
});

Deno.test("readDataset() tolerates tabs, runs of spaces, CRLF, no final newline and users out of order", async () => {
  const messy = await readDataset(`${fixtures}messy`);
  const tiny = await readDataset(`${fixtures}tiny`, { negatives: false });
  strictEqual(messy.name, "messy");
  deepStrictEqual(messy.sequences, tiny.sequences);
});

Deno.test("parseDataset() accepts a user repeating an item and a repeated negative", async () => {
  const ds = await parseDataset(
    { sequential: enc("1 1 2 1\n2 2 3 4\n"), negative: enc("1 3 3\n2 1 1\n") },
    { negativesPerUser: 2 },
  );
  deepStrictEqual(Array.from(ds.sequences.values), [1, 2, 1, 2, 3, 4]);
  deepStrictEqual(Array.from(ds.negatives!.values), [3, 3, 1, 1]);
});

Deno.test("parseDataset() names file, line and value of a non-integer token", async () => {
  const e = await failure("1 1 2 3\n2 4 12a 5\n");
  expectError(
    e,
    DataError,
    "tiny/sequential.txt",
    2,
    "12a",
    'expected an integer item id but found "12a"',
  );
  ok(e instanceof SyntaxError);
});

Deno.test("parseDataset() names a non-integer user id as a user id", async () => {
  const e = await failure("1 1 2 3\n-2 4 5 6\n");
  expectError(
    e,
    DataError,
    "tiny/sequential.txt",
    2,
    "-2",
    'expected an integer user id but found "-2"',
  );
});

Deno.test("parseDataset() rejects an id too large for an Int32", async () => {
  const e = await failure("1 1 2 3\n2 1 2 12345678901\n");
  expectError(e, DataRangeError, "tiny/sequential.txt", 2, "12345678901", "below 10^9");
  ok(e instanceof RangeError);
});

Deno.test("parseDataset() rejects an empty line but not a final newline", async () => {
  const e = await failure("1 1 2 3\n\n2 1 2 3\n");
  expectError(e, DataError, "tiny/sequential.txt", 2, "", "found an empty line");
  const blank = await failure("1 1 2 3\n  \t\r\n2 1 2 3\n");
  strictEqual(blank.line, 2);
});

Deno.test("parseDataset() rejects an empty file", async () => {
  const e = await failure("");
  expectError(e, DataError, "tiny/sequential.txt", 1, "", "the file is empty");
});

Deno.test("parseDataset() rejects a user listed twice", async () => {
  const e = await failure("1 1 2 3\n2 1 2 3\n1 3 2 1\n");
  expectError(
    e,
    DataRangeError,
    "tiny/sequential.txt",
    3,
    "1",
    "user 1 is listed twice (first on line 1)",
  );
});

Deno.test("parseDataset() names the missing user when users are not contiguous from 1", async () => {
  const e = await failure("1 1 2 3\n3 1 2 3\n4 1 2 3\n");
  expectError(e, DataRangeError, "tiny/sequential.txt", 3, "4", "user 2 is missing");
});

Deno.test("parseDataset() rejects a sequence shorter than 3 items", async () => {
  const e = await failure("1 1 2 3\n2 1 2\n");
  expectError(
    e,
    DataRangeError,
    "tiny/sequential.txt",
    2,
    "2",
    "expected at least 3 items for user 2 but found 2",
  );
});

Deno.test("parseDataset() rejects item id 0", async () => {
  const e = await failure("1 1 2 3\n2 1 0 3\n");
  expectError(
    e,
    DataRangeError,
    "tiny/sequential.txt",
    2,
    "0",
    "expected item ids from 1 but found 0",
  );
});

Deno.test("parseDataset() names a missing item id when ids have a gap", async () => {
  const e = await failure("1 1 2 4\n2 1 5 2\n3 4 2 1\n");
  expectError(e, DataRangeError, "tiny/sequential.txt", 2, "5", "item 3 never appears");
});

Deno.test("parseDataset() rejects negatives of an unknown user", async () => {
  const e = await failure(TINY, "1 5 6\n4 1 8\n3 2 4\n");
  expectError(e, DataRangeError, "tiny/negative.txt", 2, "4", "expected a user id in 1..3");
});

Deno.test("parseDataset() rejects a user listed twice in negative.txt", async () => {
  const e = await failure(TINY, "1 5 6\n1 7 8\n3 2 4\n");
  expectError(e, DataRangeError, "tiny/negative.txt", 2, "1", "user 1 is listed twice");
});

Deno.test("parseDataset() rejects a wrong negative count", async () => {
  const e = await failure(TINY, "1 5 6\n2 1\n3 2 4\n");
  expectError(
    e,
    DataRangeError,
    "tiny/negative.txt",
    2,
    "1",
    "expected 2 negatives for user 2 but found 1",
  );
});

Deno.test("parseDataset() rejects a negative id out of range", async () => {
  const e = await failure(TINY, "1 5 6\n2 1 9\n3 2 4\n");
  expectError(
    e,
    DataRangeError,
    "tiny/negative.txt",
    2,
    "9",
    "expected negative item ids in 1..8 but found 9",
  );
});

Deno.test("parseDataset() rejects a negative the user interacted with", async () => {
  const e = await failure(TINY, "1 5 6\n2 1 8\n3 2 7\n");
  expectError(
    e,
    DataRangeError,
    "tiny/negative.txt",
    3,
    "7",
    "negative item 7 of user 3 is one of the user's interactions",
  );
});

Deno.test("parseDataset() rejects a non-integer negative", async () => {
  const e = await failure(TINY, "1 5 6\n2 1 x8\n3 2 4\n");
  expectError(
    e,
    DataError,
    "tiny/negative.txt",
    2,
    "x8",
    'expected an integer negative item id but found "x8"',
  );
});

Deno.test("parseDataset() names a user with no line in negative.txt", async () => {
  const e = await failure(TINY, "1 5 6\n3 2 4\n");
  expectError(e, DataRangeError, "tiny/negative.txt", undefined, "2", "user 2 has none");
});

Deno.test("parseDataset() rejects a negativesPerUser below 1", async () => {
  await rejects(
    parseDataset({ sequential: enc(TINY) }, { negativesPerUser: 0 }),
    RangeError,
  );
});

Deno.test("readDataset() fails with NotFound when sequential.txt is absent", async () => {
  await rejects(readDataset(`${fixtures}amazon`), {
    name: "NotFound",
    message: `${fixtures}amazon/sequential.txt does not exist; expected a dataset folder holding ` +
      'sequential.txt ("user item item ...", one line per user) and optionally negative.txt',
  });
});

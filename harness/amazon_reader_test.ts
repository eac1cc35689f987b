import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { readAmazonReviews, writeSequentialTxt } from "./amazon_reader.ts";
import { readDataset } from "./dataset_reader.ts";
import { DataError } from "./errors.ts";
import { sha256File } from "./dataset_hash.ts";

const fixtures = new URL("../tests/fixtures/amazon/", import.meta.url).pathname;
const reviews = `${fixtures}reviews_Tiny_5.json`;

async function gzipTo(src: string, dst: string): Promise<void> {
  const input = await Deno.open(src);
  const output = await Deno.open(dst, { write: true, create: true, truncate: true });
  await input.readable
    .pipeThrough(new CompressionStream("gzip") as TransformStream<Uint8Array, Uint8Array>)
    .pipeTo(output.writable);
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("readAmazonReviews() numbers users and items by first appearance, sorted stably by time", async () => {
  const ds = await readAmazonReviews(reviews);
  strictEqual(ds.name, "tiny");
  strictEqual(ds.nUsers, 3);
  strictEqual(ds.nItems, 4);
  deepStrictEqual(ds.rawUserIds, ["A", "B", "C"]);
  deepStrictEqual(ds.rawItemIds, ["Y", "W", "X", "Z"]);
  deepStrictEqual(Array.from(ds.sequences.offsets), [0, 3, 6, 9]);
  // B's Y and X share a timestamp: file order (Y first) is kept.
  deepStrictEqual(Array.from(ds.sequences.values), [1, 2, 3, 2, 1, 3, 4, 3, 1]);
});

Deno.test("writeSequentialTxt() writes the P5 layout, and reading it back keeps the hash", async () => {
  await withTempDir(async (dir) => {
    const ds = await readAmazonReviews(reviews);
    await writeSequentialTxt(ds, `${dir}/sequential.txt`);
    strictEqual(
      await Deno.readTextFile(`${dir}/sequential.txt`),
      await Deno.readTextFile(`${fixtures}expected_sequential.txt`),
    );
    strictEqual(await sha256File(`${dir}/sequential.txt`), ds.hash);
    const back = await readDataset(dir);
    deepStrictEqual(back.sequences, ds.sequences);
    strictEqual(back.hash, ds.hash);
  });
});

Deno.test("readAmazonReviews() reads a gzipped file to the same dataset", async () => {
  await withTempDir(async (dir) => {
    const gz = `${dir}/reviews_Tiny_5.json.gz`;
    await gzipTo(reviews, gz);
    const plain = await readAmazonReviews(reviews);
    const zipped = await readAmazonReviews(gz);
    strictEqual(zipped.name, "tiny");
    deepStrictEqual(zipped.sequences, plain.sequences);
    strictEqual(zipped.hash, plain.hash);
  });
});

Deno.test("readAmazonReviews() names file, line and text of malformed JSON", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/reviews_Bad_5.json`;
    await Deno.writeTextFile(
      path,
      '{"reviewerID": "A", "asin": "X", "unixReviewTime": 1}\n{"reviewerID": "B", "asin"\n',
    );
    await rejects(readAmazonReviews(path), (e: unknown) => {
      ok(e instanceof DataError);
      strictEqual(e.file, "reviews_Bad_5.json");
      strictEqual(e.line, 2);
      ok(e.message.startsWith("reviews_Bad_5.json line 2: expected a JSON object"), e.message);
      ok(e.message.includes('{"reviewerID": "B", "asin"'), e.message);
      return true;
    });
  });
});

Deno.test("readAmazonReviews() names a missing field", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/reviews_Bad_5.json`;
    await Deno.writeTextFile(
      path,
      '{"reviewerID": "A", "asin": "X", "unixReviewTime": 1}\n\n{"reviewerID": "B", "unixReviewTime": 2}\n',
    );
    await rejects(readAmazonReviews(path), (e: unknown) => {
      ok(e instanceof DataError);
      strictEqual(e.line, 3);
      strictEqual(e.value, "nothing");
      strictEqual(
        e.message,
        'reviews_Bad_5.json line 3: expected a non-empty string "asin" but found nothing',
      );
      return true;
    });
  });
});

Deno.test("readAmazonReviews() rejects a non-integer time", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/reviews_Bad_5.json`;
    await Deno.writeTextFile(path, '{"reviewerID": "A", "asin": "X", "unixReviewTime": "soon"}\n');
    await rejects(readAmazonReviews(path), (e: unknown) => {
      ok(e instanceof DataError);
      strictEqual(e.line, 1);
      strictEqual(e.value, '"soon"');
      ok(e.message.includes('expected an integer "unixReviewTime" but found "soon"'), e.message);
      return true;
    });
  });
});

import { deepStrictEqual, notDeepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { itemPermutation, reindexItems } from "./reindex.ts";
import { readDataset } from "./dataset_reader.ts";
import { sha256TextSync } from "./dataset_hash.ts";
import { generateSynthetic } from "./synthetic.ts";

const fixtures = new URL("../tests/fixtures/", import.meta.url).pathname;

Deno.test("itemPermutation() is a bijection of 1..nItems", () => {
  const newId = itemPermutation(1000, 5);
  strictEqual(newId[0], 0);
  const sorted = Array.from(newId.subarray(1)).sort((a, b) => a - b);
  deepStrictEqual(sorted, Array.from({ length: 1000 }, (_, i) => i + 1));
  ok(newId.some((v, i) => i > 0 && v !== i), "the permutation is the identity");
});

Deno.test("reindexItems() maps sequences and negatives elementwise, users unchanged", async () => {
  const ds = await readDataset(`${fixtures}tiny`, { negativesPerUser: 2 });
  const re = reindexItems(ds, 11);
  const newId = itemPermutation(ds.nItems, 11);
  strictEqual(re.name, ds.name);
  strictEqual(re.nUsers, ds.nUsers);
  strictEqual(re.nItems, ds.nItems);
  deepStrictEqual(re.sequences.offsets, ds.sequences.offsets);
  deepStrictEqual(
    Array.from(re.sequences.values),
    Array.from(ds.sequences.values, (v) => newId[v]),
  );
  deepStrictEqual(
    Array.from(re.negatives!.values),
    Array.from(ds.negatives!.values, (v) => newId[v]),
  );
  // The input is not modified.
  deepStrictEqual(Array.from(ds.sequences.values), [1, 2, 3, 4, 5, 2, 6, 3, 7, 1, 8, 5]);
});

Deno.test("reindexItems() gives the same result for the same seed and another for another seed", async () => {
  const ds = await generateSynthetic({ users: 100, items: 60 });
  const a = reindexItems(ds, 1), b = reindexItems(ds, 1), c = reindexItems(ds, 2);
  deepStrictEqual(a.sequences, b.sequences);
  strictEqual(a.hash, b.hash);
  notDeepStrictEqual(a.sequences.values, c.sequences.values);
  ok(a.hash !== c.hash);
});

Deno.test("reindexItems() derives its hash from the original hash and the seed", async () => {
  const ds = await generateSynthetic({ users: 50, items: 40 });
  const re = reindexItems(ds, 3);
  strictEqual(re.hash, sha256TextSync(`${ds.hash}:reindex-random:3`));
  strictEqual(re.negatives, undefined);
});

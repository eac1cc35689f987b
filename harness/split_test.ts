import { strict as assert } from "node:assert";
import { tinyDataset } from "../tests/_helpers.ts";
import { buildSplitRaw, loadSplit } from "./split.ts";
import { row } from "../kernels/mod.ts";

const seqs = [[1, 2, 3, 4], [2, 3, 5, 6, 7], [1, 5, 6]];

Deno.test("buildSplitRaw() leaves the last two items out: train items[:-2], valid [-2], test [-1]", () => {
  const split = buildSplitRaw(tinyDataset(seqs, { nItems: 200 }));
  assert.deepEqual(Array.from(row(split.train, 0)), [1, 2]);
  assert.deepEqual(Array.from(row(split.train, 1)), [2, 3, 5]);
  assert.deepEqual(Array.from(row(split.train, 2)), [1]);
  assert.deepEqual(Array.from(split.valid), [3, 6, 5]);
  assert.deepEqual(Array.from(split.test), [4, 7, 6]);
});

Deno.test("seeded negatives are 99 distinct items the user never touched, and repeat per seed", () => {
  const data = tinyDataset(seqs, { nItems: 200 });
  const a = buildSplitRaw(data, { seed: 3 });
  const b = buildSplitRaw(data, { seed: 3 });
  const c = buildSplitRaw(data, { seed: 4 });
  assert.deepEqual(a.testNegatives, b.testNegatives);
  assert.notDeepEqual(a.testNegatives, c.testNegatives);
  assert.notDeepEqual(a.testNegatives, a.validNegatives);
  for (let u = 0; u < 3; u++) {
    for (const negs of [a.testNegatives, a.validNegatives]) {
      const mine = negs.subarray(u * 99, (u + 1) * 99);
      assert.equal(new Set(mine).size, 99);
      for (const n of mine) {
        assert.ok(n >= 1 && n <= 200);
        assert.ok(!seqs[u].includes(n), `negative ${n} of user ${u + 1} is a positive`);
      }
    }
  }
  assert.equal(a.testNegativeSource, "seeded");
});

Deno.test("negatives from negative.txt are used as they are, duplicates kept", () => {
  const negatives = [[9, 9, 10], [11, 12, 13], [14, 15, 16]];
  const split = buildSplitRaw(tinyDataset(seqs, { nItems: 20, negatives }));
  assert.equal(split.negativesPerUser, 3);
  assert.deepEqual(Array.from(split.testNegatives), negatives.flat());
  assert.equal(split.testNegativeSource, "negative.txt");
  // Validation negatives are still a separate seeded draw of the same size.
  assert.equal(split.validNegatives.length, 9);
});

Deno.test("a user with too few untouched items for 99 negatives is an error naming the user", () => {
  assert.throws(() => buildSplitRaw(tinyDataset(seqs, { nItems: 50 })), /user 1/);
});

Deno.test("loadSplit() round-trips through the Arrow cache byte-identically", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = tinyDataset(seqs, { nItems: 200 });
    const first = await loadSplit(data, { seed: 1, cacheDir: dir });
    const files = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.equal(files.length, 1);
    assert.match(files[0], /\.arrow$/);
    const second = await loadSplit(data, { seed: 1, cacheDir: dir });
    assert.equal(second.hash, first.hash);
    assert.deepEqual(second.train, first.train);
    assert.equal(second.train.offsets.length, data.nUsers + 1);
    assert.deepEqual(second.testNegatives, first.testNegatives);
    assert.deepEqual(second.validNegatives, first.validNegatives);
    assert.deepEqual(second.test, first.test);
    assert.equal(second.testNegativeSource, "seeded");
    assert.equal(first.hash.length, 64);
    // A cache file of other data is refused, not used.
    const other = { ...data, hash: "different" };
    await Deno.rename(`${dir}/${files[0]}`, `${dir}/tiny-different-seed1.arrow`);
    await assert.rejects(() => loadSplit(other, { seed: 1, cacheDir: dir }), /dataset hash/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

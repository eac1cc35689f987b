import { ok, strictEqual } from "node:assert/strict";
import { datasetStats, formatStats } from "./dataset_stats.ts";
import { readDataset } from "./dataset_reader.ts";
import { sha256File } from "./dataset_hash.ts";

const fixtures = new URL("../tests/fixtures/", import.meta.url).pathname;

function realDataDir(): string | undefined {
  const dir = Deno.env.get("ELMBENCH_DATA");
  if (!dir) {
    console.log("skipping real-data dataset tests: ELMBENCH_DATA is not set");
    return undefined;
  }
  try {
    Deno.statSync(`${dir}/SOURCES.md`);
    return dir;
  } catch {
    console.log(`skipping real-data dataset tests: ${dir}/SOURCES.md does not exist`);
    return undefined;
  }
}
const dataDir = realDataDir();

/** The sha256 column of SOURCES.md's table, by file (`beauty/sequential.txt`). */
async function publishedHashes(): Promise<Map<string, string>> {
  const text = await Deno.readTextFile(`${dataDir}/SOURCES.md`);
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^\| (\S+\.txt) \|.*\| ([0-9a-f]{64}) \|$/gm)) out.set(m[1], m[2]);
  return out;
}

Deno.test("datasetStats() on the tiny fixture matches hand-computed values", async () => {
  const stats = datasetStats(await readDataset(`${fixtures}tiny`, { negativesPerUser: 2 }));
  strictEqual(stats.name, "tiny");
  strictEqual(stats.users, 3);
  strictEqual(stats.items, 8);
  strictEqual(stats.interactions, 12); // 4 + 3 + 5
  strictEqual(stats.sparsity, 0.5); // 1 - 12 / (3 * 8)
  strictEqual(stats.minLength, 3);
  strictEqual(stats.meanLength, 4);
  strictEqual(stats.maxLength, 5);
  strictEqual(stats.hasNegatives, true);
});

Deno.test("formatStats() aligns values with thousands separators", () => {
  const text = formatStats({
    name: "beauty",
    users: 22363,
    items: 12101,
    interactions: 198502,
    sparsity: 0.9992664772,
    minLength: 5,
    meanLength: 8.876,
    maxLength: 204,
    hasNegatives: false,
    hash: "abc",
  });
  strictEqual(
    text,
    [
      "dataset       beauty",
      "users           22,363",
      "items           12,101",
      "interactions   198,502",
      "sparsity      99.9266%",
      "min length           5",
      "mean length       8.88",
      "max length         204",
      "negatives     none (seeded draw)",
      "sha256        abc",
    ].join("\n"),
  );
});

const REAL = [
  { name: "beauty", users: 22363, items: 12101, interactions: 198502, negatives: false },
  { name: "sports", users: 35598, items: 18357, interactions: 296337, negatives: false },
  { name: "toys", users: 19412, items: 11924, interactions: 167597, negatives: true },
];

for (const want of REAL) {
  Deno.test({
    name: `datasetStats() on ${want.name} matches the published counts and sha256`,
    ignore: dataDir === undefined,
    fn: async () => {
      const t0 = performance.now();
      const ds = await readDataset(`${dataDir}/${want.name}`);
      const ms = performance.now() - t0;
      const stats = datasetStats(ds);
      console.log(`${formatStats(stats)}\nread in ${ms.toFixed(0)} ms`);
      strictEqual(stats.users, want.users);
      strictEqual(stats.items, want.items);
      strictEqual(stats.interactions, want.interactions);
      strictEqual(stats.hasNegatives, want.negatives);
      ok(stats.minLength >= 5);
      const published = await publishedHashes();
      const seqFile = `${want.name}/sequential.txt`;
      strictEqual(await sha256File(`${dataDir}/${seqFile}`), published.get(seqFile));
      if (want.negatives) {
        const negFile = `${want.name}/negative.txt`;
        strictEqual(await sha256File(`${dataDir}/${negFile}`), published.get(negFile));
        strictEqual(ds.negatives!.values.length, want.users * 99);
      } else {
        strictEqual(stats.hash, published.get(seqFile));
      }
    },
  });
}

/**
 * `deno bench` of reading a real dataset (`ELMBENCH_DATA`, Beauty and Toys):
 * `readDataset` (parsing, validation with line-numbered errors, hashing)
 * against the floor of any reader: the same files read and split into
 * numbers.
 * Replaces the old "under 2 s" assertion in the tests, which failed on a
 * loaded machine rather than on a slow reader.
 *
 * @module
 */

import { readDataset } from "./dataset_reader.ts";

const dataDir = Deno.env.get("ELMBENCH_DATA");
if (!dataDir) console.error("dataset_reader_bench: ELMBENCH_DATA is not set; nothing to measure");

for (const name of dataDir ? ["beauty", "toys"] : []) {
  const dir = `${dataDir}/${name}`;
  const group = `read ${name}`;
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((f) => f.endsWith(".txt"));
  Deno.bench(`text split into numbers (floor), ${name}`, { group, baseline: true }, async () => {
    let sum = 0;
    for (const file of files) {
      const text = await Deno.readTextFile(`${dir}/${file}`);
      for (const line of text.split("\n")) for (const t of line.split(" ")) sum += Number(t) || 0;
    }
    if (sum < 0) throw new Error("unreachable");
  });
  Deno.bench(`readDataset(), ${name}`, { group, n: 5 }, async () => {
    await readDataset(dir);
  });
}

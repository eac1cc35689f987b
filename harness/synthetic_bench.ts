/**
 * `deno bench` of the embedded default data: `generateSynthetic()` (600
 * users, 400 items, hashing included) against the floor of drawing as many
 * seeded random numbers as it has interactions times three. It used to be
 * an "under 100 ms" assertion in the tests, which a loaded machine could fail.
 *
 * @module
 */

import { createRng } from "../kernels/mod.ts";
import { generateSynthetic } from "./synthetic.ts";

const draws = 3 * (await generateSynthetic()).sequences.values.length;

Deno.bench(`${draws} seeded draws (floor)`, { group: "synthetic", baseline: true }, () => {
  const rng = createRng(0);
  let sum = 0;
  for (let i = 0; i < draws; i++) sum += rng.int(400);
  if (sum < 0) throw new Error("unreachable");
});
Deno.bench("generateSynthetic() at the default size", { group: "synthetic" }, async () => {
  await generateSynthetic();
});

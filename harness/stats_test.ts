import { strict as assert } from "node:assert";
import { pairedTTest } from "./stats.ts";

Deno.test("pairedTTest() matches a hand computation", () => {
  // Differences 1, 2, 3, 4, 5: mean 3, sd sqrt(2.5), t = 3 / (sqrt(2.5)/sqrt(5)) = 4.2426...
  const a = Float64Array.of(2, 4, 6, 8, 10);
  const b = Float64Array.of(1, 2, 3, 4, 5);
  const r = pairedTTest(a, b);
  assert.ok(Math.abs(r.t - 3 / Math.sqrt(0.5)) < 1e-12);
  assert.equal(r.degreesOfFreedom, 4);
  // Two-sided p for t = 4.2426 with 4 df (scipy.stats.t.sf(4.2426, 4) * 2 = 0.013236).
  assert.ok(Math.abs(r.p - 0.013236) < 1e-5, `p = ${r.p}`);
});

Deno.test("pairedTTest() gives p = 1 for identical samples and refuses unequal lengths", () => {
  assert.equal(pairedTTest(Float64Array.of(1, 0, 1), Float64Array.of(1, 0, 1)).p, 1);
  assert.throws(() => pairedTTest(Float64Array.of(1, 2), Float64Array.of(1)), /equal length/);
});

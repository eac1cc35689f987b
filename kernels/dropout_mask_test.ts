/**
 * The in-graph dropout hash: ORT computes exactly the integers a BigInt
 * reference computes, and the keep bits behave like independent coin flips
 * (rate, neighbours, sites, seeds).
 */
import assert from "node:assert/strict";
import { DROPOUT_SEED, MASK_MODULUS, maskHash, siteConstant } from "./dropout_mask.ts";
import { Graph } from "./graph.ts";
import { ParamStore } from "./param_store.ts";
import { compileInference } from "./step.ts";

const M = BigInt(MASK_MODULUS);

/** The hash of element `i` at `site` under `seed`, in BigInt (no overflow possible). */
function reference(seed: bigint, site: string, i: bigint): bigint {
  const base = (seed * 48271n + BigInt(siteConstant(site))) % M;
  const a = (base + i * 16807n) % M;
  const b = (a * a + 11n) % M;
  return (b * b + a) % M;
}

async function hashes(shape: number[], site: string, seed: bigint): Promise<BigInt64Array> {
  const g = new Graph();
  const h = maskHash(g, site, shape);
  const infer = await compileInference({ h }, new ParamStore());
  return (await infer.run({ [DROPOUT_SEED]: BigInt64Array.of(seed) })).h.data as BigInt64Array;
}

Deno.test("ORT's int64 hash equals the BigInt reference element for element", async () => {
  const shape = [3, 5, 7];
  const got = await hashes(shape, "enc.0.ff", 123456789n);
  got.forEach((v, i) =>
    assert.equal(v, reference(123456789n, "enc.0.ff", BigInt(i)), `element ${i}`)
  );
});

/** Keep bits at p (as dropout draws them) of a flat site. */
async function bits(n: number, site: string, seed: bigint, p: number): Promise<Uint8Array> {
  const h = await hashes([n], site, seed);
  const threshold = BigInt(Math.floor(p * MASK_MODULUS));
  return Uint8Array.from(h, (v) => (v > threshold ? 1 : 0));
}

function correlation(x: Uint8Array, y: Uint8Array): number {
  const n = x.length;
  const mx = x.reduce((s, v) => s + v, 0) / n, my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

Deno.test("keep bits: rate p, and no correlation between neighbours, sites or seeds", async () => {
  const n = 200_000, p = 0.1;
  const a = await bits(n, "enc.0.attn", 42n, p);
  const rate = a.reduce((s, v) => s + v, 0) / n;
  // Binomial sd at n = 2e5, p = 0.1: 6.7e-4; allow 5 sd.
  assert.ok(Math.abs(rate - (1 - p)) < 3.5e-3, `keep rate ${rate}`);
  // Correlations of independent bits have sd 1/sqrt(n) = 2.2e-3; allow 5 sd.
  const bound = 5 / Math.sqrt(n);
  for (const lag of [1, 2, 512, 2048]) {
    const r = correlation(a.subarray(0, n - lag), a.subarray(lag));
    assert.ok(Math.abs(r) < bound, `lag ${lag}: r = ${r}`);
  }
  const otherSite = await bits(n, "enc.1.attn", 42n, p);
  const otherSeed = await bits(n, "enc.0.attn", 43n, p);
  assert.ok(Math.abs(correlation(a, otherSite)) < bound, "two sites, one seed");
  assert.ok(Math.abs(correlation(a, otherSeed)) < bound, "one site, two seeds");
});

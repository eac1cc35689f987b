import assert from "node:assert/strict";
import { bucketMatrix, relativePositionBucket } from "./relative_position.ts";

Deno.test("encoder buckets (bidirectional, 32, 128) match hand-computed HF values", () => {
  // num_buckets 16 per direction, max_exact 8, log-spaced up to distance 128.
  const cases: [number, number][] = [
    [0, 0],
    [-3, 3],
    [3, 19],
    [-7, 7],
    [-8, 8], // 8 + floor(log(1) / log(16) * 8)
    [-16, 10], // 8 + floor(log(2) / log(16) * 8) = 8 + 2
    [-20, 10], // 8 + floor(2.64)
    [-64, 14], // 8 + floor(0.75 * 8)
    [-127, 15],
    [-500, 15],
    [200, 31],
  ];
  for (const [rel, bucket] of cases) {
    assert.equal(relativePositionBucket(rel), bucket, `rel ${rel}`);
  }
});

Deno.test("decoder buckets (causal) map future positions to 0 and saturate at 31", () => {
  const dec = (r: number) => relativePositionBucket(r, { bidirectional: false });
  assert.equal(dec(5), 0);
  assert.equal(dec(-5), 5);
  assert.equal(dec(-16), 16);
  assert.equal(dec(-32), 21); // 16 + floor(log(2) / log(8) * 16)
  assert.equal(dec(-128), 31);
});

Deno.test("bucketMatrix() uses key minus query positions", () => {
  assert.deepEqual(bucketMatrix(2, 3), [0, 17, 18, 1, 0, 17]);
});

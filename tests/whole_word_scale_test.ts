import assert from "node:assert/strict";
import { rowsRms } from "../examples/whole_word_scale.ts";

Deno.test("rowsRms: RMS per dimension over a row range, hand-computed", () => {
  // Rows [3, 4], [0, 0], [1, 1] of a 2-column table.
  const x = Float32Array.of(3, 4, 0, 0, 1, 1);
  assert.equal(rowsRms(x, 2, 0, 1), Math.sqrt(25 / 2));
  assert.equal(rowsRms(x, 2, 1, 3), Math.sqrt(2 / 4));
  assert.equal(rowsRms(x, 2, 0, 3), Math.sqrt(27 / 6));
});

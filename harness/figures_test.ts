import assert from "node:assert/strict";
import { countMarks, svgToPng } from "./figures.ts";
import { renderSweep, type SweepRow, writeSweepFigure } from "./cmd_sweep.ts";

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];

Deno.test("writeSweepFigure() writes a non-empty SVG, PNG and spec with one point per value and metric", async () => {
  const dir = await Deno.makeTempDir();
  const rows: SweepRow[] = [1, 2, 3, 4, 5].map((v) => ({
    value: String(v),
    seeds: 1,
    metrics: { "HR@10": 0.1 * v, "NDCG@10": 0.05 * v },
  }));
  const paths = await writeSweepFigure(rows, "sigma", ["HR@10", "NDCG@10"], `${dir}/f`, "t");
  const svg = await Deno.readTextFile(paths.svg);
  const png = await Deno.readFile(paths.png);
  assert.ok(svg.length > 1000 && png.length > 1000);
  assert.deepEqual([...png.slice(0, 4)], PNG_MAGIC);
  assert.equal(countMarks(svg, "symbol"), 10);
  assert.equal(countMarks(svg, "line"), 2);
  const spec = JSON.parse(await Deno.readTextFile(paths.spec));
  assert.equal(spec.data.values.length, 10);
  assert.deepEqual(
    new Set(spec.data.values.map((p: { series: string }) => p.series)),
    new Set(["HR@10", "NDCG@10"]),
  );
  assert.match(renderSweep(rows, "sigma", ["HR@10"]), /\| 3 \| 1 \| 0\.3000 \|/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("svgToPng() rasterises an SVG to PNG bytes", async () => {
  const png = await svgToPng(
    '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4" fill="red"/></svg>',
  );
  assert.deepEqual([...png.slice(0, 4)], PNG_MAGIC);
});

/**
 * `elmbench sweep` end to end: a built-in plugin trained per value, its
 * table and its figure.
 */
import assert from "node:assert/strict";
import { sweepCommand } from "../harness/cmd_sweep.ts";
import { countMarks } from "../harness/figures.ts";
import { BUILTIN_PLUGINS } from "../plugins.ts";

Deno.test("elmbench sweep runs a plugin per value and writes its figure", async () => {
  const dir = await Deno.makeTempDir();
  const log = console.log;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    await sweepCommand([
      ...["--model", "bprmf", "--param", "dim", "--values", "4,8,16"],
      ...["--data", "synthetic", "--synthetic", "users=120,items=150", "--task", "direct"],
      ...["--preset", "tiny", "--set", "epochs=2", "--out", dir],
    ], BUILTIN_PLUGINS);
  } finally {
    console.log = log;
  }
  const text = lines.join("\n");
  assert.match(text, /\| dim \| seeds \| HR@5 \| NDCG@5 \| HR@10 \| NDCG@10 \|/);
  for (const v of ["4", "8", "16"]) assert.match(text, new RegExp(`\\| ${v} \\| 1 \\|`));
  const svg = await Deno.readTextFile(`${dir}/sweep-dim.svg`);
  assert.equal(countMarks(svg, "symbol"), 6);
  assert.ok((await Deno.stat(`${dir}/sweep-dim.png`)).size > 1000);
  await Deno.remove(dir, { recursive: true });
});

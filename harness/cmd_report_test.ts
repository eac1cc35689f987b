import assert from "node:assert/strict";
import { join } from "node:path";
import { UsageError } from "./cli_args.ts";
import { reportCommand } from "./cmd_report.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const TINY = join(ROOT, "results/tiny_synthetic.jsonl");

Deno.test("report writes a page whose every script and link is a file beside it", async () => {
  const dir = await Deno.makeTempDir();
  const embed = join(dir, "beauty-embed-trained.png");
  await Deno.copyFile(join(ROOT, "results/figures/beauty-embed-trained.png"), embed);
  const index = await reportCommand([TINY, embed, "--out", join(dir, "site"), "--no-published"]);
  assert.equal(index, join(dir, "site/index.html"));
  const html = await Deno.readTextFile(index!);
  const refs = [...html.matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => m[1]);
  assert.deepEqual(refs.sort(), [
    "assets/site_app.js",
    "assets/site_style.css",
    "assets/vega-embed.min.js",
    "assets/vega-lite.min.js",
    "assets/vega.min.js",
    "figures/beauty-embed-trained.png",
    "figures/beauty-embed-trained.png",
  ]);
  for (const ref of new Set(refs)) assert.ok((await Deno.stat(join(dir, "site", ref))).size > 1000);
  // Scripts in load order: vega-embed needs vega and vega-lite first.
  const scripts = [...html.matchAll(/<script src="assets\/([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(scripts, [
    "vega.min.js",
    "vega-lite.min.js",
    "vega-embed.min.js",
    "site_app.js",
  ]);
  assert.match(html, /No published rows \(--no-published\)/);
  assert.match(html, /<img src="figures\/beauty-embed-trained.png"/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("report names a missing input and refuses inputs without records", async () => {
  await assert.rejects(
    () => reportCommand(["results/nope.jsonl", "--out", "/tmp/x"]),
    (e: Error) => e instanceof UsageError && /results\/nope\.jsonl does not exist/.test(e.message),
  );
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "empty.jsonl"), "\n");
  await assert.rejects(
    () => reportCommand([join(dir, "empty.jsonl"), "--out", join(dir, "site")]),
    /no result records in .*empty\.jsonl/,
  );
  await assert.rejects(() => reportCommand(["--out", dir]), /at least one results file/);
  await Deno.remove(dir, { recursive: true });
});

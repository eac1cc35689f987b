import assert from "node:assert/strict";
import type { PublishedRow } from "./report_model.ts";
import { renderTable } from "./report_render.ts";
import { readResults } from "./results.ts";
import type { SourcedRecord } from "./significance.ts";
import { escapeHtml, inlineJson, pageHtml } from "./site_html.ts";
import { siteTable } from "./site_tables.ts";

const ROOT = new URL("../", import.meta.url).pathname;

async function sources(...paths: string[]): Promise<SourcedRecord[]> {
  const out: SourcedRecord[] = [];
  for (const path of paths) {
    for (const record of await readResults(`${ROOT}${path}`)) out.push({ record, path });
  }
  return out;
}

const PUBLISHED: PublishedRow[] = [
  {
    task: "direct",
    dataset: "synthetic",
    method: "P5",
    metric: "HR@10",
    value: 0.25,
    source: "test",
  },
  {
    task: "direct",
    dataset: "synthetic",
    method: "P5",
    metric: "NDCG@10",
    value: 0.9,
    source: "t",
  },
];

/** The cells of a Markdown table line, without the bars. */
function mdCells(line: string): string[] {
  return line.split("|").slice(1, -1).map((c) => c.trim());
}

Deno.test("siteTable() shows the text `table` prints in every cell, marks and all", async () => {
  const all = await sources("results/tiny_synthetic.jsonl", "tests/fixtures/report/leaks.jsonl");
  const table = (await siteTable(all, "table2", { published: PUBLISHED, ours: "elmrec" }))!;
  const md = renderTable(table.model, "md").split("\n").filter((l) => l.startsWith("| "));
  const rows = [...table.html.matchAll(/<tr data-row="\d+"[^>]*>(.*?)<\/tr>/g)].map((m) =>
    [...m[1].matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/g)].map((c) =>
      c[1].replace(/<strong>(.*)<\/strong>/, "**$1**").replace(/<u>(.*)<\/u>/, "<u>$1</u>")
        .replace(/ <span class="tag">\(published\)<\/span>/, " (published)")
    )
  );
  // md lines that start with "| ": the header, one line per row, the improvement row.
  assert.equal(rows.length, md.length - 2);
  rows.forEach((row, i) => assert.deepEqual(row, mdCells(md[i + 1])));
  assert.deepEqual(rows[0].slice(0, 2), ["pop", "0.1250"]);
  assert.deepEqual(rows.at(-1), ["P5 (published)", "–", "–", "–", "0.2500", "0.9000"]);
  const foot = table.html.match(/<tr class="improvement">(.*?)<\/tr>/)![1];
  assert.deepEqual(
    [...foot.matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/g)].map((c) => c[1]).slice(1),
    mdCells(md.at(-1)!).slice(1),
  );
});

Deno.test("siteTable() knows the records behind each of our cells and the source of published ones", async () => {
  const all = await sources("results/tiny_synthetic.jsonl", "tests/fixtures/report/leaks.jsonl");
  const table = (await siteTable(all, "table3", { published: PUBLISHED }))!;
  const i = table.model.rows.findIndex((r) => r.method === "idleak (reindex=random)");
  const j = table.model.columns.findIndex((c) => c.metric === "NDCG@10");
  const source = table.cells[`table3:${i}:${j}`] as { records: number[] };
  assert.equal(source.records.length, 1);
  const r = all[source.records[0]].record;
  assert.deepEqual([r.plugin, r.reindex, r.task], ["idleak", "random", "sequential"]);
  assert.equal(r.metrics["NDCG@10"], table.model.rows[i].cells[j]!.mean);
  // No published row of the sequential task was given.
  assert.ok(!table.model.rows.some((row) => row.published));
  const direct = (await siteTable(all, "table2", { published: PUBLISHED }))!;
  const p = direct.model.rows.findIndex((row) => row.published);
  assert.deepEqual(direct.cells[`table2:${p}:3`], { published: { source: "test" } });
  assert.equal(await siteTable(all.filter((s) => s.record.task === "direct"), "table3"), null);
});

Deno.test("the page's text and inline data cannot break out of their elements", () => {
  assert.equal(escapeHtml(`a<b>&"c"`), "a&lt;b&gt;&amp;&quot;c&quot;");
  const json = inlineJson({ s: "</script><script>alert(1)</script>" });
  assert.ok(!json.includes("</script>"));
  assert.deepEqual(JSON.parse(json), { s: "</script><script>alert(1)</script>" });
  const html = pageHtml({
    title: "t <1>",
    summary: "",
    sections: [{ id: "s", title: "S", html: "<p>x</p>" }],
    scripts: ["a.js", "b.js"],
    stylesheet: "c.css",
    data: { x: "</script>" },
  });
  assert.match(html, /<title>t &lt;1&gt;<\/title>/);
  assert.equal(html.match(/<\/script>/g)!.length, 3);
  assert.ok(html.indexOf("assets/a.js") < html.indexOf("assets/b.js"));
});

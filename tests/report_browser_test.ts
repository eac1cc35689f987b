/**
 * The report in a real browser: `elmbench report` on the tiny synthetic
 * records, a sweep and the leak fixtures, opened from disk in headless
 * Chromium. Its tables are read from the DOM and compared with `elmbench
 * table --format json` on the same records; every chart must have drawn an
 * SVG with marks; the page must log no error and ask for nothing but files.
 * Ignored, saying why, where no Chromium is installed (`.ci/run` installs
 * Debian's).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { reportCommand } from "../harness/cmd_report.ts";
import type { TableModel } from "../harness/report_model.ts";
import { label, percent, value } from "../harness/report_render.ts";
import { TABLE_DEFAULTS } from "../plugins.ts";
import { findChromium, openFile, waitForCharts } from "./_chromium.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const INPUTS = [
  "results/tiny_synthetic.jsonl",
  "tests/fixtures/report/sweep_bprmf_dim.jsonl",
  "tests/fixtures/report/leaks.jsonl",
].map((p) => join(ROOT, p));

const chromium = findChromium();
if (!chromium) {
  console.log(
    "report_browser_test: no Chromium (looked for $CHROMIUM, /usr/bin/chromium, ...), so the " +
      "browser test is ignored; `apt-get install chromium` (as .ci/run does) to run it",
  );
}

/** Published rows of the synthetic data, so that the page has published rows to mark. */
const PUBLISHED = {
  rows: [
    {
      task: "direct",
      dataset: "synthetic",
      method: "P5",
      metric: "HR@10",
      value: 0.25,
      source: "fixture A",
    },
    {
      task: "direct",
      dataset: "synthetic",
      method: "P5",
      metric: "NDCG@10",
      value: 0.125,
      source: "fixture A",
    },
    {
      task: "sequential",
      dataset: "synthetic",
      method: "S3-Rec",
      metric: "NDCG@10",
      value: 0.05,
      source: "fixture B",
    },
  ],
};

/** `elmbench table --format json` as a researcher would run it. */
async function tableJson(layout: string, published: string): Promise<TableModel> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      "--allow-run",
      join(ROOT, "cli.ts"),
      "table",
      ...INPUTS,
      "--layout",
      layout,
      "--format",
      "json",
      "--with-published",
      published,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

interface DomRow {
  readonly label: string;
  readonly published: boolean;
  readonly cells: { text: string; strong: boolean; u: boolean; v: string | null }[];
}

Deno.test({
  name:
    "the report opens from disk in Chromium with the tables `table` prints and every chart drawn",
  ignore: chromium === null,
  // Playwright's pipes to the browser close after the test's own checks.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const started = performance.now();
    const dir = await Deno.makeTempDir({ prefix: "elmbench-report-" });
    const published = join(dir, "published.json");
    await Deno.writeTextFile(published, JSON.stringify(PUBLISHED));
    // As cli.ts runs it: the face hands the report the tables' row order and method under test.
    const index = await reportCommand([
      ...INPUTS,
      "--out",
      join(dir, "site"),
      "--published",
      published,
    ], TABLE_DEFAULTS);
    assert.equal(index, join(dir, "site", "index.html"));
    const opened = await openFile(index!, { width: 1400 });
    try {
      assert.equal(await waitForCharts(opened), "done");
      const { page } = opened;
      for (const layout of ["table2", "table3"]) {
        const model = await tableJson(layout, published);
        const rows: DomRow[] = await page.$$eval(
          `table#${layout} tbody tr`,
          (trs) =>
            trs.map((tr) => ({
              label: tr.querySelector("th")!.textContent!,
              published: tr.classList.contains("published"),
              cells: [...tr.querySelectorAll("td")].map((td) => ({
                text: td.textContent!,
                strong: td.querySelector("strong") !== null,
                u: td.querySelector("u") !== null,
                v: td.getAttribute("data-v"),
              })),
            })),
        );
        assert.equal(rows.length, model.rows.length, `${layout}: rows`);
        model.rows.forEach((row, i) => {
          assert.equal(rows[i].label, label(row));
          assert.equal(rows[i].published, row.published);
          row.cells.forEach((cell, j) => {
            const dom = rows[i].cells[j];
            assert.equal(dom.text, value(cell), `${layout} ${row.method} column ${j}`);
            assert.equal(dom.v === null ? null : Number(dom.v), cell?.mean ?? null);
            assert.equal(dom.strong, row.rank[j] === 1);
            assert.equal(dom.u, row.rank[j] === 2);
          });
        });
        const improvement = await page.$$eval(
          `table#${layout} tfoot td`,
          (tds) => tds.map((td) => td.textContent),
        );
        assert.deepEqual(
          improvement,
          model.improvement!.values.map((v, j) => percent(v, model.improvement!.p?.[j])),
        );
      }
      // Real values, read off the page.
      const pop = await page.$eval("table#table2 tbody tr[data-row='0']", (tr) => tr.textContent);
      assert.equal(pop, "pop0.12500.30670.21880.44030.2621");
      assert.deepEqual(
        await page.$$eval("table#table2 tr.published", (trs) => trs.map((tr) => tr.textContent)),
        ["P5 (published)–––0.25000.1250"],
      );

      // Every chart: an SVG with marks. Learning curves: one per T5 training (p5, pod,
      // elmrec, leaky elmrec, renumbered p5: 5) and per logged fit of the other plugins (the
      // tiny file's bprmf, lightgcn, ncl, simplex, sasrec, bert4rec, gru4rec and caser on
      // each task: 16; bprmf's dims 8 and 32, its dim 16 being the tiny direct cell: 2;
      // renumbered bprmf and lightgcn on each task: 4); 1 sweep; 4 leak-audit charts.
      const charts = await page.$$eval("[data-chart]", (els) =>
        els.map((el) => ({
          id: el.getAttribute("data-chart")!,
          marks: el.querySelectorAll("svg .role-mark > *").length,
        })));
      assert.equal(charts.filter((c) => c.id.startsWith("curve-")).length, 27);
      assert.equal(charts.filter((c) => c.id.startsWith("sweep-")).length, 1);
      assert.equal(charts.filter((c) => c.id.startsWith("leak-")).length, 4);
      for (const c of charts) assert.ok(c.marks > 0, `chart ${c.id} drew no marks`);
      const sweepLines = await page.$$eval(
        "[data-chart='sweep-0'] svg .mark-line path",
        (paths) => paths.length,
      );
      assert.equal(sweepLines, 2);

      // Sorting by a column, then back to the table's order.
      const firstRow = () =>
        page.$eval("table#table2 tbody tr", (tr) => tr.querySelector("th")!.textContent);
      const ndcg10 = "table#table2 th.sortable[data-col='4']";
      await page.click(ndcg10);
      // The synthetic data's successor habits put SASRec first on the direct task (0.554).
      assert.equal(await firstRow(), "sasrec");
      await page.click(ndcg10);
      assert.equal(await firstRow(), "p5 (reindex=random)");
      await page.click(ndcg10);
      assert.equal(await firstRow(), "pop");

      // A cell's provenance: the record behind pop's HR@10.
      await page.click("table#table2 tbody tr[data-row='0'] td[data-col='3']");
      const panel = await page.$eval("#provenance", (el) => ({
        hidden: el.hasAttribute("hidden"),
        text: el.textContent!,
      }));
      assert.equal(panel.hidden, false);
      assert.match(panel.text, /pop · synthetic HR@10/);
      assert.match(panel.text, /recordff78ab4fb9839c8d/);
      assert.match(panel.text, /config hash44136fa355b3678a/);
      assert.match(panel.text, /split hash[0-9a-f]{64}/);
      assert.match(panel.text, /tiny_synthetic\.jsonl/);
      await page.keyboard.press("Escape");
      await page.click("table#table2 tr.published td[data-col='3']");
      assert.match(await page.$eval("#provenance", (el) => el.textContent!), /fixture A/);

      // The leak audit: every pair in its table.
      const audit = await page.$$eval("table.audit tbody tr", (trs) => trs.length);
      assert.equal(audit, 12);

      await page.screenshot({ path: join(dir, "report.png"), fullPage: true });
      assert.ok((await Deno.stat(join(dir, "report.png"))).size > 50_000);
      assert.deepEqual(opened.problems, []);
      const remote = opened.requests.filter((u) =>
        !u.startsWith("file:") && !u.startsWith("data:")
      );
      assert.deepEqual(remote, []);
      console.log(
        `report_browser_test: page and checks in ${
          ((performance.now() - started) / 1000).toFixed(1)
        } s; screenshot ${join(dir, "report.png")}`,
      );
    } finally {
      await opened.close();
    }
  },
});

/**
 * The report page's script (a classic script: Chromium refuses ES modules
 * and fetch over file://). It draws every chart from the spec embedded in
 * the page with vega-embed, sorts the tables by the column clicked, and
 * shows the records behind a number when its cell is clicked. When all
 * charts are drawn it sets `data-charts="done"` on <body> (or "failed"),
 * which the browser test waits for.
 */
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("report-data").textContent);

  // Charts: SVG, no action menu (its links would leave the page for the network).
  const charts = [...document.querySelectorAll("[data-chart]")].map((el) =>
    globalThis.vegaEmbed(el, data.charts[el.dataset.chart], { actions: false, renderer: "svg" })
      .then(() => el.classList.add("rendered"))
      .catch((e) => {
        el.textContent = `chart ${el.dataset.chart} failed: ${e.message}`;
        console.error(e);
        throw e;
      })
  );
  Promise.all(charts).then(
    () => document.body.dataset.charts = "done",
    () => document.body.dataset.charts = "failed",
  );

  // Sorting: descending, ascending, then the original order; missing cells stay last.
  const NEXT = { "": "descending", descending: "ascending", ascending: "" };
  for (const th of document.querySelectorAll("table.results th.sortable")) {
    th.addEventListener("click", () => {
      const table = th.closest("table");
      const col = Number(th.dataset.col);
      const dir = NEXT[th.getAttribute("aria-sort") ?? ""] ?? "";
      for (const other of table.querySelectorAll("th.sortable")) other.removeAttribute("aria-sort");
      if (dir) th.setAttribute("aria-sort", dir);
      const body = table.tBodies[0];
      const rows = [...body.rows];
      const key = (tr) => {
        if (col < 0) return tr.cells[0].textContent;
        const td = tr.querySelector(`td[data-col="${col}"]`);
        return td && td.dataset.v !== undefined ? Number(td.dataset.v) : null;
      };
      rows.sort((a, b) => {
        if (!dir) return Number(a.dataset.row) - Number(b.dataset.row);
        const x = key(a), y = key(b);
        if (x === null || y === null) return (x === null) - (y === null);
        const order = typeof x === "string" ? x.localeCompare(y) : x - y;
        return dir === "ascending" ? order : -order;
      });
      for (const tr of rows) body.appendChild(tr);
    });
  }

  // Provenance: the records behind a cell, or the published source.
  const panel = document.getElementById("provenance");
  const content = panel.querySelector(".content");
  const esc = (s) =>
    String(s).replace(
      /[&<>"]/g,
      (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c],
    );
  const pre = (v) => `<pre>${esc(JSON.stringify(v, null, 2))}</pre>`;
  const describe = (r) => {
    const facts = [
      ["record", r.id],
      ["file", r.file],
      ["plugin", r.plugin],
      ["variant", r.variant ?? "–"],
      ["dataset", `${r.dataset} (${r.data_spec ?? "?"})`],
      ["task, stage", `${r.task}, ${r.stage}`],
      ["seed", r.seed],
      ["preset", r.preset ?? "–"],
      ["reindex, mask", `${r.reindex}, ${r.mask}`],
      ["users scored", r.eval_users ? `${r.eval_users} (subset)` : r.n_users],
      ["test negatives", r.test_negatives],
      ["config hash", r.config_hash],
      ["data hash", r.data_hash],
      ["split hash", r.split_hash],
      ["finished", r.finished_at],
    ];
    const versions = Object.entries(r.versions ?? {}).map(([k, v]) => `${k} ${v}`).join(", ");
    const machine = Object.entries(r.machine ?? {}).map(([k, v]) => `${k} ${v}`).join(", ");
    const timings = Object.entries(r.timings_s ?? {}).map(([k, v]) => `${k} ${v} s`).join(", ");
    return `<article class="record"><dl>${
      facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("")
    }<dt>versions</dt><dd>${esc(versions)}</dd><dt>machine</dt><dd>${esc(machine)}</dd>` +
      `<dt>timings</dt><dd>${esc(timings)}</dd></dl>` +
      `<details open><summary>config</summary>${pre(r.config)}</details>` +
      `<details><summary>metrics</summary>${pre(r.metrics)}</details>` +
      `<details><summary>info</summary>${pre(r.info)}</details></article>`;
  };
  const show = (key, title) => {
    const source = data.cells[key];
    if (!source) return;
    const body = source.published
      ? `<p>Published, not rerun: ${esc(source.published.source)}</p>${
        source.published.note ? `<p>${esc(source.published.note)}</p>` : ""
      }`
      : source.records.map((i) => describe(data.records[i])).join("");
    content.innerHTML = `<h2>${esc(title)}</h2>${body}`;
    panel.hidden = false;
    panel.dataset.cell = key;
  };
  const titleOf = (el) => {
    const table = el.closest("table.results");
    if (!table) return el.closest("tr, figure")?.querySelector("th, figcaption")?.textContent ?? "";
    const row = el.closest("tr").cells[0].textContent;
    return `${row} · ${data.columns[table.id][Number(el.dataset.col)]}`;
  };
  document.addEventListener("click", (ev) => {
    const el = ev.target.closest("[data-cell]");
    if (el) show(el.dataset.cell, titleOf(el));
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") panel.hidden = true;
    const el = ev.target.closest && ev.target.closest("[data-cell]");
    if (el && ev.key === "Enter") show(el.dataset.cell, titleOf(el));
  });
  panel.querySelector(".close").addEventListener("click", () => panel.hidden = true);
})();

import { strict as assert } from "node:assert";
import { buildTable, type PublishedRow } from "./report_model.ts";
import { renderTable } from "./report_render.ts";
import type { ResultRecord } from "./results.ts";

function rec(plugin: string, dataset: string, seed: number, ndcg10: number): ResultRecord {
  return {
    schema: "elmbench-result/1",
    id: `${plugin}-${dataset}-${seed}`,
    plugin,
    dataset,
    data_hash: "h",
    task: "direct",
    seed,
    stage: "test",
    reindex: "none",
    mask: "none",
    config_hash: "c",
    preset: null,
    config: {},
    split_hash: "s",
    test_negatives: "seeded",
    n_users: 10,
    metrics: {
      "HR@1": ndcg10 / 2,
      "HR@5": ndcg10,
      "NDCG@5": ndcg10,
      "HR@10": ndcg10,
      "NDCG@10": ndcg10,
    },
    per_user: null,
    timings_s: {},
    info: {},
    versions: {} as ResultRecord["versions"],
    machine: {} as ResultRecord["machine"],
    finished_at: "",
  };
}

const records = [
  rec("pop", "beauty", 0, 0.2),
  rec("lightgcn", "beauty", 0, 0.3),
  rec("lightgcn", "beauty", 1, 0.4),
  rec("elmrec", "beauty", 0, 0.25),
  rec("pop", "sports", 0, 0.1),
];
const published: PublishedRow[] = [
  {
    task: "direct",
    dataset: "beauty",
    method: "P5",
    metric: "NDCG@10",
    value: 0.9,
    source: "paper",
  },
];

Deno.test("buildTable() lays out rows = methods, columns = dataset x metric in paper order", () => {
  const model = buildTable(records, "table2");
  assert.deepEqual(model.columns.slice(0, 5).map((c) => `${c.dataset}:${c.metric}`), [
    "sports:HR@1",
    "sports:HR@5",
    "sports:NDCG@5",
    "sports:HR@10",
    "sports:NDCG@10",
  ]);
  assert.deepEqual(model.rows.map((r) => r.method), ["pop", "lightgcn", "elmrec"]);
  const j = model.columns.findIndex((c) => c.dataset === "beauty" && c.metric === "NDCG@10");
  const lgcn = model.rows[1].cells[j]!;
  assert.equal(lgcn.n, 2);
  assert.ok(Math.abs(lgcn.mean - 0.35) < 1e-12);
  assert.ok(Math.abs(lgcn.std - Math.sqrt(0.005)) < 1e-12);
  assert.equal(model.rows[2].cells[0], null); // elmrec has no sports result
  assert.equal(model.rows[0].cells[0]!.mean, 0.05);
});

Deno.test("best is bold and second underlined among our rows; published rows never rank", () => {
  const model = buildTable(records, "table2", { published, ours: "elmrec" });
  const j = model.columns.findIndex((c) => c.dataset === "beauty" && c.metric === "NDCG@10");
  const byName = Object.fromEntries(model.rows.map((r) => [r.method, r]));
  assert.equal(byName["lightgcn"].rank[j], 1);
  assert.equal(byName["elmrec"].rank[j], 2);
  assert.equal(byName["P5"].published, true);
  assert.equal(byName["P5"].rank[j], 0);
  const md = renderTable(model, "md");
  assert.match(md, /\| lightgcn \|.*\*\*0\.3500 ± 0\.0707\*\*/);
  assert.match(md, /<u>0\.2500<\/u>/);
  assert.match(md, /\| P5 \(published\) \|/);
  // elmrec vs the best other row (lightgcn 0.35): (0.25 - 0.35) / 0.35 = -28.6%.
  assert.match(md, /Improv\. \(elmrec vs best other\).*-28\.6%/);
});

Deno.test("renderTable() writes csv, latex and json", () => {
  const model = buildTable(records, "table2", { datasets: ["beauty"] });
  const csv = renderTable(model, "csv").trim().split("\n");
  assert.equal(
    csv[0],
    "method,published,beauty:HR@1,beauty:HR@5,beauty:NDCG@5,beauty:HR@10,beauty:NDCG@10",
  );
  assert.equal(csv[1], "pop,false,0.1,0.2,0.2,0.2,0.2");
  const tex = renderTable(model, "latex");
  assert.match(tex, /\\textbf\{0\.3500 \$\\pm\$ 0\.0707\}/);
  assert.match(tex, /\\multicolumn\{5\}\{c\}\{beauty\}/);
  assert.equal(JSON.parse(renderTable(model, "json")).layout, "table2");
});

Deno.test("table3 shows the sequential metrics only and rejects an unknown layout", () => {
  const seq = records.map((r) => ({ ...r, task: "sequential" as const }));
  assert.deepEqual(buildTable(seq, "table3").columns.slice(0, 4).map((c) => c.metric), [
    "HR@5",
    "NDCG@5",
    "HR@10",
    "NDCG@10",
  ]);
  assert.equal(buildTable(seq, "table2").rows.length, 0);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => buildTable(seq, "table9" as any), /Unknown layout/);
});

Deno.test("ties share their mark: every row at the best value is bold, at the next underlined", () => {
  const tied = [
    rec("pop", "beauty", 0, 0.18667),
    rec("simplex", "beauty", 0, 0.18667),
    rec("bprmf", "beauty", 0, 0.1),
    rec("idleak", "beauty", 0, 0.1),
    rec("elmrec", "beauty", 0, 0.05),
  ];
  const model = buildTable(tied, "table2");
  const j = model.columns.findIndex((c) => c.metric === "HR@10");
  assert.deepEqual(
    model.rows.map((r) => [r.method, r.rank[j]]),
    [["pop", 1], ["simplex", 1], ["bprmf", 2], ["idleak", 2], ["elmrec", 0]],
  );
  const md = renderTable(model, "md");
  assert.match(md, /\| pop \| .*\*\*0\.1867\*\*/);
  assert.match(md, /\| simplex \| .*\*\*0\.1867\*\*/);
  assert.match(md, /\| idleak \| .*<u>0\.1000<\/u>/);
});

/** A lightgcn record with a config, as `run --set` makes them. */
function configured(epochs: number, value: number, finished: string): ResultRecord {
  return {
    ...rec("lightgcn", "beauty", 0, value),
    id: `lightgcn-${epochs}`,
    config_hash: `hash-${epochs}`,
    config: { dim: 64, epochs },
    finished_at: finished,
  };
}

Deno.test("records of one label that differ in config get a row each, named by the keys, and a note", () => {
  // The capped run (epochs=5) comes last: merged, it would hide the full run.
  const both = [configured(300, 0.3, "2026-01-01"), configured(5, 0.1, "2026-01-02")];
  const model = buildTable(both, "table2");
  assert.deepEqual(model.rows.map((r) => r.method), [
    "lightgcn (epochs=300)",
    "lightgcn (epochs=5)",
  ]);
  const j = model.columns.findIndex((c) => c.metric === "NDCG@10");
  assert.deepEqual(model.rows.map((r) => r.cells[j]!.mean), [0.3, 0.1]);
  assert.ok(model.notes.some((n) => /"lightgcn" differ in epochs/.test(n)));
  // One config under a label stays one row; a rerun of the same cell replaces the older record.
  const rerun = [configured(300, 0.3, "a"), { ...configured(300, 0.31, "b") }];
  assert.deepEqual(buildTable(rerun, "table2").rows.map((r) => r.method), ["lightgcn"]);
});

Deno.test("rows group under their plugin in the given order, plain row first", () => {
  const mixed = [
    { ...rec("elmrec", "beauty", 0, 0.1), variant: "epochs=3" },
    { ...rec("pop", "beauty", 0, 0.2), reindex: "random" as const },
    rec("lightgcn", "beauty", 0, 0.3),
    { ...rec("elmrec", "beauty", 0, 0.15), variant: "decode=constrained", finished_at: "z" },
    rec("pop", "beauty", 0, 0.2),
    { ...rec("elmrec", "beauty", 0, 0.12), variant: "epochs=3, decode=constrained" },
  ];
  const model = buildTable(mixed, "table2", {
    order: ["pop", "lightgcn", "elmrec"],
    ours: "elmrec",
  });
  assert.deepEqual(model.rows.map((r) => r.method), [
    "pop",
    "pop (reindex=random)",
    "lightgcn",
    "elmrec (decode=constrained)",
    "elmrec (epochs=3)",
    "elmrec (epochs=3, decode=constrained)",
  ]);
  // `ours` names the plugin: its row with the fewest tags, the latest of those on a tie.
  assert.equal(model.improvement?.ours, "elmrec (decode=constrained)");
  const j = model.columns.findIndex((c) => c.metric === "NDCG@10");
  // (0.15 - 0.3) / 0.3 against lightgcn, the best other row.
  assert.ok(Math.abs(model.improvement!.values[j]! + 0.5) < 1e-12);
  assert.throws(
    () => buildTable(mixed, "table2", { ours: "p5", requireOurs: true }),
    /--ours "p5" is neither a row nor a plugin of this table; rows: elmrec \(decode=constrained\), /,
  );
});

/**
 * Scheduler plans: the shell plan, run as a script, fills the cells that
 * `table` then merges; the SLURM plan is an array job with one cell per
 * task, and runs on a real single-node SLURM when one is up (.ci/run starts
 * one; elsewhere the test says why it skips).
 */
import { strict as assert } from "node:assert";
import { BUILTIN_PLUGINS, EXPERIMENTS } from "../plugins.ts";
import { expandCells } from "../harness/cells.ts";
import { renderPlan } from "../harness/cmd_plan.ts";
import { expandGlob } from "../harness/results_files.ts";
import { buildTable } from "../harness/report_model.ts";

const cellsFor = (seeds: number[]) =>
  expandCells(
    { ...EXPERIMENTS.table2, plugins: ["pop", "idleak"] },
    {
      datasets: ["synthetic"],
      seeds,
      preset: "tiny",
      dataRoot: "/unused",
      available: Object.keys(BUILTIN_PLUGINS),
    },
  );

async function sh(script: string, ...args: string[]) {
  const out = await new Deno.Command("bash", {
    args: [script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, err: new TextDecoder().decode(out.stderr) };
}

Deno.test("a shell plan runs every cell into its own results file, merged by table", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cells = cellsFor([0, 1]);
    const script = `${dir}/plan.sh`;
    await Deno.writeTextFile(script, renderPlan(cells, "shell", dir, { name: "table2" }));
    const r = await sh(script);
    assert.equal(r.code, 0, r.err);
    const sources = await expandGlob(`${dir}/cells`);
    assert.equal(sources.length, 4);
    const model = buildTable(sources.map((s) => s.record), "table2");
    assert.deepEqual(model.rows.map((x) => x.method).sort(), ["idleak", "pop"]);
    assert.equal(model.rows[0].cells[0]!.n, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a SLURM plan is an array job with one cell per array task", () => {
  const cells = cellsFor([0, 1, 2]);
  const text = renderPlan(cells, "slurm", "/tmp/x", {
    name: "table2",
    slurmOptions: "--time=01:00:00",
  });
  assert.match(text, /#SBATCH --array=0-5\n/);
  assert.match(text, /#SBATCH --time=01:00:00/);
  assert.match(text, /eval "\$\{CELLS\[\$SLURM_ARRAY_TASK_ID\]\}"/);
  assert.equal(text.split("\n").filter((l) => l.includes("--models")).length, 6);
});

async function slurmUp(): Promise<string | null> {
  try {
    const out = await new Deno.Command("sinfo", {
      args: ["-h", "-o", "%T"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const state = new TextDecoder().decode(out.stdout).trim();
    if (!out.success) return `sinfo failed: ${new TextDecoder().decode(out.stderr).trim()}`;
    return /idle|mix|alloc/.test(state) ? null : `SLURM node state is "${state}"`;
  } catch {
    return "sinfo not found (SLURM is not installed; .ci/run installs and starts it)";
  }
}
const slurmProblem = await slurmUp();
if (slurmProblem) console.log(`skipping the real SLURM test: ${slurmProblem}`);

Deno.test({
  name: "a SLURM array job of a tiny plan runs on a real single-node SLURM and its cells merge",
  ignore: slurmProblem !== null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ dir: "/tmp" });
    try {
      await Deno.chmod(dir, 0o777);
      const cells = cellsFor([0]);
      const script = `${dir}/plan.slurm`;
      // SLURM opens the log file before the script runs, so its folder must exist (plan makes it).
      await Deno.mkdir(`${dir}/logs`);
      await Deno.writeTextFile(script, renderPlan(cells, "slurm", dir, { name: "table2" }));
      const out = await new Deno.Command("sbatch", {
        args: ["--wait", script],
        stdout: "piped",
        stderr: "piped",
      })
        .output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      const sources = await expandGlob(`${dir}/cells`);
      assert.equal(sources.length, cells.length);
      const model = buildTable(sources.map((s) => s.record), "table2");
      assert.deepEqual(model.rows.map((x) => x.method).sort(), ["idleak", "pop"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

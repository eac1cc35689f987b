/**
 * The command line as a user meets it: help, clear one-line errors with a
 * non-zero exit, JSON output.
 */
import { strict as assert } from "node:assert";

const cli = new URL("../cli.ts", import.meta.url).pathname;

async function elmbench(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("elmbench --help lists the commands", async () => {
  const r = await elmbench("--help");
  assert.equal(r.code, 0);
  for (const c of ["demo", "data", "run", "table", "plugins"]) {
    assert.match(r.stdout, new RegExp(c));
  }
});

Deno.test("an unknown model exits 1 with the valid names and no stack", async () => {
  const r = await elmbench("run", "--data", "synthetic", "--task", "direct", "--models", "popp");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: Unknown plugin "popp"; valid plugins: .*pop/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
});

Deno.test("a malformed dataset line is reported by file, line and value", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/sequential.txt`, "1 1 2 3\n2 2 x3 1\n");
    const r = await elmbench("data", "stats", dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /sequential\.txt line 2.*"x3"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data stats --json prints the stats of the synthetic data", async () => {
  const r = await elmbench("data", "stats", "synthetic", "--json", "--synthetic", "users=100");
  assert.equal(r.code, 0);
  const stats = JSON.parse(r.stdout);
  assert.equal(stats.users, 100);
  assert.equal(stats.items, 400);
});

Deno.test("run --json prints one record per cell on stdout", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await elmbench(
      "run",
      "--data",
      "synthetic",
      "--synthetic",
      "users=80,items=150",
      "--task",
      "sequential",
      "--models",
      "pop,idleak",
      "--results",
      `${dir}/r.jsonl`,
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.plugin), ["pop", "idleak"]);
    const table = await elmbench(
      "table",
      `${dir}/r.jsonl`,
      "--layout",
      "table3",
      "--format",
      "csv",
    );
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^method,published,synthetic:HR@5/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

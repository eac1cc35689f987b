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

const BOOM = `import { definePlugin } from "${new URL("../mod.ts", import.meta.url).href}";
export default definePlugin({
  name: "boom",
  description: "throws in fit",
  tasks: ["direct"],
  keys: {},
  requires: [],
  fit: () => Promise.reject(new Error("fit exploded")),
});
`;

for (const models of ["boom,pop", "pop,boom"]) {
  Deno.test(`run --models ${models}: pop runs and is recorded, the run exits 1 naming boom's cell`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/boom.ts`, BOOM);
      const r = await elmbench(
        ...["run", "--data", "synthetic", "--synthetic", "users=80,items=150", "--task"],
        ...["direct", "--models", models, "--plugin", `${dir}/boom.ts`],
        ...["--results", `${dir}/r.jsonl`],
      );
      assert.equal(r.code, 1);
      assert.match(r.stdout, /\| pop \| /);
      assert.match(r.stdout, /Failed, not in the table: boom on synthetic\/direct, seed 0/);
      assert.match(
        r.stderr,
        /error: 1 of 2 cell\(s\) failed; the others ran and are recorded in .*r\.jsonl:\n {2}boom on synthetic\/direct, seed 0, test split: fit threw: fit exploded\n/,
      );
      assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, "no stack without ELMBENCH_DEBUG");
      const lines = (await Deno.readTextFile(`${dir}/r.jsonl`)).trim().split("\n").map((l) =>
        JSON.parse(l)
      );
      assert.deepEqual(
        lines.map((l) => [l.schema, l.plugin]).sort(),
        [["elmbench-failure/1", "boom"], ["elmbench-result/1", "pop"]],
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("a bad value for the last plugin stops run before the first cell", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await elmbench(
      ...["run", "--data", "synthetic", "--task", "direct", "--models", "pop,bprmf,lightgcn"],
      ...["--set", "lightgcn.validProtocol=bogus", "--results", `${dir}/r.jsonl`],
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /error: Expected lightgcn\.validProtocol \(--set\) to be one of "full", "task" but found "bogus"/,
    );
    assert.equal(await Deno.stat(`${dir}/r.jsonl`).then(() => true, () => false), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("paths and options that are wrong are named, with what was expected", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/sequential.txt`, "1 1 2 3\n");
    const cases: [string[], RegExp][] = [
      [
        ["run", "--data", `${dir}/sequential.txt`, "--task", "direct", "--models", "pop"],
        /error: .*\/sequential\.txt is a file; expected a dataset folder holding sequential\.txt/,
      ],
      [
        ["run", "--data", `${dir}/nope`, "--task", "direct", "--models", "pop"],
        /error: .*\/nope does not exist; expected a dataset folder/,
      ],
      [
        ["table", `${dir}/nope.jsonl`, "--layout", "table2"],
        /error: table: .*\/nope\.jsonl does not exist; expected a results file/,
      ],
      [["table", dir, "--layout", "table2"], /error: table: .* is a folder with no \.jsonl files/],
      [
        ["check", "--baseline", `${dir}/nope.jsonl`],
        /error: check --baseline: .*\/nope\.jsonl does not exist/,
      ],
      [
        ["run", "--sed", "3"],
        /error: run: unknown option --sed \(did you mean --seed\?\); valid options: --data, --task, /,
      ],
      [["runn"], /error: Unknown command "runn"; valid commands: .*\n\(see: \.\/elmbench --help\)/],
    ];
    for (const [args, expected] of cases) {
      const r = await elmbench(...args);
      assert.equal(r.code, 1, args.join(" "));
      assert.match(r.stderr, expected);
      assert.doesNotMatch(r.stderr, /os error|at .*\.ts:\d+/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check reads a folder of cell files as table does", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines =
      (await Deno.readTextFile(new URL("../results/tiny_synthetic.jsonl", import.meta.url)))
        .trim().split("\n");
    await Deno.mkdir(`${dir}/cells`);
    await Deno.writeTextFile(`${dir}/cells/a.jsonl`, lines.slice(0, 3).join("\n") + "\n");
    await Deno.writeTextFile(`${dir}/cells/b.jsonl`, lines.slice(3, 5).join("\n") + "\n");
    const r = await elmbench("check", "--baseline", `${dir}/cells`, "--current", `${dir}/cells`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /check: 5 cells, every metric within ±0\.000001/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("./elmbench runs the CLI with the permissions of `deno task elmbench`, from any folder", async () => {
  const root = new URL("../", import.meta.url).pathname;
  const wrapper = await Deno.readTextFile(`${root}elmbench`);
  const config = JSON.parse(await Deno.readTextFile(`${root}deno.json`));
  const flags = (text: string) => [...text.matchAll(/--allow-[a-z]+/g)].map((m) => m[0]).sort();
  assert.deepEqual(flags(wrapper), flags(config.tasks.elmbench));
  // With Deno 2 on the PATH it runs that Deno (npx otherwise; not exercised here: no network).
  const dir = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command(`${root}elmbench`, {
      args: ["--help"],
      cwd: dir,
      env: { PATH: `${Deno.execPath().replace(/\/[^/]+$/, "")}:/usr/bin:/bin`, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(
      new TextDecoder().decode(out.stdout),
      /^Usage: \.\/elmbench <command> \[options\]$/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * `.ci/run` and its SLURM helper keep to what they own: no process is
 * stopped by name, nothing is written under /etc, and the private SLURM
 * they start (configuration, key, state and logs in one folder, ports of
 * its own) stops completely, by the PIDs it recorded.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;
const scripts = [".ci/run", ".ci/start_slurm.sh"];

Deno.test("the CI scripts stop nothing by name and write no configuration under /etc", async () => {
  for (const path of scripts) {
    const text = await Deno.readTextFile(`${ROOT}${path}`);
    const code = text.split("\n").filter((l) => !l.trimStart().startsWith("#")).join("\n");
    assert.doesNotMatch(code, /\b(pkill|killall)\b/, `${path} stops processes by name`);
    assert.doesNotMatch(code, /(>|>>|tee|cp|dd .*of=)\s*"?\/etc\//, `${path} writes under /etc`);
    assert.doesNotMatch(code, /mkdir -p[^\n]*\/(etc|var|run)\//, `${path} makes system folders`);
  }
  const run = await Deno.readTextFile(`${ROOT}.ci/run`);
  assert.match(run, /trap cleanup EXIT/);
  assert.match(run, /start_slurm\.sh stop/);
});

async function has(command: string): Promise<boolean> {
  return await new Deno.Command("bash", { args: ["-c", `command -v ${command}`], stdout: "null" })
    .output().then((o) => o.success, () => false);
}

const why = Deno.uid() !== 0
  ? "not root (slurmd runs as root here)"
  : !(await has("slurmctld")) || !(await has("munged"))
  ? "slurm-wlm and munge are not installed (.ci/run installs them)"
  : null;
if (why) console.log(`ci_scripts_test: the private SLURM test is ignored: ${why}`);

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "start_slurm.sh starts a SLURM of its own in a folder and stop ends every daemon it started",
  ignore: why !== null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "elmbench-slurm-test-" });
    const helper = `${ROOT}.ci/start_slurm.sh`;
    try {
      const start = await new Deno.Command("bash", { args: [helper, "start", dir] }).output();
      const stdout = new TextDecoder().decode(start.stdout);
      const conf = stdout.match(/^export SLURM_CONF=(.*)$/m)?.[1];
      assert.equal(conf, `${dir}/slurm.conf`, new TextDecoder().decode(start.stderr));
      const sinfo = await new Deno.Command("sinfo", {
        args: ["-h", "-o", "%T"],
        env: { SLURM_CONF: conf! },
        stdout: "piped",
      }).output();
      assert.match(new TextDecoder().decode(sinfo.stdout), /idle|mix|alloc/);
      const pids = await Promise.all(
        ["munged", "slurmctld", "slurmd"].map(async (n) =>
          Number(await Deno.readTextFile(`${dir}/${n}.pid`))
        ),
      );
      for (const pid of pids) assert.ok(alive(pid), `pid ${pid} runs`);
      const conf2 = await Deno.readTextFile(conf!);
      assert.match(conf2, /^SlurmctldPort=(?!6817)\d+$/m, "a port of its own");
      assert.match(conf2, new RegExp(`^StateSaveLocation=${dir}/state$`, "m"));
      const stop = await new Deno.Command("bash", { args: [helper, "stop", dir] }).output();
      assert.ok(stop.success);
      for (const pid of pids) assert.ok(!alive(pid), `pid ${pid} stopped`);
      assert.match(new TextDecoder().decode(stop.stderr), /stopped slurmd[\s\S]*stopped munged/);
    } finally {
      await new Deno.Command("bash", { args: [helper, "stop", dir] }).output();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

import assert from "node:assert/strict";
import { parseEngineBenchArgs } from "./engine_bench.ts";

Deno.test("parseEngineBenchArgs() reads every flag and defaults to Beauty", () => {
  const d = parseEngineBenchArgs([]);
  assert.equal(d.json, false);
  assert.equal(d.threads, 2);
  assert.ok(d.data.endsWith("/shared/data/beauty"), d.data);
  assert.ok(d.torchScript.endsWith("/shared/tools/torch_reference.py"), d.torchScript);
  const a = parseEngineBenchArgs([
    "--json",
    "--data",
    "/tmp/x",
    "--threads",
    "1",
    "--no-torch",
    "--torch-script",
    "t.py",
  ]);
  assert.deepEqual(a, {
    json: true,
    data: "/tmp/x",
    threads: 1,
    torch: false,
    torchScript: "t.py",
  });
});

Deno.test("parseEngineBenchArgs() rejects unknown flags and bad thread counts", () => {
  assert.throws(() => parseEngineBenchArgs(["--jsn"]), {
    name: "TypeError",
    message: /^Unknown flag "--jsn"\. Usage: engine_bench\.ts \[--json\]/,
  });
  assert.throws(() => parseEngineBenchArgs(["--threads", "0"]), {
    name: "RangeError",
    message: 'Expected --threads to be a positive integer but found "0"',
  });
  assert.throws(() => parseEngineBenchArgs(["--data"]), { name: "TypeError" });
});

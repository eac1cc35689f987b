import assert from "node:assert/strict";
import { cpus } from "node:os";
import { machine } from "./provenance.ts";

Deno.test("machine() names the CPU model under the tasks' permissions (no --allow-all)", async () => {
  const m = await machine();
  assert.equal(m.cpus, navigator.hardwareConcurrency);
  assert.equal(m.cpu_model, cpus()[0]?.model?.trim() || "unknown");
  // Where the OS reports a model (Linux, macOS), a record must carry it.
  if (Deno.build.os === "linux" && cpus().length > 0) assert.notEqual(m.cpu_model, "unknown");
});

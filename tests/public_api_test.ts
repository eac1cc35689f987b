/**
 * The public API (`mod.ts`) as an external plugin meets it: importing it
 * brings no built-in plugin and no native code. The built-ins are in
 * `plugins.ts`; ONNX Runtime loads with the first session.
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;
const PLUGIN = "examples/item_knn_plugin.ts";

Deno.test("the example plugin's module graph holds no built-in plugin and no onnxruntime-node", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", PLUGIN],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout));
  const modules: string[] = graph.modules.map((m: { specifier: string }) => m.specifier);
  const local = modules.filter((s) => s.startsWith(`file://${ROOT}`))
    .map((s) => s.slice(`file://${ROOT}`.length));
  assert.ok(local.includes("mod.ts") && local.includes("kernels/mod.ts"), local.join(" "));
  assert.deepEqual(
    local.filter((f) => /^(baselines|models)\/|^(plugins|cli)\.ts$/.test(f)),
    [],
  );
  assert.deepEqual(modules.filter((s) => s.includes("onnxruntime-node")), []);
});

if (Deno.build.os !== "linux") {
  console.log("public_api_test: the mapped-library test is ignored: /proc/self/maps is Linux's");
}

Deno.test({
  name: "importing the example plugin loads no ONNX Runtime library; the first session does",
  // What a process has mapped is read from /proc/self/maps.
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    // Which ONNX Runtime libraries the process has mapped, after the import and after a session.
    const script = `
    const mapped = () => /onnxruntime_binding\\.node|libonnxruntime\\.so/.test(Deno.readTextFileSync("/proc/self/maps"));
    const plugin = (await import("./${PLUGIN}")).default;
    const afterImport = mapped();
    const { exportOnnx, Graph, loadSession } = await import("./kernels/mod.ts");
    const g = new Graph();
    await loadSession(exportOnnx({ y: g.exp(g.input("x", "float32", [1])) }));
    console.log(JSON.stringify({ plugin: plugin.name, afterImport, afterSession: mapped() }));
  `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
      plugin: "itemcooc",
      afterImport: false,
      afterSession: true,
    });
  },
});

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { fatbinCommand, formatBytes, formatFatbinSummary } from "./cmd_fatbin.ts";
import { listFatbinEntries, reduceFatbin } from "./fatbin.ts";

// Built by nvcc 13.0 from tests/fixtures/fatbin/{scale,offset}.cu; its README has the commands.
const FIXTURE = new URL("../tests/fixtures/fatbin/libscale.so", import.meta.url);

Deno.test("formatBytes() picks B, kB, MB, GB", () => {
  deepStrictEqual([999, 5080, 31_672, 229_780_440, 2_030_000_000].map(formatBytes), [
    "999 B",
    "5.1 kB",
    "31.7 kB",
    "229.78 MB",
    "2.03 GB",
  ]);
});

Deno.test("formatFatbinSummary() tabulates the fixture per arch, zeroed entries too", async () => {
  const bytes = await Deno.readFile(FIXTURE);
  const entries = listFatbinEntries(bytes);
  strictEqual(
    formatFatbinSummary(bytes, entries),
    [
      "7 entries in 3 containers",
      "arch      cubins   ptx zeroed      stored  uncompressed",
      "sm_80          2     2      0      5.4 kB        6.2 kB",
      "sm_90          2     1      0      5.8 kB        6.1 kB",
      "total          4     3      0     11.2 kB       12.3 kB",
    ].join("\n"),
  );
  // Reduced to sm_90, sm_80 keeps only offset.cu's PTX, the JIT fallback.
  const lines = formatFatbinSummary(reduceFatbin(bytes, 90), entries).split("\n");
  deepStrictEqual(lines.slice(2), [
    "sm_80          2     2      3      5.4 kB        6.2 kB",
    "sm_90          2     1      0      5.8 kB        6.1 kB",
    "total          4     3      3     11.2 kB       12.3 kB",
  ]);
});

Deno.test("fatbin --keep sm_90 --out writes what reduceFatbin() returns", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const input = new URL(FIXTURE).pathname;
    await fatbinCommand([input, "--keep", "sm_90", "--out", `${dir}/reduced.so`]);
    deepStrictEqual(
      await Deno.readFile(`${dir}/reduced.so`),
      reduceFatbin(await Deno.readFile(FIXTURE), 90),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

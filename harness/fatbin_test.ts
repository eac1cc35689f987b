import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import {
  entryName,
  type FatbinEntry,
  FatbinError,
  listFatbinEntries,
  parseArch,
  planReduction,
  reduceFatbin,
  reduceFatbinInPlace,
  summarizeFatbin,
} from "./fatbin.ts";

// Built by nvcc 13.0 from tests/fixtures/fatbin/{scale,offset}.cu; its README has the commands.
const FIXTURE = new URL("../tests/fixtures/fatbin/libscale.so", import.meta.url);
const bytes = await Deno.readFile(FIXTURE);
const NAME = "libscale.so";

const payload = (b: Uint8Array, e: FatbinEntry) =>
  b.subarray(e.offset + e.headerSize, e.offset + e.headerSize + e.payloadSize);
const header = (b: Uint8Array, e: FatbinEntry) => b.subarray(e.offset, e.offset + e.headerSize);
const isZero = (b: Uint8Array) => b.every((x) => x === 0);

/** A copy of `source` with the section name `from` overwritten by `to` (same length). */
function renameSection(source: Uint8Array, from: string, to: string): Uint8Array {
  const copy = source.slice();
  const text = new TextDecoder("latin1").decode(copy);
  const at = text.indexOf(`\0${from}\0`);
  if (at < 0) throw new Error(`${from} not in the fixture`);
  copy.set(new TextEncoder().encode(to), at + 1);
  return copy;
}

Deno.test("listFatbinEntries() walks the fixture's three containers in file order", () => {
  const entries = listFatbinEntries(bytes, NAME);
  deepStrictEqual(entries.map(entryName), [
    "sm_80",
    "sm_90", // device link output
    "sm_80",
    "compute_80",
    "sm_90",
    "compute_90", // scale.cu
    "compute_80", // offset.cu: PTX only
  ]);
  deepStrictEqual(entries.map((e) => e.container), [
    8224,
    8224,
    11392,
    11392,
    11392,
    11392,
    19504,
  ]);
  deepStrictEqual(entries.map((e) => e.payloadSize), [1472, 1552, 3240, 368, 3832, 368, 360]);
  deepStrictEqual(entries.map((e) => e.headerSize), [64, 64, 64, 80, 64, 80, 80]);
  // nvcc 13 zstd-compresses PTX but stores these small cubins plain.
  deepStrictEqual(entries.map((e) => e.compression), [
    "none",
    "none",
    "none",
    "zstd",
    "none",
    "zstd",
    "zstd",
  ]);
  deepStrictEqual(entries.map((e) => e.uncompressedSize), [1472, 1552, 3240, 717, 3832, 717, 724]);
  for (const e of entries) {
    strictEqual(bytes[e.offset], e.kind === "ptx" ? 1 : 2, `kind field of ${entryName(e)}`);
    const magic = [...payload(bytes, e).subarray(0, 4)];
    deepStrictEqual(magic, e.compressed ? [0x28, 0xb5, 0x2f, 0xfd] : [0x7f, 0x45, 0x4c, 0x46]);
  }
  // Containers are contiguous: each starts where the previous one's last payload ends.
  const last = entries.at(-1)!;
  strictEqual(last.offset + last.headerSize + last.payloadSize, 0x2020 + 0x2dd8);
});

Deno.test("summarizeFatbin() counts entries and payload bytes per arch", () => {
  deepStrictEqual(summarizeFatbin(listFatbinEntries(bytes)), [
    {
      arch: 80,
      suffixes: [""],
      cubins: 2,
      ptx: 2,
      other: 0,
      payloadBytes: 1472 + 3240 + 368 + 360,
      uncompressedBytes: 1472 + 3240 + 717 + 724,
    },
    {
      arch: 90,
      suffixes: [""],
      cubins: 2,
      ptx: 1,
      other: 0,
      payloadBytes: 1552 + 3832 + 368,
      uncompressedBytes: 1552 + 3832 + 717,
    },
  ]);
});

Deno.test("reduceFatbin(90) zeroes sm_80 payloads and leaves every other byte alone", () => {
  const entries = listFatbinEntries(bytes, NAME);
  const reduced = reduceFatbin(bytes, 90, NAME);
  strictEqual(reduced.length, bytes.length);
  const dropped = new Uint8Array(bytes.length);
  for (const e of entries) {
    deepStrictEqual(header(reduced, e), header(bytes, e), `header of ${entryName(e)}`);
    // offset.cu has no sm_90 code: its compute_80 PTX is what an sm_90 GPU JIT-compiles.
    const kept = e.arch === 90 || e.container === 19504;
    if (kept) deepStrictEqual(payload(reduced, e), payload(bytes, e), `${entryName(e)} kept`);
    else {
      strictEqual(isZero(payload(reduced, e)), true, `${entryName(e)} zeroed`);
      strictEqual(isZero(payload(bytes, e)), false, `${entryName(e)} had code`);
      dropped.fill(1, e.offset + e.headerSize, e.offset + e.headerSize + e.payloadSize);
    }
  }
  for (const c of new Set(entries.map((e) => e.container))) {
    deepStrictEqual(reduced.subarray(c, c + 16), bytes.subarray(c, c + 16), `container ${c}`);
  }
  let changedOutside = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (!dropped[i] && reduced[i] !== bytes[i]) changedOutside++;
  }
  strictEqual(changedOutside, 0);
  // The input is not modified, and the reduced file still parses to the same entries.
  deepStrictEqual(listFatbinEntries(bytes, NAME), entries);
  deepStrictEqual(listFatbinEntries(reduced, NAME), entries);
});

Deno.test("reduceFatbin(80) keeps sm_80 code and zeroes sm_90's", () => {
  const reduced = reduceFatbin(bytes, 80, NAME);
  for (const e of listFatbinEntries(bytes, NAME)) {
    strictEqual(isZero(payload(reduced, e)), e.arch === 90, entryName(e));
  }
});

Deno.test("reduceFatbinInPlace() zeroes the caller's buffer and returns the plan", () => {
  const copy = bytes.slice();
  const plan = reduceFatbinInPlace(copy, 90, NAME);
  deepStrictEqual(copy, reduceFatbin(bytes, 90, NAME));
  deepStrictEqual(plan, planReduction(listFatbinEntries(bytes, NAME), 90));
});

Deno.test("planReduction() keeps older PTX only where a container lacks the arch", () => {
  const entries = listFatbinEntries(bytes, NAME);
  const plan = planReduction(entries, 90);
  deepStrictEqual(plan.keep.map(entryName), ["sm_90", "sm_90", "compute_90", "compute_80"]);
  deepStrictEqual(plan.drop.map(entryName), ["sm_80", "sm_80", "compute_80"]);
  deepStrictEqual(plan.fallbacks.map((e) => e.container), [19504]);
  deepStrictEqual(plan.uncovered, []);
  // For sm_75 no entry fits: every container is uncovered (reduceFatbin refuses it outright).
  deepStrictEqual(planReduction(entries, 75).uncovered, [8224, 11392, 19504]);
  // A newer GPU JITs the newest suffix-free PTX of a container without its own code.
  deepStrictEqual(planReduction(entries, 100).keep.map(entryName), [
    "compute_90",
    "compute_80",
  ]);
  strictEqual(planReduction(entries, 100).uncovered.length, 1);
});

Deno.test("reduceFatbin() for an arch absent from the file names the arches present", () => {
  throws(() => reduceFatbin(bytes, 75, NAME), (e: unknown) => {
    strictEqual(e instanceof FatbinError, true);
    strictEqual((e as FatbinError).file, NAME);
    strictEqual(
      (e as Error).message,
      "libscale.so: no fatbin entry for sm_75; found sm_80, sm_90",
    );
    return true;
  });
});

Deno.test("listFatbinEntries() rejects a non-ELF input and an ELF without fat binaries", () => {
  throws(
    () => listFatbinEntries(new TextEncoder().encode("#!/bin/sh\necho hi\n"), "run.sh"),
    { name: "FatbinError", message: "run.sh: not an ELF file (no \\x7fELF magic)" },
  );
  const noFatbin = renameSection(bytes, ".nv_fatbin", ".nv_fatbiX");
  // Without .nv_fatbin the containers are still found through .nvFatBinSegment's pointers.
  deepStrictEqual(listFatbinEntries(noFatbin, NAME), listFatbinEntries(bytes, NAME));
  const neither = renameSection(noFatbin, ".nvFatBinSegment", ".nvFatBinSegmenX");
  throws(() => listFatbinEntries(neither, NAME), {
    name: "FatbinError",
    message: "libscale.so: no .nv_fatbin section (not a CUDA library?)",
  });
});

Deno.test("listFatbinEntries() rejects a container whose size runs past its section", () => {
  const broken = bytes.slice();
  new DataView(broken.buffer).setBigUint64(19504 + 8, 1000n, true);
  throws(() => listFatbinEntries(broken, NAME), {
    name: "FatbinError",
    message: "libscale.so: fatbin container at offset 19504 (header 16, size 1000) runs past " +
      "its section",
  });
});

Deno.test("parseArch() reads sm_, compute_ and bare numbers", () => {
  deepStrictEqual(["sm_90", "sm_90a", "compute_80", "120", " sm_100f "].map(parseArch), [
    90,
    90,
    80,
    120,
    100,
  ]);
  throws(() => parseArch("hopper"), /expected an architecture like sm_90 or 90 but found "hopper"/);
});

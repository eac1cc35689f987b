import { strictEqual } from "node:assert/strict";
import {
  datasetHash,
  formatSequentialTxt,
  sha256File,
  sha256Hex,
  sha256Text,
  sha256TextSync,
} from "./dataset_hash.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("sha256Text() matches the FIPS 180-2 test vector", async () => {
  strictEqual(
    await sha256Text("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("sha256TextSync() agrees with Web Crypto across block boundaries", async () => {
  for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
    const text = "é".repeat(n >> 1) + "x".repeat(n & 1);
    strictEqual(sha256TextSync(text), await sha256Text(text), `length ${n}`);
  }
});

Deno.test("sha256Hex() of several parts is the hash of their concatenation", async () => {
  strictEqual(await sha256Hex(enc("ab"), enc(""), enc("c")), await sha256Text("abc"));
});

Deno.test("datasetHash() covers sequential then negative bytes", async () => {
  const seq = enc("1 1 2 3\n"), neg = enc("1 4\n");
  strictEqual(await datasetHash(seq), await sha256Text("1 1 2 3\n"));
  strictEqual(await datasetHash(seq, neg), await sha256Text("1 1 2 3\n1 4\n"));
});

Deno.test("sha256File() hashes a file's bytes", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(path, "abc");
    strictEqual(await sha256File(path), await sha256Text("abc"));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("formatSequentialTxt() writes one LF-terminated line per user", () => {
  const rows = { offsets: new Uint32Array([0, 3, 5]), values: new Int32Array([1, 2, 3, 3, 1]) };
  strictEqual(formatSequentialTxt(rows), "1 1 2 3\n2 3 1\n");
});

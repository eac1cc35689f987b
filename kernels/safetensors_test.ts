import assert from "node:assert/strict";
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  type TensorMap,
  writeSafetensors,
} from "./safetensors.ts";

/** Hand-assembles a file: header length, JSON header, then raw bytes. */
function fixture(header: string, data: number[]): Uint8Array {
  const head = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}

Deno.test("decodeSafetensors() reads a hand-built file of every dtype", () => {
  const header = JSON.stringify({
    __metadata__: { format: "pt" },
    h: { dtype: "F16", shape: [3], data_offsets: [0, 6] },
    b: { dtype: "BF16", shape: [2], data_offsets: [6, 10] },
    f: { dtype: "F32", shape: [1], data_offsets: [10, 14] },
    d: { dtype: "F64", shape: [1], data_offsets: [14, 22] },
    i: { dtype: "I32", shape: [1, 1], data_offsets: [22, 26] },
    l: { dtype: "I64", shape: [1], data_offsets: [26, 34] },
  });
  const data = [
    0x00,
    0x3c,
    0x00,
    0xc0,
    0x01,
    0x00, // F16: 1, -2, 2^-24
    0x80,
    0x3f,
    0x40,
    0xc0, // BF16: 1, -3
    0x00,
    0x00,
    0x20,
    0x40, // F32: 2.5
    0,
    0,
    0,
    0,
    0,
    0,
    0x10,
    0x40, // F64: 4
    0xff,
    0xff,
    0xff,
    0xff, // I32: -1
    0x05,
    0,
    0,
    0,
    0,
    0,
    0,
    0x80, // I64: -2^63 + 5
  ];
  const { tensors, metadata } = decodeSafetensors(fixture(header, data));
  const vals = (name: string) => Array.from(tensors.get(name)!.data as Iterable<number | bigint>);
  assert.deepEqual(metadata, { format: "pt" });
  assert.deepEqual([...tensors.keys()], ["h", "b", "f", "d", "i", "l"]);
  assert.deepEqual(vals("h"), [1, -2, 2 ** -24]);
  assert.deepEqual(vals("b"), [1, -3]);
  assert.equal(tensors.get("b")!.dtype, "F32");
  assert.deepEqual(vals("f"), [2.5]);
  assert.deepEqual(vals("d"), [4]);
  assert.deepEqual(tensors.get("i"), { dtype: "I32", shape: [1, 1], data: new Int32Array([-1]) });
  assert.deepEqual(vals("l"), [-(2n ** 63n) + 5n]);
});

Deno.test("encodeSafetensors() round-trips F32, I32 and I64 through a file", async () => {
  const tensors: TensorMap = new Map([
    ["z.weight", {
      dtype: "F32",
      shape: [2, 3],
      data: new Float32Array([1, -2, 3.5, 0, 1e-8, -0]),
    }],
    ["a.ids", { dtype: "I32", shape: [4], data: new Int32Array([1, 2, -3, 2 ** 31 - 1]) }],
    ["m.step", { dtype: "I64", shape: [], data: new BigInt64Array([123n]) }],
    ["empty", { dtype: "F32", shape: [0, 5], data: new Float32Array(0) }],
  ]);
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    await writeSafetensors(path, tensors, { metadata: { seed: "7" } });
    const bytes = await Deno.readFile(path);
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal(headerLen % 8, 0);
    const back = await readSafetensors(path);
    assert.deepEqual(back.metadata, { seed: "7" });
    assert.deepEqual([...back.tensors.keys()], ["a.ids", "empty", "m.step", "z.weight"]);
    for (const [name, t] of tensors) assert.deepEqual(back.tensors.get(name), t, name);
    assert.deepEqual(encodeSafetensors(back.tensors, { metadata: { seed: "7" } }), bytes);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("decodeSafetensors() names the file and the fault of a malformed header", () => {
  const ok = (h: unknown, data: number[] = [0, 0, 0, 0]) => fixture(JSON.stringify(h), data);
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(5), "expected at least 8 bytes but found 5"],
    [fixture("{not json", []), "header is not JSON"],
    [ok([1, 2]), "expected the header to be a JSON object but found [1,2]"],
    [
      ok({ w: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }),
      'tensor "w" of dtype F32 and shape [2] needs 8 bytes but data_offsets span 4',
    ],
    [
      ok({ w: { dtype: "F32", shape: [1], data_offsets: [0, 8] } }),
      'tensor "w" has data_offsets [0,8] outside the 4 data bytes',
    ],
    [ok({ w: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }), 'tensor "w" has shape [-1]'],
    [ok({ w: { shape: [1], data_offsets: [0, 4] } }), 'tensor "w" has no dtype'],
    [ok({ __metadata__: { n: 1 } }), '__metadata__ "n" to be a string but found 1'],
  ];
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setUint32(0, 1000, true);
  cases.push([huge, "header length 1000 exceeds the file's 8 bytes after it"]);
  for (const [bytes, message] of cases) {
    assert.throws(() => decodeSafetensors(bytes, "ckpt.safetensors"), (e: Error) => {
      assert.equal(e.name, "SyntaxError", e.message);
      assert.ok(e.message.startsWith("Malformed safetensors file ckpt.safetensors: "), e.message);
      assert.ok(e.message.includes(message), `${e.message} lacks ${message}`);
      return true;
    });
  }
  assert.throws(
    () => decodeSafetensors(ok({ w: { dtype: "U8", shape: [4], data_offsets: [0, 4] } }), "x"),
    {
      name: "TypeError",
      message:
        'Unsupported dtype "U8" for tensor "w" in x; expected one of F32, F64, F16, BF16, I32, I64',
    },
  );
});

Deno.test("encodeSafetensors() rejects data that disagrees with dtype or shape", () => {
  assert.throws(
    () =>
      encodeSafetensors(new Map([["w", { dtype: "F32", shape: [3], data: new Float32Array(2) }]])),
    { name: "TypeError", message: 'Expected tensor "w" of shape [3] to hold 3 values but found 2' },
  );
  assert.throws(
    () =>
      encodeSafetensors(new Map([["w", { dtype: "I32", shape: [2], data: new Float32Array(2) }]])),
    {
      name: "TypeError",
      message: 'Expected tensor "w" of dtype I32 to hold a Int32Array but found a Float32Array',
    },
  );
});

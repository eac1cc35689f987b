import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { createRng, type Rng } from "../kernels/mod.ts";
import type { TensorMap } from "../kernels/safetensors.ts";
import { hfLayoutTensors, MICRO_CONFIG, microIds, writeHfLayout } from "./_hf_layout.ts";
import { readHfCheckpoint } from "./checkpoint.ts";
import { parseParityArgs, runParity, t5Outputs } from "./hf_parity.ts";
import {
  compareArrays,
  type ParityCase,
  readReference,
  shiftRight,
  writeReference,
} from "./hf_parity_reference.ts";

const CONFIG = MICRO_CONFIG;
const hfTensors = (rng: Rng) => hfLayoutTensors(CONFIG, rng, { tiedCopies: true });
const writeCheckpoint = (dir: string, tensors: TensorMap) => writeHfLayout(dir, CONFIG, tensors);

const TIED_COPIES = [
  "decoder.embed_tokens.weight",
  "encoder.embed_tokens.weight",
  "lm_head.weight",
];
/** Tensors the graph reads at 2+2 layers: shared, 2 x (bias table, final norm), 2 x 8 encoder, 2 x 13 decoder. */
const READ = 47;

/** Batch 2: 20 and 9 encoder tokens, 6 and 3 labels (-100 after). */
function inputs(rng: Rng) {
  const [encLen, decLen] = [20, 6];
  const ids = new BigInt64Array(2 * encLen), labels = new BigInt64Array(2 * decLen).fill(-100n);
  [[20, 6], [9, 3]].forEach(([n, m], b) => {
    for (let t = 0; t < n; t++) ids[b * encLen + t] = t === n - 1 ? 1n : BigInt(2 + rng.int(38));
    for (let t = 0; t < m; t++) labels[b * decLen + t] = t === m - 1 ? 1n : BigInt(2 + rng.int(38));
  });
  return {
    inputIds: ids,
    labels,
    decoderInputIds: shiftRight(labels, 2),
    batch: 2,
    encLen,
    decLen,
  };
}

const TOKENIZER_CHECKS = [
  { text: "user_12 item_7", ids: microIds("\u2581user", "_", "12", "\u2581item", "_", "7") },
];

/** A checkpoint and a reference made from elmbench's own outputs for it. */
async function selfReference(): Promise<{ dir: string; tensors: TensorMap; ref: ParityCase }> {
  const dir = await Deno.makeTempDir();
  const rng = createRng(11);
  const tensors = hfTensors(rng.fork("weights"));
  await writeCheckpoint(dir, tensors);
  const input = inputs(rng.fork("inputs"));
  const ours = await t5Outputs(await readHfCheckpoint(dir), input, { threads: 1 });
  const ref = { ...input, ...ours, tokenizerChecks: TOKENIZER_CHECKS };
  await writeReference(`${dir}/reference.json`, ref, {
    device: "cpu",
    versions: { torch: "none" },
  });
  return { dir, tensors, ref };
}

Deno.test("the parity check reads every HF tensor and finds zero error against its own outputs", async () => {
  const { dir, ref } = await selfReference();
  const report = await runParity(parseParityArgs(["--dir", dir, "--threads", "1"]));
  assert.deepEqual(
    report.rows.map((r) => [r.name, r.shape, r.maxAbs, r.relL2, r.ok]),
    [
      ["encoder_hidden", [2, 20, 16], 0, 0, true],
      ["decoder_hidden", [2, 6, 16], 0, 0, true],
      ["logits", [2, 6, 40], 0, 0, true],
      ["loss", [], 0, 0, true],
    ],
  );
  assert.deepEqual(report.coverage, { used: READ, skipped: TIED_COPIES, unused: [] });
  assert.deepEqual(report.tokenizer, { checked: 1, mismatches: [] });
  assert.equal(report.decoderIdMismatches, 0);
  assert.equal(report.lossTokens, 9);
  assert.equal(report.ok, true);

  // The loss is the mean NLL over the 9 labels that are not -100, as HF's.
  const { data } = ref.outputs.logits;
  let nll = 0;
  ref.labels.forEach((label, i) => {
    if (label === -100n) return;
    const row = data.subarray(i * 40, (i + 1) * 40);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    nll += lse - row[Number(label)];
  });
  assert.ok(Math.abs(ref.loss - nll / 9) < 1e-5, `loss ${ref.loss} vs mean NLL ${nll / 9}`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("elmbench's T5 computes what transformers 5.17 computed for the committed micro T5", async () => {
  // tests/fixtures/hf_t5_micro: written and run by results/reference/hf_t5_parity.py.
  const dir = fileURLToPath(new URL("../tests/fixtures/hf_t5_micro", import.meta.url));
  const report = await runParity(parseParityArgs(["--dir", dir, "--threads", "1"]));
  assert.deepEqual(report.hf, {
    device: "cpu",
    device_name: "x86_64",
    torch: "2.11.0+cu130",
    transformers: "5.17.0",
    tf32: {
      cuda_matmul_allow_tf32: false,
      cudnn_allow_tf32: false,
      float32_matmul_precision: "highest",
    },
  });
  // HF's own float32 rounding (its float64 rerun) is about 3e-7 here; 1e-5 leaves room for
  // other CPUs' kernels and still catches any real difference in the math.
  for (const r of report.rows) {
    assert.ok(r.relMax < 1e-5 && r.relL2 < 1e-5, `${r.name}: ${r.relMax}`);
  }
  assert.deepEqual(report.rows.map((r) => [r.name, r.shape]), [
    ["encoder_hidden", [2, 140, 32]],
    ["decoder_hidden", [2, 24, 32]],
    ["logits", [2, 24, 256]],
    ["loss", []],
  ]);
  assert.ok(Math.abs(report.rows[3].maxRef - 6.090808868408203) < 1e-12);
  assert.equal(report.lossTokens, 35);
  assert.deepEqual(report.tokenizer, { checked: 3, mismatches: [] });
  assert.deepEqual(report.coverage, { used: READ, skipped: [], unused: [] });
  assert.equal(report.ok, true);
});

Deno.test("a perturbed decoder weight fails the decoder outputs and leaves the encoder's exact", async () => {
  const { dir, tensors } = await selfReference();
  const wo = tensors.get("decoder.block.1.layer.2.DenseReluDense.wo.weight")!;
  (wo.data as Float32Array)[0] += 0.5;
  tensors.set("encoder.block.0.layer.1.DenseReluDense.wi_0.weight", { ...wo });
  await writeCheckpoint(dir, tensors);
  const report = await runParity(parseParityArgs(["--dir", dir, "--threads", "1"]));
  const byName = Object.fromEntries(report.rows.map((r) => [r.name, r]));
  assert.equal(byName.encoder_hidden.maxAbs, 0);
  for (const name of ["decoder_hidden", "logits", "loss"]) {
    assert.ok(byName[name].relMax > 1e-4, `${name}: ${byName[name].relMax}`);
    assert.equal(byName[name].ok, false);
  }
  // A gated-FFN tensor elmbench's ReLU T5 never reads is reported, not ignored.
  assert.deepEqual(report.coverage.unused, ["encoder.block.0.layer.1.DenseReluDense.wi_0.weight"]);
  assert.equal(report.ok, false);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readReference() refuses a mask elmbench cannot reproduce and a short output file", async () => {
  const { dir } = await selfReference();
  const path = `${dir}/reference.json`;
  const json = JSON.parse(await Deno.readTextFile(path));
  assert.deepEqual((await readReference(path)).outputs.logits.shape, [2, 6, 40]);
  json.attention_mask[1][3] = 0;
  await Deno.writeTextFile(path, JSON.stringify(json));
  await assert.rejects(
    readReference(path),
    /attention_mask\[1\]\[3\] in .*reference\.json to be 1 \(elmbench masks exactly the pad id 0\) but found 0/,
  );
  json.attention_mask[1][3] = 1;
  json.outputs.logits.shape = [2, 6, 41];
  await Deno.writeTextFile(path, JSON.stringify(json));
  await assert.rejects(readReference(path), /reference\.logits\.f32 to hold 492 float32 values/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("shiftRight() is HF's _shift_right and compareArrays() reports both relative errors", () => {
  const labels = BigInt64Array.of(7n, 8n, 1n, 9n, 1n, -100n);
  assert.deepEqual([...shiftRight(labels, 2)], [0n, 7n, 8n, 0n, 9n, 1n]);
  assert.deepEqual([...shiftRight(BigInt64Array.of(5n, -100n, -100n), 1, 3, 2)], [3n, 5n, 2n]);
  const s = compareArrays([1, 2, 3], [1, 2, 4]);
  assert.deepEqual({ ...s, relL2: Number(s.relL2.toFixed(6)) }, {
    maxAbs: 1,
    maxRef: 4,
    relMax: 0.25,
    relL2: Number((1 / Math.sqrt(21)).toFixed(6)),
    worst: 2,
  });
  assert.ok(Number.isNaN(compareArrays([NaN, 1], [1, 1]).relL2));
  assert.throws(() => compareArrays([1], [1, 2]), /Expected 2 values to compare but found 1/);
});

Deno.test("parseParityArgs() defaults the reference into --dir and names bad values", () => {
  assert.deepEqual(parseParityArgs(["--dir", "/tmp/t5/"]), {
    dir: "/tmp/t5",
    ref: "/tmp/t5/reference.json",
    device: "cpu",
    threads: 4,
    tol: 1e-4,
    json: false,
  });
  assert.equal(parseParityArgs(["--dir", "d", "--device", "cuda", "--tol", "1e-5"]).tol, 1e-5);
  assert.throws(() => parseParityArgs([]), /Expected --dir but found none\. Usage:/);
  assert.throws(
    () => parseParityArgs(["--dir", "d", "--device", "tpu"]),
    /cpu, cuda or webgpu but found "tpu"/,
  );
  assert.throws(
    () => parseParityArgs(["--dir", "d", "--threads", "0"]),
    /--threads to be a positive integer/,
  );
});

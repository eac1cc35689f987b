import assert from "node:assert/strict";
import { createRng, Graph, ParamStore, type TensorMap } from "../kernels/mod.ts";
import { compileInference } from "../kernels/mod.ts";
import { generateSynthetic } from "../harness/synthetic.ts";
import { pod } from "../baselines/pod.ts";
import { tinyCell } from "../tests/_helpers.ts";
import {
  hfLayoutTensors,
  MICRO_CONFIG,
  MICRO_GATED_CONFIG,
  type MicroConfig,
  writeHfLayout,
} from "./_hf_layout.ts";
import { HF_IGNORED, hfCoverage, loadHfParams, readHfCheckpoint } from "./checkpoint.ts";
import { feedForward, geluNew } from "./t5.ts";
import { T5_SIZES, t5Config } from "./t5_config.ts";

/** A checkpoint of `config`'s tensors (edited), saved under `written` (default: the same config). */
async function checkpoint(
  config: MicroConfig,
  edit?: (t: TensorMap) => void,
  written: MicroConfig = config,
) {
  const dir = await Deno.makeTempDir();
  const tensors = hfLayoutTensors(config, createRng(3), { tiedCopies: true });
  edit?.(tensors);
  await writeHfLayout(dir, written, tensors);
  return { dir, tensors };
}

Deno.test("geluNew() is Hugging Face's gelu_new, the tanh approximation", async () => {
  const xs = [-3, -1, -0.25, 0, 0.5, 1, 3];
  const g = new Graph();
  const x = g.input("x", "float64", [xs.length]);
  const run = await compileInference({ y: geluNew(x) }, new ParamStore(), {});
  const y = [...(await run.run({ x: Float64Array.from(xs) })).y.data as Float64Array];
  const ref = xs.map((v) =>
    0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))
  );
  y.forEach((v, i) => assert.ok(Math.abs(v - ref[i]) < 1e-12, `${xs[i]}: ${v} vs ${ref[i]}`));
  // Values of torch's gelu(approximate="tanh"), which gelu_new equals.
  assert.ok(Math.abs(y[5] - 0.8411919906082768) < 1e-12);
  assert.ok(Math.abs(y[1] + 0.15880800939172324) < 1e-12);
});

Deno.test("the gated feed-forward is wo(gelu_new(wi_0 x) * wi_1 x), HF's T5DenseGatedActDense", async () => {
  const cfg = t5Config(T5_SIZES.tiny, 20, { feedForward: "gated-gelu", dFf: 6 });
  const d = cfg.dModel, ff = cfg.dFf;
  const rng = createRng(5);
  const draw = (n: number) => Float32Array.from({ length: n }, () => rng.normal() * 0.5);
  const [w0, w1, wo, x] = [draw(ff * d), draw(ff * d), draw(d * ff), draw(2 * d)];
  const store = new ParamStore();
  const name = "encoder.block.0.layer.1.DenseReluDense";
  store.set(`${name}.wi_0.weight`, w0, [ff, d]);
  store.set(`${name}.wi_1.weight`, w1, [ff, d]);
  store.set(`${name}.wo.weight`, wo, [d, ff]);
  const g = new Graph();
  const y = feedForward(g.input("x", "float32", [1, 2, d]), name, cfg, false);
  assert.deepEqual(
    g.params().map((p) => p.name).sort(),
    [...store.entries()].map(([n]) => n).sort(),
  );
  const out = (await (await compileInference({ y }, store, {})).run({ x })).y.data as Float32Array;
  const gelu = (v: number) =>
    0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  for (let t = 0; t < 2; t++) {
    const h = Array.from({ length: ff }, (_, j) => {
      let a = 0, b = 0;
      for (let k = 0; k < d; k++) {
        a += w0[j * d + k] * x[t * d + k];
        b += w1[j * d + k] * x[t * d + k];
      }
      return gelu(a) * b;
    });
    for (let i = 0; i < d; i++) {
      const ref = h.reduce((s, v, j) => s + wo[i * ff + j] * v, 0);
      assert.ok(
        Math.abs(out[t * d + i] - ref) < 1e-5,
        `token ${t} dim ${i}: ${out[t * d + i]} vs ${ref}`,
      );
    }
  }
});

Deno.test("readHfCheckpoint() loads a gated-gelu T5 (v1.1 / flan-t5 layout) and reads every tensor", async () => {
  const { dir, tensors } = await checkpoint(MICRO_GATED_CONFIG);
  const hf = await readHfCheckpoint(dir);
  assert.equal(hf.cfg.feedForward, "gated-gelu");
  assert.equal(hf.cfg.tieEmbeddings, false);
  // The untied head is read; only the embedding copies are skipped.
  assert.deepEqual([...hf.skipped].sort(), [
    "decoder.embed_tokens.weight",
    "encoder.embed_tokens.weight",
  ]);
  assert.ok(hf.params.has("lm_head.weight"));
  assert.ok(hf.params.has("decoder.block.1.layer.2.DenseReluDense.wi_1.weight"));
  assert.deepEqual(hfCoverage(hf.cfg, hf.params), { missing: [], unexpected: [], misshapen: [] });
  // 47 tensors of the ReLU T5, one more wi per block (4 blocks), and lm_head.
  assert.equal(hf.params.size, 47 + 4 + 1);
  const store = new ParamStore();
  loadHfParams(hf.params, store);
  assert.deepEqual(
    store.get("encoder.block.0.layer.1.DenseReluDense.wi_0.weight")!.data,
    tensors.get("encoder.block.0.layer.1.DenseReluDense.wi_0.weight")!.data,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readHfCheckpoint() refuses tensors that do not cover the model, naming each", async () => {
  // A ReLU config over a gated checkpoint: wi missing, wi_0 and wi_1 unexpected.
  const gated = await checkpoint(MICRO_GATED_CONFIG, undefined, {
    ...MICRO_GATED_CONFIG,
    feed_forward_proj: "relu",
  });
  await assert.rejects(
    readHfCheckpoint(gated.dir),
    (e: Error) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, /of a T5 with feed_forward_proj "relu" and 2 \+ 2 blocks/);
      assert.match(e.message, /missing decoder\.block\.0\.layer\.2\.DenseReluDense\.wi\.weight, /);
      assert.match(
        e.message,
        /unexpected decoder\.block\.0\.layer\.2\.DenseReluDense\.wi_0\.weight, /,
      );
      assert.match(e.message, /encoder\.block\.1\.layer\.1\.DenseReluDense\.wi_1\.weight/);
      return true;
    },
  );
  // One tensor dropped, one stray added, one of the wrong shape.
  const { dir } = await checkpoint(MICRO_CONFIG, (t) => {
    t.delete("decoder.block.1.layer.1.EncDecAttention.v.weight");
    t.set("encoder.block.2.layer.0.SelfAttention.q.weight", { ...t.get("shared.weight")! });
    const wi = t.get("encoder.block.0.layer.1.DenseReluDense.wi.weight")!;
    t.set("encoder.block.0.layer.1.DenseReluDense.wi.weight", { ...wi, shape: [16, 32] });
  });
  await assert.rejects(
    readHfCheckpoint(dir),
    new RegExp(
      "found them missing decoder\\.block\\.1\\.layer\\.1\\.EncDecAttention\\.v\\.weight; " +
        "unexpected encoder\\.block\\.2\\.layer\\.0\\.SelfAttention\\.q\\.weight; " +
        "of another shape encoder\\.block\\.0\\.layer\\.1\\.DenseReluDense\\.wi\\.weight " +
        "\\[16,32\\] where the model needs \\[32,16\\]",
    ),
  );
  // The parity check reads them all and reports instead.
  assert.equal((await readHfCheckpoint(dir, { coverage: "report" })).params.size, 47);
  // The plugin's --set hfModel path refuses too, before training anything.
  const data = await generateSynthetic({ users: 24, items: 150 });
  await assert.rejects(
    tinyCell(data, "direct", pod, { hfModel: gated.dir }),
    /missing .*DenseReluDense\.wi\.weight/,
  );
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(gated.dir, { recursive: true });
});

Deno.test("readHfCheckpoint() skips the cross-attention position bias that HF T5 ignores", async () => {
  const { dir } = await checkpoint(MICRO_CONFIG, (t) => {
    t.set(HF_IGNORED, {
      ...t.get("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight")!,
    });
  });
  const hf = await readHfCheckpoint(dir);
  assert.ok(hf.skipped.includes(HF_IGNORED));
  assert.ok(!hf.params.has(HF_IGNORED));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a gated-gelu checkpoint trains and scores through --set hfModel", async () => {
  const { dir } = await checkpoint(MICRO_GATED_CONFIG);
  const data = await generateSynthetic({ users: 24, items: 150 });
  const record = await tinyCell(data, "sequential", pod, { hfModel: dir, epochs: "1" }, 4);
  assert.equal(record.info.vocab, MICRO_GATED_CONFIG.vocab_size);
  assert.equal((record.info.train_log as unknown[]).length, 1);
  await Deno.remove(dir, { recursive: true });
});

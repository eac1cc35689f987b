import assert from "node:assert/strict";
import { createRng } from "../kernels/mod.ts";
import { silentProgress } from "../harness/progress.ts";
import { ParamStore } from "../kernels/param_store.ts";
import { PromptEncoder } from "./batch.ts";
import { readHfCheckpoint, writeStore } from "./checkpoint.ts";
import { type Sample, SampleMaker, templateWords } from "./prompts.ts";
import { SEQ2SEQ_DEFAULTS, trainingKey } from "./seq2seq_config.ts";
import { Seq2SeqRecommender } from "./seq2seq.ts";
import { T5_SIZES, t5Config } from "./t5_config.ts";
import { builtinTokenizer } from "./tokenizer.ts";
import { type Trainable, trainLoop } from "./train.ts";
import { tinySplit } from "./test_split.ts";

function tinyModel(
  nUsers: number,
  nItems: number,
  options: {
    dropout?: number;
    attentionDropout?: boolean;
    lr?: number;
    weightDecay?: number;
    batch?: number;
  } = {},
) {
  const tokenizer = builtinTokenizer(templateWords());
  const prompts = new PromptEncoder(tokenizer, nUsers, nItems);
  const cfg = t5Config(T5_SIZES.tiny, tokenizer.vocabSize, {
    dropout: options.dropout ?? 0.1,
    attentionDropout: options.attentionDropout ?? true,
  });
  return new Seq2SeqRecommender({
    cfg,
    store: new ParamStore(),
    prompts,
    extras: { wholeWordRows: 512 },
    batchSize: options.batch ?? 4,
    evalBatch: 4,
    lr: options.lr ?? 3e-3,
    weightDecay: options.weightDecay ?? 0.01,
    threads: 2,
    rng: createRng(0),
  });
}

Deno.test("a tiny T5 memorises four sequential prompts and generates their targets exactly", async () => {
  const model = tinyModel(4, 300, { dropout: 0, lr: 1e-2 });
  const samples: Sample[] = [
    { task: "sequential", user: 0, items: Int32Array.of(5, 17), target: 123, template: 0 },
    { task: "sequential", user: 1, items: Int32Array.of(9), target: 45, template: 0 },
    { task: "sequential", user: 2, items: Int32Array.of(250, 3, 8), target: 7, template: 0 },
    { task: "sequential", user: 3, items: Int32Array.of(1), target: 299, template: 0 },
  ];
  let loss = Infinity;
  for (let i = 0; i < 120; i++) loss = await model.trainStep("sequential", samples);
  assert.ok(loss < 0.05, `loss ${loss}`);
  const hyps = await model.generate("sequential", samples, { beams: 4, returns: 1 });
  assert.deepEqual(
    hyps.map(([h]) => model.options.prompts.parse(h.tokens)),
    samples.map((s) => s.target),
  );
});

const fourSamples: Sample[] = [
  { task: "sequential", user: 0, items: Int32Array.of(5, 17), target: 123, template: 0 },
  { task: "sequential", user: 1, items: Int32Array.of(9, 4, 8), target: 45, template: 0 },
];

Deno.test("dropout reaches the attention probabilities while training (HF's T5), unless switched off", async () => {
  const first = async (options: { dropout: number; attentionDropout: boolean }) =>
    await tinyModel(4, 300, options).trainStep("sequential", fourSamples);
  const on = await first({ dropout: 0.3, attentionDropout: true });
  const off = await first({ dropout: 0.3, attentionDropout: false });
  // Same params and the same masks elsewhere: only the attention masks differ.
  assert.notEqual(on, off);
  assert.equal(
    await first({ dropout: 0, attentionDropout: true }),
    await first({ dropout: 0, attentionDropout: false }),
  );
  // The validation loss has no dropout at all.
  const model = tinyModel(4, 300, { dropout: 0.3, attentionDropout: true });
  assert.equal(
    await model.loss("sequential", fourSamples),
    await model.loss("sequential", fourSamples),
  );
});

Deno.test("weight decay reaches every param, the layer norms' too, as the releases' AdamW does", async () => {
  const step = async (weightDecay: number) => {
    const model = tinyModel(4, 300, { dropout: 0, lr: 0.1, weightDecay });
    await model.loss("sequential", fourSamples); // draws the params
    const before = new Map([...model.store.entries()].map(([n, t]) => [n, t.data.slice()]));
    await model.trainStep("sequential", fourSamples);
    return { before, after: model.store };
  };
  const plain = await step(0), decayed = await step(0.5);
  for (
    const name of [
      "encoder.block.0.layer.0.layer_norm.weight",
      "decoder.final_layer_norm.weight",
      "encoder.block.0.layer.1.DenseReluDense.wi.weight",
    ]
  ) {
    const p0 = plain.before.get(name)!;
    const a = plain.after.get(name)!.data, b = decayed.after.get(name)!.data;
    // Decoupled decay: p <- p - lr * (adam step + wd * p), so the two differ by lr * wd * p.
    for (let i = 0; i < 4; i++) {
      assert.ok(Math.abs(a[i] - b[i] - 0.1 * 0.5 * p0[i]) < 1e-5, `${name}[${i}]`);
    }
  }
});

Deno.test("cached decoding gives the hypotheses and scores of recomputing decoding", async () => {
  // 12,101 items: ids of two chunks, so beams reorder over three decoder steps.
  const model = tinyModel(50, 12101, { dropout: 0, lr: 1e-2 });
  const rng = createRng(3);
  const draw = (task: "direct" | "sequential"): Sample => ({
    task,
    user: rng.int(50),
    items: Int32Array.from({ length: task === "direct" ? 100 : 5 }, () => 1 + rng.int(12101)),
    target: 1 + rng.int(12101),
    template: 0,
  });
  for (const task of ["sequential", "direct"] as const) {
    const train = Array.from({ length: 4 }, () => draw(task));
    for (let i = 0; i < 15; i++) await model.trainStep(task, train);
    const samples = [...train.slice(0, 2), draw(task)];
    const options = { beams: 6, returns: 6 };
    const cached = await model.generate(task, samples, { ...options, cache: true });
    const full = await model.generate(task, samples, { ...options, cache: false });
    assert.equal(model.decLen, 3); // two chunks and eos
    for (let r = 0; r < samples.length; r++) {
      assert.deepEqual(cached[r].map((h) => h.tokens), full[r].map((h) => h.tokens), task);
      cached[r].forEach((h, i) => assert.ok(Math.abs(h.score - full[r][i].score) < 1e-4, task));
    }
  }
});

Deno.test("golden: the first five losses of the tiny preset with seed 0", async () => {
  const split = await tinySplit();
  const model = tinyModel(split.nUsers, split.nItems, { batch: 8 });
  const maker = new SampleMaker(split);
  const losses: number[] = [];
  const users = Array.from({ length: split.nUsers }, (_, u) => u);
  await trainLoop(model, {
    label: "golden",
    epochs: 1,
    batchSize: 8,
    patience: 1,
    tasks: ["direct", "sequential"],
    samples: (task, rng) => users.map((u) => maker.train(task, u, rng.fork(`u${u}`))),
    validation: {},
    rng: createRng(0),
    progress: silentProgress,
    dir: "",
    maxBatches: 5,
    onBatch: (_task, loss) => losses.push(loss),
  });
  // Recorded with this code; a change that moves them must say why. Last
  // moved by issue 25: dropout on the attention probabilities (HF's T5 has
  // it; the first loss moves) and weight decay on the layer norms too (the
  // releases decay every param; later losses move). Before that, when
  // dropout masks came to be computed in the graph from one seed per step.
  const golden = [
    7.35293436050415,
    6.784748077392578,
    6.926386833190918,
    6.41202974319458,
    6.2948102951049805,
  ];
  losses.forEach((l, i) =>
    assert.ok(Math.abs(l - golden[i]) < 1e-4, `loss ${i}: ${l} vs ${golden[i]}`)
  );
});

Deno.test("an HF-layout checkpoint (tokenizer.json, config.json, model.safetensors) round-trips", async () => {
  const dir = await Deno.makeTempDir();
  const vocab: [string, number][] = [["<pad>", 0], ["</s>", 0], ["<unk>", 0], ["\u2581", -3]];
  for (const w of ["\u2581user", "\u2581item", "_", "\u2581,", "\u2581:"]) vocab.push([w, -1]);
  for (let d = 0; d < 10; d++) vocab.push([String(d), -2], [`\u2581${d}`, -2.5]);
  await Deno.writeTextFile(
    `${dir}/tokenizer.json`,
    JSON.stringify({ model: { type: "Unigram", unk_id: 2, vocab } }),
  );
  await Deno.writeTextFile(
    `${dir}/config.json`,
    JSON.stringify({
      vocab_size: vocab.length,
      d_model: 16,
      d_kv: 4,
      d_ff: 24,
      num_heads: 4,
      num_layers: 1,
      num_decoder_layers: 2,
      relative_attention_num_buckets: 32,
      relative_attention_max_distance: 128,
      dropout_rate: 0,
      layer_norm_epsilon: 1e-6,
      tie_word_embeddings: true,
    }),
  );
  const { parseHfConfig } = await import("./t5_config.ts");
  const { parseHfTokenizer } = await import("./hf_tokenizer.ts");
  const cfg = parseHfConfig(await Deno.readTextFile(`${dir}/config.json`));
  const tokenizer = parseHfTokenizer(await Deno.readTextFile(`${dir}/tokenizer.json`));
  const make = (store: ParamStore, tok = tokenizer, c = cfg) =>
    new Seq2SeqRecommender({
      cfg: c,
      store,
      prompts: new PromptEncoder(tok, 5, 40, { wholeWord: "none" }),
      extras: {},
      batchSize: 2,
      evalBatch: 2,
      lr: 1e-3,
      weightDecay: 0,
      threads: 1,
      rng: createRng(0),
    });
  const samples: Sample[] = [
    { task: "sequential", user: 0, items: Int32Array.of(5, 17), target: 23, template: 0 },
    { task: "sequential", user: 4, items: Int32Array.of(9), target: 4, template: 1 },
  ];
  const original = make(new ParamStore());
  const before = await original.loss("sequential", samples);
  await writeStore(`${dir}/model.safetensors`, original.store, { paramsOnly: true });

  const hf = await readHfCheckpoint(dir);
  assert.deepEqual(hf.cfg, cfg);
  for (
    const name of [
      "shared.weight",
      "encoder.block.0.layer.0.SelfAttention.q.weight",
      "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
      "encoder.block.0.layer.1.DenseReluDense.wi.weight",
      "encoder.final_layer_norm.weight",
      "decoder.block.1.layer.1.EncDecAttention.o.weight",
      "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
      "decoder.block.1.layer.2.layer_norm.weight",
    ]
  ) assert.ok(hf.params.has(name), name);
  assert.ok(!hf.params.has("decoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight"));
  assert.deepEqual(hf.tokenizer.encodeWord("user_12"), tokenizer.encodeWord("user_12"));
  const store = new ParamStore();
  for (const [name, t] of hf.params) store.set(name, t.data as Float32Array, t.shape);
  const after = await make(store, hf.tokenizer, hf.cfg).loss("sequential", samples);
  assert.equal(after, before);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("trainLoop() checkpoints every epoch and a rerun resumes after the last one", async () => {
  const split = await tinySplit();
  const maker = new SampleMaker(split);
  let dir = await Deno.makeTempDir();
  const users = Array.from({ length: 16 }, (_, u) => u);
  const run = (epochs: number) => {
    const model = tinyModel(split.nUsers, split.nItems, { batch: 8 });
    return trainLoop(model, {
      label: "resume",
      epochs,
      batchSize: 8,
      patience: 5,
      tasks: ["sequential"],
      samples: (task, rng) => users.map((u) => maker.train(task, u, rng.fork(`u${u}`))),
      validation: {
        sequential: users.slice(0, 8).map((u) => maker.train("sequential", u, createRng(u))),
      },
      rng: createRng(0),
      progress: silentProgress,
      dir,
    });
  };
  const first = await run(1);
  assert.equal(first.epochsRun, 1);
  const second = await run(2);
  assert.equal(second.resumedFrom, 1);
  assert.equal(second.epochsRun, 2);
  assert.equal(second.log[0].valid, first.log[0].valid);
  // The resumed epoch is the epoch an uninterrupted run trains (optimizer state, step count).
  const resumedDir = dir;
  dir = await Deno.makeTempDir();
  const straight = await run(2);
  assert.equal(straight.resumedFrom, 0);
  assert.deepEqual(
    { ...straight.log[1], seconds: 0 },
    { ...second.log[1], seconds: 0 },
  );
  await Deno.remove(dir, { recursive: true });
  dir = resumedDir;
  const again = await run(2);
  assert.equal(again.resumedFrom, 2);
  // Asking for fewer epochs than the directory holds is only sound when the
  // best epoch is among them.
  if (again.bestEpoch === 2) await assert.rejects(() => run(1), /best of the first 1 is gone/);
  else assert.equal((await run(1)).bestEpoch, 1);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("trainingKey() ignores epochs and decoding keys but not what trains", () => {
  const base = { ...SEQ2SEQ_DEFAULTS };
  const key = (c: typeof base) => trainingKey("p5", "h", 0, c, ["direct", "sequential"]);
  assert.equal(key({ ...base, epochs: 4, beams: 5, decode: "constrained" }), key(base));
  assert.notEqual(key({ ...base, lr: 2e-3 }), key(base));
  assert.notEqual(key({ ...base, patience: 1 }), key(base));
  assert.notEqual(trainingKey("p5", "h", 0, base, ["direct"]), key(base));
  // Keys added later change the key only away from their defaults, so that
  // checkpoints made before them still resume.
  const { directPrompt: _d, keep: _k, ...before } = base;
  assert.equal(key(before as typeof base), key(base));
  assert.notEqual(key({ ...base, directPrompt: "user" }), key(base));
  assert.notEqual(key({ ...base, keep: "last" }), key(base));
});

Deno.test("trainLoop() keeps the best epoch's params, or with keep 'last' runs every epoch and keeps the last", async () => {
  // A stand-in model: one training step per epoch adds 1 to w, and the
  // validation loss after epoch e is scripted, lowest after epoch 2.
  const script = [NaN, 3, 1, 2, 2.5];
  const fake = (): Trainable => {
    const store = new ParamStore();
    store.set("w", new Float32Array(1), [1]);
    const w = () => store.get("w")!.data[0];
    return {
      store,
      trainStep: () => {
        store.set("w", Float32Array.of(w() + 1), [1]);
        return Promise.resolve(0);
      },
      loss: () => Promise.resolve(script[w()]),
    };
  };
  const sample: Sample = {
    task: "sequential",
    user: 0,
    items: Int32Array.of(1),
    target: 2,
    template: 0,
  };
  const dir = await Deno.makeTempDir();
  const run = (model: Trainable, keep: "best" | "last", epochs: number, patience = 10) =>
    trainLoop(model, {
      label: keep,
      epochs,
      batchSize: 8,
      patience,
      keep,
      tasks: ["sequential"],
      samples: () => [sample],
      validation: { sequential: [sample] },
      rng: createRng(0),
      progress: silentProgress,
      dir: keep === "last" ? dir : "",
    });
  const wOf = (m: Trainable) => m.store.get("w")!.data[0];
  const best = fake();
  assert.deepEqual(
    [(await run(best, "best", 4)).epochsRun, wOf(best)],
    [4, 2],
    "four epochs, the params of epoch 2",
  );
  const stopped = fake();
  assert.equal((await run(stopped, "best", 4, 1)).epochsRun, 3, "patience 1 stops after epoch 3");
  const last = fake();
  const result = await run(last, "last", 4, 1);
  assert.deepEqual([result.epochsRun, result.bestEpoch, wOf(last)], [4, 2, 4]);
  // The last of fewer epochs than the directory holds is gone.
  await assert.rejects(() => run(fake(), "last", 2), /the last of the first 2 is gone/);
  await Deno.remove(dir, { recursive: true });
});

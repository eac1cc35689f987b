/**
 * `deno bench` of beam-search decoding (beam 20, top 10, one thread) with
 * and without the decoder's key/value cache, on Beauty-sized ids (three
 * decoder steps), at the `cpu` size and at d_model 256, the size from
 * which `Seq2SeqRecommender.generate` caches. The `paper` size (t5-small)
 * takes seconds per batch: `ELMBENCH_BENCH_PAPER=1` adds it.
 *
 * @module
 */

import { createRng } from "../kernels/mod.ts";
import { ParamStore } from "../kernels/param_store.ts";
import { PromptEncoder } from "./batch.ts";
import { type Sample, templateWords } from "./prompts.ts";
import { Seq2SeqRecommender } from "./seq2seq.ts";
import { T5_SIZES, t5Config, type T5Size } from "./t5_config.ts";
import { builtinTokenizer } from "./tokenizer.ts";

const nUsers = 22_363, nItems = 12_101;
const tokenizer = builtinTokenizer(templateWords());
const prompts = new PromptEncoder(tokenizer, nUsers, nItems);
const rng = createRng(1);
const sample = (task: "direct" | "sequential"): Sample => ({
  task,
  user: rng.int(nUsers),
  items: Int32Array.from({ length: task === "direct" ? 100 : 20 }, () => 1 + rng.int(nItems)),
  target: 1 + rng.int(nItems),
  template: 0,
});

const mid: T5Size = {
  dModel: 256,
  dKv: 32,
  dFf: 1024,
  heads: 8,
  encoderLayers: 3,
  decoderLayers: 3,
};
const sizes: [string, T5Size, number][] = [["cpu", T5_SIZES.cpu, 16], ["d256", mid, 8]];
if (Deno.env.get("ELMBENCH_BENCH_PAPER")) sizes.push(["paper", T5_SIZES.paper, 8]);

for (const [label, size, evalBatch] of sizes) {
  const model = new Seq2SeqRecommender({
    cfg: t5Config(size, tokenizer.vocabSize),
    store: new ParamStore(),
    prompts,
    extras: { wholeWordRows: 512 },
    batchSize: 8,
    evalBatch,
    lr: 1e-3,
    weightDecay: 0.01,
    threads: 1,
    rng: createRng(0),
  });
  for (const task of ["sequential", "direct"] as const) {
    const users = Array.from({ length: evalBatch }, () => sample(task));
    const group = `beam 20, ${label}, ${task}, ${evalBatch} users`;
    for (const cache of [false, true]) {
      Deno.bench(
        `${cache ? "cached" : "recompute"}, ${label}, ${task}`,
        { group, baseline: !cache, n: 3, warmup: 1 },
        async () => {
          await model.generate(task, users, { beams: 20, returns: 10, cache });
        },
      );
    }
  }
}

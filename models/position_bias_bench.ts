/**
 * `deno bench` of the encoder's attention bias (relative position bias plus
 * padding bias, shared by two attention layers, backward into the bucket
 * table) at the shapes of a Beauty direct batch (B 64, T 420, 4 heads of the
 * `cpu` size), one thread. The reference is the layout `positionBias` had
 * before: gather `[T*T, H]` rows of the `[buckets, H]` table, then transpose.
 * ORT's transpose optimizer pushed that transpose past the padding-bias Add
 * and moved the whole `[T, T, B, H]` sum, which made a `tiny` direct train
 * step 2.4x and a `cpu` one 1.95x slower (same losses). Measured here on
 * 2 cores: this bench 1.97x.
 *
 * @module
 */

import { createRng } from "../kernels/mod.ts";
import { Graph, type Tensor } from "../kernels/graph.ts";
import { normal } from "../kernels/init.ts";
import { adamw } from "../kernels/optim.ts";
import { ParamStore } from "../kernels/param_store.ts";
import { compileTrainStep } from "../kernels/step.ts";
import { bucketMatrix } from "./relative_position.ts";
import { positionBias } from "./t5.ts";
import { T5_SIZES, t5Config } from "./t5_config.ts";

const b = 64, t = 420, dKv = 16;
const cfg = t5Config(T5_SIZES.cpu, 1000);
const h = cfg.heads;
const tableName = "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight";

/** The old layout, kept here only as the reference. */
function rowsThenTranspose(g: Graph): Tensor {
  const table = g.param(tableName, [cfg.numBuckets, h], { init: normal({ std: 0.1 }) });
  const buckets = bucketMatrix(t, t, {
    bidirectional: true,
    numBuckets: cfg.numBuckets,
    maxDistance: cfg.maxDistance,
  });
  const picked = g.gather(table, g.constant(buckets, "int64", [t * t]));
  return g.reshape(g.transpose(picked, [1, 0]), [1, h, t, t]);
}

/** Two attention layers sharing the bias, as the `cpu` encoder's two blocks do. */
async function attentionStep(bias: (g: Graph) => Tensor) {
  const g = new Graph();
  const pad = g.input("pad", "float32", [b, 1, 1, t]);
  const shared = g.add(bias(g), pad);
  let x = g.input("x", "float32", [b, h, t, dKv]);
  for (let layer = 0; layer < 2; layer++) {
    const scores = g.add(g.matMul(x, g.transpose(x, [0, 1, 3, 2])), shared);
    x = g.matMul(g.softmax(scores, -1), x);
  }
  const loss = g.reduceMean(g.mul(x, x), undefined, false);
  const store = new ParamStore();
  store.init(g, createRng(0));
  const step = await compileTrainStep(loss, store, {
    optimizer: adamw({ lr: 1e-3 }),
    intraOpThreads: 1,
  });
  const rng = createRng(1);
  const feeds = {
    pad: Float32Array.from({ length: b * t }, (_, i) => (i % t > 400 ? -1e9 : 0)),
    x: Float32Array.from({ length: b * h * t * dKv }, () => rng.normal()),
  };
  return async () => {
    await step.run(feeds);
  };
}

const group = `encoder attention bias, B ${b}, T ${t}, ${h} heads, train step`;
const reference = await attentionStep(rowsThenTranspose);
const current = await attentionStep((g) => positionBias(g, "encoder", cfg, t, "float32"));
Deno.bench("gather rows, then transpose (before)", { group, baseline: true }, reference);
Deno.bench("transposed table, gather on axis 1 (positionBias)", { group }, current);

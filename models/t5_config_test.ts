import assert from "node:assert/strict";
import { parseHfConfig } from "./t5_config.ts";

const base = {
  vocab_size: 32128,
  d_model: 512,
  d_kv: 64,
  d_ff: 2048,
  num_layers: 6,
  num_heads: 8,
};

Deno.test("parseHfConfig() reads t5-small's config.json with the defaults HF has", () => {
  assert.deepEqual(parseHfConfig(JSON.stringify(base)), {
    vocabSize: 32128,
    dModel: 512,
    dKv: 64,
    dFf: 2048,
    heads: 8,
    encoderLayers: 6,
    decoderLayers: 6,
    numBuckets: 32,
    maxDistance: 128,
    dropout: 0.1,
    attentionDropout: true,
    eps: 1e-6,
    tieEmbeddings: true,
    feedForward: "relu",
  });
});

Deno.test("parseHfConfig() unties the head where transformers 5 says scale_decoder_outputs: false", () => {
  const tied = (extra: object) =>
    parseHfConfig(JSON.stringify({ ...base, ...extra })).tieEmbeddings;
  assert.equal(tied({ tie_word_embeddings: true, scale_decoder_outputs: true }), true);
  // transformers 5 forces tie_word_embeddings to true and keeps t5 v1.1's false here.
  assert.equal(tied({ tie_word_embeddings: true, scale_decoder_outputs: false }), false);
  assert.equal(tied({ tie_word_embeddings: false }), false);
});

Deno.test("parseHfConfig() reads flan-t5's gated-gelu and refuses a feed-forward elmbench lacks", () => {
  const flan = parseHfConfig(
    JSON.stringify({ ...base, feed_forward_proj: "gated-gelu", tie_word_embeddings: false }),
  );
  assert.equal(flan.feedForward, "gated-gelu");
  assert.equal(flan.tieEmbeddings, false);
  assert.throws(
    () =>
      parseHfConfig(JSON.stringify({ ...base, feed_forward_proj: "gated-silu" }), "t5/config.json"),
    /Expected feed_forward_proj "relu" or "gated-gelu" in t5\/config\.json .* but found "gated-silu"/,
  );
});

/**
 * Test fixtures in Hugging Face's layout, written from TypeScript: a
 * `config.json` as transformers 5 saves a T5, a Unigram `tokenizer.json`,
 * and a `model.safetensors` holding every tensor of HF's
 * `T5ForConditionalGeneration` state dict under HF's names (`[out, in]`
 * linears), for the ReLU feed-forward (`wi`) and the gated one of T5 v1.1
 * and flan-t5 (`wi_0`, `wi_1`, and an untied `lm_head`).
 *
 * Private to `models/`: the loader's and the parity check's tests share it.
 *
 * @module
 */
import { type Rng, type TensorMap, writeSafetensors } from "../kernels/mod.ts";

/**
 * A tiny T5 as transformers 5 saves one: tie_word_embeddings forced true,
 * the head scaling in scale_decoder_outputs, and small buckets so that 20
 * encoder tokens reach the clamped ones.
 */
export const MICRO_CONFIG = {
  architectures: ["T5ForConditionalGeneration"],
  model_type: "t5",
  vocab_size: 40,
  d_model: 16,
  d_kv: 4,
  d_ff: 32,
  num_heads: 4,
  num_layers: 2,
  num_decoder_layers: 2,
  relative_attention_num_buckets: 8,
  relative_attention_max_distance: 16,
  dropout_rate: 0.1,
  layer_norm_epsilon: 1e-6,
  feed_forward_proj: "relu",
  tie_word_embeddings: true,
  scale_decoder_outputs: true,
  decoder_start_token_id: 0,
  pad_token_id: 0,
  eos_token_id: 1,
};

/** {@linkcode MICRO_CONFIG} as T5 v1.1 / flan-t5 have it: gated GELU, an untied head without scaling. */
export const MICRO_GATED_CONFIG = {
  ...MICRO_CONFIG,
  feed_forward_proj: "gated-gelu",
  dense_act_fn: "gelu_new",
  is_gated_act: true,
  tie_word_embeddings: false,
  scale_decoder_outputs: false,
};

/** The config fields the fixtures read. */
export type MicroConfig = typeof MICRO_CONFIG;

const S = "\u2581";
/** The Unigram vocabulary of the fixtures' tokenizer: ids, `user`/`item`, `_`, digits. */
export const MICRO_VOCAB: [string, number][] = [
  ["<pad>", 0],
  ["</s>", 0],
  ["<unk>", 0],
  [S, -4],
  [`${S}user`, -2],
  [`${S}item`, -2.5],
  ["_", -3],
  ...Array.from({ length: 10 }, (_, d): [string, number] => [String(d), -3.5 - d / 10]),
  ["12", -6.5], // beats "1" + "2" (-3.6 - 3.7): Viterbi must pick it
];

/** Token ids of pieces of {@linkcode MICRO_VOCAB}. */
export const microIds = (...pieces: string[]): number[] =>
  pieces.map((p) => MICRO_VOCAB.findIndex(([q]) => q === p));

/**
 * Every tensor of HF's state dict for `config`, seeded. `tiedCopies` adds the
 * copies of `shared.weight` older checkpoints store (`*.embed_tokens`, and
 * `lm_head` when the head is tied).
 */
export function hfLayoutTensors(
  config: MicroConfig,
  rng: Rng,
  options: { tiedCopies?: boolean } = {},
): TensorMap {
  const { d_model: d, d_kv: kv, num_heads: h, d_ff: ff, vocab_size: v } = config;
  const buckets = config.relative_attention_num_buckets;
  const gated = config.feed_forward_proj === "gated-gelu";
  const shapes: Record<string, number[]> = { "shared.weight": [v, d] };
  const attn = (p: string) => {
    for (const m of ["q", "k", "v"]) shapes[`${p}.${m}.weight`] = [h * kv, d];
    shapes[`${p}.o.weight`] = [d, h * kv];
  };
  const ffn = (p: string) => {
    for (const wi of gated ? ["wi_0", "wi_1"] : ["wi"]) {
      shapes[`${p}.DenseReluDense.${wi}.weight`] = [ff, d];
    }
    shapes[`${p}.DenseReluDense.wo.weight`] = [d, ff];
    shapes[`${p}.layer_norm.weight`] = [d];
  };
  for (const stack of ["encoder", "decoder"]) {
    shapes[`${stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight`] = [buckets, h];
    shapes[`${stack}.final_layer_norm.weight`] = [d];
    const layers = stack === "encoder" ? config.num_layers : config.num_decoder_layers;
    for (let l = 0; l < layers; l++) {
      const b = `${stack}.block.${l}.layer`;
      attn(`${b}.0.SelfAttention`);
      shapes[`${b}.0.layer_norm.weight`] = [d];
      if (stack === "encoder") ffn(`${b}.1`);
      else {
        attn(`${b}.1.EncDecAttention`);
        shapes[`${b}.1.layer_norm.weight`] = [d];
        ffn(`${b}.2`);
      }
    }
  }
  if (!config.tie_word_embeddings) shapes["lm_head.weight"] = [v, d];
  const out: TensorMap = new Map();
  for (const [name, shape] of Object.entries(shapes)) {
    const n = shape.reduce((a, x) => a * x, 1);
    const std = name === "shared.weight" ? 1 : name.includes("norm") ? 0.2 : 0.4;
    const mean = name.includes("norm") ? 1 : 0;
    const data = Float32Array.from({ length: n }, () => mean + std * rng.normal());
    out.set(name, { dtype: "F32", shape, data });
  }
  if (options.tiedCopies) {
    const shared = out.get("shared.weight")!;
    const copies = ["encoder.embed_tokens.weight", "decoder.embed_tokens.weight"];
    if (config.tie_word_embeddings) copies.push("lm_head.weight");
    for (const copy of copies) out.set(copy, { ...shared, data: shared.data.slice() });
  }
  return out;
}

/** Writes `config.json`, `tokenizer.json` and `model.safetensors` into `dir`. */
export async function writeHfLayout(
  dir: string,
  config: MicroConfig,
  tensors: TensorMap,
): Promise<void> {
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config));
  await Deno.writeTextFile(
    `${dir}/tokenizer.json`,
    JSON.stringify({
      version: "1.0",
      added_tokens: [{ id: 0, content: "<pad>", special: true }],
      pre_tokenizer: { type: "Metaspace", replacement: S, prepend_scheme: "always", split: true },
      model: { type: "Unigram", unk_id: 2, vocab: MICRO_VOCAB, byte_fallback: false },
    }),
  );
  await writeSafetensors(`${dir}/model.safetensors`, tensors, { metadata: { format: "pt" } });
}

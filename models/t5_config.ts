/**
 * T5 architecture sizes and the size presets of the generative plugins.
 *
 * @module
 */

/** The architecture of a T5 encoder-decoder (Hugging Face `T5Config` names in comments). */
export interface T5Config {
  /** `vocab_size`: rows of `shared.weight`. */
  readonly vocabSize: number;
  /** `d_model`. */
  readonly dModel: number;
  /** `d_kv`: per-head width. */
  readonly dKv: number;
  /** `d_ff`. */
  readonly dFf: number;
  /** `num_heads`. */
  readonly heads: number;
  /** `num_layers`. */
  readonly encoderLayers: number;
  /** `num_decoder_layers`. */
  readonly decoderLayers: number;
  /** `relative_attention_num_buckets`. @default 32 */
  readonly numBuckets: number;
  /** `relative_attention_max_distance`. @default 128 */
  readonly maxDistance: number;
  /** `dropout_rate`. @default 0.1 */
  readonly dropout: number;
  /**
   * Dropout on the attention probabilities too, as HF's T5 has it (at
   * `dropout`). @default true
   */
  readonly attentionDropout: boolean;
  /** `layer_norm_epsilon`. @default 1e-6 */
  readonly eps: number;
  /** `tie_word_embeddings`: LM head = shared embedding, inputs scaled by d_model^-0.5. */
  readonly tieEmbeddings: boolean;
  /**
   * `feed_forward_proj`: `relu` (t5-small: `wi`, ReLU, `wo`) or `gated-gelu`
   * (T5 v1.1, flan-t5: `wo(gelu_new(wi_0 x) * wi_1 x)`). @default "relu"
   */
  readonly feedForward: FeedForward;
}

/** The feed-forward blocks elmbench's T5 has (Hugging Face's `feed_forward_proj` values). */
export type FeedForward = "relu" | "gated-gelu";
/** Every {@linkcode FeedForward}, for config checks. */
export const FEED_FORWARDS: readonly FeedForward[] = ["relu", "gated-gelu"];

/** The sizes a preset fixes. */
export type T5Size = Pick<
  T5Config,
  "dModel" | "dKv" | "dFf" | "heads" | "encoderLayers" | "decoderLayers"
>;

/**
 * Sizes by preset. `paper` is t5-small. `cpu` was chosen by measurement on
 * 2 cores (`out/issue5/measure.log`): at d_model 128 / d_ff 512 a Beauty
 * epoch (both tasks, batch 64) takes about 47 minutes (6.4 s per direct
 * batch of 64 x 420 tokens, 1.6 s per sequential batch, about 70% of the
 * engine's MatMul ceiling), too slow for 10 epochs; d_model 64 / d_ff 256
 * cuts the FLOPs per token about 3.5x. Measured at d_model 64, one thread,
 * with two other runs on the machine: 4.84 s per direct and 0.71 s per
 * sequential batch, about 32 minutes per Beauty epoch there. `tiny` is for
 * tests.
 */
export const T5_SIZES: Readonly<Record<"tiny" | "cpu" | "paper", T5Size>> = {
  tiny: { dModel: 32, dKv: 8, dFf: 64, heads: 4, encoderLayers: 1, decoderLayers: 1 },
  cpu: { dModel: 64, dKv: 16, dFf: 256, heads: 4, encoderLayers: 2, decoderLayers: 2 },
  paper: { dModel: 512, dKv: 64, dFf: 2048, heads: 8, encoderLayers: 6, decoderLayers: 6 },
};

/**
 * A full config from a size and a vocabulary.
 *
 * @example
 * ```ts
 * import { t5Config, T5_SIZES } from "./t5_config.ts";
 * const cfg = t5Config(T5_SIZES.tiny, 1200);
 * ```
 */
export function t5Config(size: T5Size, vocabSize: number, extra: Partial<T5Config> = {}): T5Config {
  return {
    vocabSize,
    numBuckets: 32,
    maxDistance: 128,
    dropout: 0.1,
    attentionDropout: true,
    eps: 1e-6,
    tieEmbeddings: true,
    feedForward: "relu",
    ...size,
    ...extra,
  };
}

/** Reads the architecture from a Hugging Face `config.json`. */
export function parseHfConfig(text: string, source = "config.json"): T5Config {
  const j = JSON.parse(text) as Record<string, unknown>;
  const num = (key: string, def?: number): number => {
    const v = j[key] ?? def;
    if (typeof v !== "number") {
      throw new TypeError(`Expected a number for "${key}" in ${source} but found ${v}`);
    }
    return v;
  };
  const ff = j.feed_forward_proj ?? "relu";
  if (!FEED_FORWARDS.includes(ff as FeedForward)) {
    throw new TypeError(
      `Expected feed_forward_proj ${
        FEED_FORWARDS.map((f) => `"${f}"`).join(" or ")
      } in ${source} (the feed-forward blocks elmbench's T5 has) but found ${JSON.stringify(ff)}`,
    );
  }
  return {
    vocabSize: num("vocab_size"),
    dModel: num("d_model"),
    dKv: num("d_kv"),
    dFf: num("d_ff"),
    heads: num("num_heads"),
    encoderLayers: num("num_layers"),
    decoderLayers: num("num_decoder_layers", num("num_layers")),
    numBuckets: num("relative_attention_num_buckets", 32),
    maxDistance: num("relative_attention_max_distance", 128),
    dropout: num("dropout_rate", 0.1),
    attentionDropout: true,
    eps: num("layer_norm_epsilon", 1e-6),
    // transformers 5 writes tie_word_embeddings: true for every T5 and keeps
    // the flag's old meaning (scaled head input; t5 v1.1 says false) in
    // scale_decoder_outputs.
    tieEmbeddings: j.tie_word_embeddings !== false && j.scale_decoder_outputs !== false,
    feedForward: ff as FeedForward,
  };
}

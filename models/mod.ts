/**
 * The T5 backbone shared by the generative recommenders (P5, POD, ELMRec):
 * tokenizers, the T5 graph (HF-exact), prompts, batching, beam search,
 * training loop, checkpoints, and the plugin body {@linkcode fitSeq2Seq}.
 * P5 and POD (`baselines/`) and ELMRec (`elmrec.ts`) build their plugins on
 * it. The embedding plugins' building blocks (`embedding_scorer.ts`,
 * `rec_losses.ts`, `interaction_graph.ts`, `embedding_checkpoint.ts`) are
 * imported from their own files, so that those plugins load no T5 code.
 *
 * ## Hook for graph-aware embeddings (ELMRec)
 *
 * An extra per-token additive embedding enters the encoder as the float
 * input `extra_embeds` `[B, T, D]` (set `external: true` in
 * {@linkcode Seq2SeqSpec} / {@linkcode EncoderExtras}). A plugin supplies it
 * through {@linkcode FeedHooks}: `feeds(task, batch, training)` returns
 * `{ extra_embeds }` built from `batch.nodes` (user u -> node u, item i ->
 * node nUsers + i, every sub-token of an id word, `user`/`item` and `_`
 * included, carries the id's node; other tokens 0), and with
 * `wrt: ["extra_embeds"]` every train step hands `dLoss/d extra_embeds` to
 * `onGradients`, where the plugin scatters it to node rows, propagates it
 * back through the sparse graph and applies its own optimizer update
 * (`compileUpdate`). Whole-word indices for the incremental scheme come
 * from `wholeWord: "incremental"`.
 *
 * ```ts ignore
 * import { fitSeq2Seq } from "./mod.ts";
 * const scorer = await fitSeq2Seq(ctx, config, {
 *   name: "elmrec", wholeWord: "incremental", templates: "ids", promptLength: 3, external: true,
 *   hooks: ({ cfg, store, prompts }) => ({
 *     feeds: (task, batch) => ({ extra_embeds: gatherNodes(batch.nodes, alpha) }),
 *     wrt: ["extra_embeds"],
 *     onGradients: async (task, batch, grads) => propagateBack(grads.extra_embeds, batch.nodes),
 *   }),
 * });
 * ```
 *
 * @module
 */

export {
  builtinTokenizer,
  digitChunks,
  EOS_ID,
  PAD_ID,
  type Tokenizer,
  UNK_ID,
} from "./tokenizer.ts";
export { parseHfTokenizer, readHfTokenizer } from "./hf_tokenizer.ts";
export { bucketMatrix, type BucketOptions, relativePositionBucket } from "./relative_position.ts";
export {
  FEED_FORWARDS,
  type FeedForward,
  parseHfConfig,
  T5_SIZES,
  type T5Config,
  t5Config,
  type T5Size,
} from "./t5_config.ts";
export {
  type BuildOptions,
  crossKV,
  decoder,
  decoderStep,
  encoder,
  encoderEmbeddings,
  type EncoderExtras,
  encoderOutputs,
  INPUTS,
  lmHead,
  sharedEmbedding,
  type T5Forward,
  t5Forward,
  t5Loss,
  type TrainShape,
} from "./t5.ts";
export {
  fillPrompt,
  HISTORY_ITEMS,
  ID_TEMPLATES,
  type Prompt,
  promptTemplates,
  type Sample,
  SampleMaker,
  TEMPLATES,
  type Templates,
  templateWords,
  USER_DIRECT_TEMPLATES,
} from "./prompts.ts";
export {
  type EncodedBatch,
  PromptEncoder,
  type PromptEncoderOptions,
  type WholeWordMode,
} from "./batch.ts";
export {
  beamSearch,
  type BeamSearchOptions,
  type Hypothesis,
  type StepFn,
  TokenTrie,
} from "./beam_search.ts";
export {
  type FeedHooks,
  type GenerateOptions,
  type Seq2SeqOptions,
  Seq2SeqRecommender,
} from "./seq2seq.ts";
export {
  type EpochRecord,
  type Trainable,
  trainLoop,
  type TrainLoopOptions,
  type TrainResult,
  validationLoss,
} from "./train.ts";
export {
  type HfCheckpoint,
  type HfCoverage,
  hfCoverage,
  loadHfParams,
  readHfCheckpoint,
  type ReadHfOptions,
  readStore,
  writeStore,
  type WriteStoreOptions,
} from "./checkpoint.ts";
export { fitSeq2Seq, type Seq2SeqSpec } from "./recommender.ts";
export {
  checkSeq2SeqConfig,
  type PromptVectorConfig,
  SEQ2SEQ_DEFAULTS,
  SEQ2SEQ_KEYS,
  SEQ2SEQ_PRESETS,
  type Seq2SeqConfig,
  TRAIN_PROMPTS_KEYS,
} from "./seq2seq_config.ts";
export { COMMANDS } from "./commands.ts";

/**
 * `p5` (Geng et al., RecSys 2022): a T5 encoder-decoder trained on discrete
 * prompt templates of the direct and sequential tasks, with P5's whole-word
 * embeddings (the sub-tokens of one word share a learned position-of-word
 * index; a table of 512 rows). Generates item ids by beam search.
 *
 * @module
 */
import { definePlugin } from "../harness/plugin.ts";
import { fitSeq2Seq, SEQ2SEQ_DEFAULTS, SEQ2SEQ_DOCS, SEQ2SEQ_PRESETS } from "../models/mod.ts";

/** P5 with whole-word embeddings. */
export const p5 = definePlugin({
  name: "p5",
  description: "P5: T5 on discrete prompts with whole-word embeddings, beam-search generation",
  tasks: ["direct", "sequential"],
  defaults: SEQ2SEQ_DEFAULTS,
  presets: SEQ2SEQ_PRESETS,
  docs: SEQ2SEQ_DOCS,
  variantKeys: ["decode"],
  requires: ["train-sequences", "item-ids", "prompts"],
  fit: (ctx, config) =>
    fitSeq2Seq(ctx, config, { name: "p5", wholeWord: "word", templates: "p5", promptLength: 0 }),
});

/**
 * `p5` (Geng et al., RecSys 2022): a T5 encoder-decoder trained on discrete
 * prompt templates of the direct and sequential tasks, with P5's whole-word
 * embeddings (the sub-tokens of one word share a learned position-of-word
 * index; a table of 512 rows). Generates item ids by beam search.
 *
 * The backbone, its training and its scorer are the T5 code shared with
 * POD and ELMRec (`models/`); this plugin chooses P5's input.
 *
 * @module
 */
import { definePlugin } from "../harness/plugin.ts";
import { fitSeq2Seq, SEQ2SEQ_KEYS, SEQ2SEQ_PRESETS, type Seq2SeqSpec } from "../models/mod.ts";

/** P5's input: discrete templates, whole-word indices per word, no prompt vectors. */
const P5_SPEC: Seq2SeqSpec = { name: "p5", wholeWord: "word", templates: "p5", promptLength: 0 };

/** P5 with whole-word embeddings. */
export const p5 = definePlugin({
  name: "p5",
  description: "P5: T5 on discrete prompts with whole-word embeddings, beam-search generation",
  tasks: ["direct", "sequential"],
  keys: SEQ2SEQ_KEYS,
  presets: SEQ2SEQ_PRESETS,
  requires: ["train-sequences", "item-ids", "prompts"],
  fit: (ctx, config) => fitSeq2Seq(ctx, config, P5_SPEC),
});

/**
 * `p5` (Geng et al., RecSys 2022): a T5 encoder-decoder trained on discrete
 * prompt templates of the direct and sequential tasks, with P5's whole-word
 * embeddings (the sub-tokens of one word share a learned position-of-word
 * index; a table of 512 rows). Generates item ids by beam search.
 *
 * @module
 */
import { seq2seqPlugin } from "../models/mod.ts";

/** P5 with whole-word embeddings. */
export const p5 = seq2seqPlugin(
  "P5: T5 on discrete prompts with whole-word embeddings, beam-search generation",
  { name: "p5", wholeWord: "word", templates: "p5", promptLength: 0 },
);

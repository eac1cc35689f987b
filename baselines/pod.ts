/**
 * `pod` (Li et al., CIKM 2023, prompt distillation): the T5 backbone of P5
 * with 3 learned continuous prompt vectors per task prepended to the
 * encoder input in place of the discrete template wording (the text holds
 * only the ids: `user_5 item_7 , item_9`), and incremental whole-word
 * indices (user = 1, items 2, 3, ... in order of appearance, other tokens 0)
 * added to the token embeddings for all tasks. Generates item ids by beam
 * search.
 *
 * @module
 */
import { seq2seqPlugin } from "../models/mod.ts";

/** POD: continuous prompts and incremental whole-word embeddings. */
export const pod = seq2seqPlugin(
  "POD: T5 with 3 learned prompt vectors per task and incremental whole-word embeddings",
  { name: "pod", wholeWord: "incremental", templates: "ids", promptLength: 3 },
);

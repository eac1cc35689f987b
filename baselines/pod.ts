/**
 * `pod` (Li et al., CIKM 2023, prompt distillation): the T5 backbone of P5
 * with 3 learned continuous prompt vectors per task prepended to the
 * encoder input. As released, training draws one of the release's discrete
 * templates per sample (worded ones and the ids-only one) to go with the
 * vectors, and validation and test use the ids-only prompt
 * (`user_5 item_7 item_9`), so the vectors learn what the wording said: the
 * distillation of the method's name (`trainPrompts`; `ids` trains on the
 * ids-only prompt alone). Incremental whole-word indices (user = 1, items
 * 2, 3, ... in order of appearance, other tokens 0) are added to the token
 * embeddings for all tasks. Generates item ids by beam search.
 *
 * The backbone, its training and its scorer are the T5 code shared with P5
 * and ELMRec (`models/`); this plugin chooses POD's input.
 *
 * @module
 */
import { definePlugin } from "../harness/plugin.ts";
import {
  fitSeq2Seq,
  SEQ2SEQ_KEYS,
  SEQ2SEQ_PRESETS,
  type Seq2SeqSpec,
  TRAIN_PROMPTS_KEYS,
} from "../models/mod.ts";

/** POD's keys: the T5 keys and what it trains on (`trainPrompts`). */
export const POD_KEYS = { ...SEQ2SEQ_KEYS, ...TRAIN_PROMPTS_KEYS };

/** POD's input: the ids only, 3 prompt vectors per task, incremental whole-word indices. */
export const POD_SPEC: Seq2SeqSpec = {
  name: "pod",
  wholeWord: "incremental",
  templates: "ids",
  promptLength: 3,
  // The release draws them uniformly in [-0.1, 0.1] (module.py, init_prompt).
  promptInit: "uniform",
  keys: POD_KEYS,
};

/** POD: continuous prompts and incremental whole-word embeddings. */
export const pod = definePlugin({
  name: "pod",
  description:
    "POD: T5 with 3 learned prompt vectors per task and incremental whole-word embeddings",
  tasks: ["direct", "sequential"],
  keys: POD_KEYS,
  presets: SEQ2SEQ_PRESETS,
  requires: ["train-sequences", "item-ids", "prompts"],
  fit: (ctx, config) => fitSeq2Seq(ctx, config, POD_SPEC),
});

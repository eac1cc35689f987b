/**
 * Prompt templates of P5 / POD and the samples they are filled with. A
 * prompt is a list of words, each tagged with the id it names (user `u` ->
 * node `u`, item `i` -> node `nUsers + i`, template words -> 0, ELMRec's
 * node numbering), so whole-word indices never need re-parsing.
 *
 * Choices (methods.md, section 3, says "a random training template per
 * sample, a single fixed template at test time"):
 * - ids are written as words, `user_12` and `item_345`; targets are the bare
 *   item id (`345`), as in the released P5 / POD code;
 * - in P5's templates history items are joined with ` , ` (`{history}`),
 *   the 100 direct candidates with single spaces (`{candidates}`: `item_`
 *   already delimits them; saves 100 tokens a prompt); POD's and ELMRec's
 *   templates join both with single spaces (`{items}`), as their releases
 *   do (`' item_'.join`: `user_5 item_7 item_9`);
 * - the test template is the first training template of the task;
 * - sequential training: one sample per user and epoch with a random end
 *   position `j` in the training sequence (target `train[j]`, history the up
 *   to 20 items before it); direct training: a random training item as the
 *   positive among 99 uniform negatives the user never interacted with in
 *   training, in a seeded random order.
 *
 * @module
 */

import { type Rng, row } from "../kernels/mod.ts";
import type { Split, Task } from "../harness/types.ts";

/** Most recent history items shown in a sequential prompt. */
export const HISTORY_ITEMS = 20;

/** Training templates per task; the first one is also the test template. */
export const TEMPLATES: Readonly<Record<Task, readonly string[]>> = {
  sequential: [
    "Given the following purchase history of {user} : {history} , predict next possible item to be purchased by the user ?",
    "I find the purchase history list of {user} : {history} , I wonder what is the next item to recommend to the user . Can you help me decide ?",
    "Here is the purchase history list of {user} : {history} , try to recommend next item to the user",
    "{user} has purchased items {history} , predict next possible item to be bought by the user ?",
  ],
  direct: [
    "Which item of the following to recommend for {user} ? {candidates}",
    "Choose the best item from the candidates to recommend for {user} ? {candidates}",
    "Pick the most suitable item from the following list and recommend to {user} : {candidates}",
    "We want to make recommendation for {user} . Select the best item from these candidates : {candidates}",
  ],
};

/**
 * POD's inputs: the learned prompt vectors stand in for the template
 * wording, so the text holds only the ids.
 */
export const ID_TEMPLATES: Readonly<Record<Task, readonly string[]>> = {
  sequential: ["{user} {items}"],
  direct: ["{user} {items}"],
};

/** A template set: training templates per task, the first is the test template. */
export type Templates = Readonly<Record<Task, readonly string[]>>;

/**
 * The templates POD's release (templates.py) and ELMRec's draw from while
 * training, one per sample: 8 sequential and 5 direct, each set holding the
 * ids-only prompt, which is also the only one used at validation and test.
 * The sentences are the release's; punctuation is written as words of its
 * own, as in `TEMPLATES`, and the ids-only prompt comes first here (our
 * test template) where the release lists it last. A uniform draw does not
 * care about the order.
 */
export const RELEASED_ID_TEMPLATES: Templates = {
  sequential: [
    "{user} {items}",
    "Given the following purchase history of {user} : {items} , predict next possible item to be purchased by the user .",
    "I find the purchase history list of {user} : {items} . I wonder what is the next item to recommend to the user . Can you help me decide ?",
    "Here is the purchase history list of {user} : {items} . Try to recommend next item to the user .",
    "Given the following purchase history of {user} : {items} , predict next possible item for the user .",
    "Based on the purchase history of {user} : {items} , can you decide the next item likely to be purchased by the user ?",
    "Here is the purchase history of {user} : {items} . What to recommend next for the user ?",
    "According to the purchase history of {user} : {items} , can you recommend the next possible item to the user ?",
  ],
  direct: [
    "{user} {items}",
    "Which item of the following to recommend for {user} ? {items}",
    "Choose the best item from the candidates to recommend for {user} ? {items}",
    "Pick the most suitable item from the following list and recommend to {user} : {items}",
    "We want to make recommendation for {user} . Select the best item from these candidates : {items}",
  ],
};

/**
 * Direct templates that name only the user (`directPrompt: "user"`): P5's
 * direct wording with the candidate list and its clause dropped. They use
 * only words of `TEMPLATES`, so the vocabulary stays the same. The
 * candidates still confine constrained decoding and the ranked list.
 */
export const USER_DIRECT_TEMPLATES: readonly string[] = [
  "Which item to recommend for {user} ?",
  "Choose the best item to recommend for {user} ?",
  "Pick the most suitable item to recommend to {user}",
  "We want to make recommendation for {user} . Select the best item",
];

/**
 * How POD and ELMRec are trained: `released`, on the release's templates
 * drawn per sample (the discrete prompts whose knowledge the prompt vectors
 * distil) and tested on the ids-only one; `ids`, on the ids-only prompt
 * throughout.
 */
export type TrainPrompts = "released" | "ids";

/**
 * The templates of a plugin: P5's wording (`p5`) or the ids with learned
 * prompt vectors (`ids`: trained on the release's templates or the ids
 * alone, per `train`), and a direct prompt that lists the 100 candidates
 * (as the papers) or names only the user (`ids`: the user's id alone, in
 * training too).
 *
 * @example
 * ```ts
 * import { promptTemplates } from "./prompts.ts";
 * const pod = promptTemplates("ids", "candidates", "released");
 * console.log(pod.sequential.length, pod.direct.length, pod.direct[0]); // 8 5 "{user} {items}"
 * ```
 */
export function promptTemplates(
  style: "p5" | "ids",
  direct: "candidates" | "user",
  train: TrainPrompts = "ids",
): Templates {
  const base = style === "p5"
    ? TEMPLATES
    : train === "released"
    ? RELEASED_ID_TEMPLATES
    : ID_TEMPLATES;
  if (direct === "candidates") return base;
  return { ...base, direct: style === "ids" ? ["{user}"] : USER_DIRECT_TEMPLATES };
}

/**
 * Every template word (the built-in tokenizer's vocabulary): P5's, then
 * those of `templates` that P5's lack, so that adding a template set never
 * renumbers P5's tokens.
 */
export function templateWords(templates?: Templates): string[] {
  const words = new Set(["user", "item", ","]);
  for (const set of [TEMPLATES, templates ?? TEMPLATES]) {
    for (const list of Object.values(set)) {
      for (const t of list) for (const w of t.split(" ")) if (!w.startsWith("{")) words.add(w);
    }
  }
  return [...words];
}

/** One filled prompt: words and the node each names (0 for template words). */
export interface Prompt {
  readonly words: string[];
  readonly nodes: number[];
}

/** A training or evaluation sample. */
export interface Sample {
  readonly task: Task;
  /** User row (`u - 1`). */
  readonly user: number;
  /** History (sequential, oldest first) or candidates (direct, prompt order). */
  readonly items: Int32Array;
  /** Target item; 0 when unknown (generation only). */
  readonly target: number;
  /** Index into `TEMPLATES[task]`. */
  readonly template: number;
}

/**
 * Fills a template.
 *
 * @example
 * ```ts
 * import { fillPrompt, ID_TEMPLATES } from "./prompts.ts";
 * const p = fillPrompt({ task: "sequential", user: 4, items: Int32Array.of(7, 9), target: 0, template: 0 }, 10);
 * console.log(p.words.slice(5, 10).join(" ")); // "user_5 : item_7 , item_9"
 * const ids = fillPrompt({ task: "sequential", user: 4, items: Int32Array.of(7, 9), target: 0, template: 0 }, 10, ID_TEMPLATES);
 * console.log(ids.words.join(" ")); // "user_5 item_7 item_9"
 * ```
 */
export function fillPrompt(
  sample: Sample,
  nUsers: number,
  templates: Templates = TEMPLATES,
): Prompt {
  const words: string[] = [], nodes: number[] = [];
  const u = sample.user + 1;
  for (const w of templates[sample.task][sample.template].split(" ")) {
    if (w === "{user}") {
      words.push(`user_${u}`);
      nodes.push(u);
    } else if (w === "{history}" || w === "{candidates}" || w === "{items}") {
      sample.items.forEach((item, k) => {
        if (k > 0 && w === "{history}") {
          words.push(",");
          nodes.push(0);
        }
        words.push(`item_${item}`);
        nodes.push(nUsers + item);
      });
    } else {
      words.push(w);
      nodes.push(0);
    }
  }
  return { words, nodes };
}

/** Builds the samples of an epoch and of evaluation from a split. */
export class SampleMaker {
  readonly #split: Split;
  readonly #trainSets: Set<number>[];
  readonly #templates: Templates;

  constructor(split: Split, templates: Templates = TEMPLATES) {
    this.#split = split;
    this.#templates = templates;
    this.#trainSets = Array.from({ length: split.nUsers }, (_, u) => new Set(row(split.train, u)));
  }

  /** A training sample of `task` for user row `u` with a random template. */
  train(task: Task, u: number, rng: Rng): Sample {
    const items = row(this.#split.train, u);
    const template = rng.int(this.#templates[task].length);
    if (task === "sequential") {
      const j = 1 + rng.int(items.length - 1);
      const history = items.slice(Math.max(0, j - HISTORY_ITEMS), j);
      return { task, user: u, items: history, target: items[j], template };
    }
    const target = items[rng.int(items.length)];
    const cands = new Int32Array(this.#split.negativesPerUser + 1);
    cands[0] = target;
    const seen = this.#trainSets[u];
    const nItems = this.#split.nItems;
    for (let k = 1; k < cands.length; k++) {
      let item = 1 + rng.int(nItems);
      // Users never see most items; the cap guards users who saw nearly all.
      for (let tries = 0; seen.has(item) && tries < 100; tries++) item = 1 + rng.int(nItems);
      cands[k] = item;
    }
    return { task, user: u, items: rng.shuffle(cands), target, template };
  }

  /**
   * An evaluation sample (test template): the last 20 items of `history`
   * (sequential), or `candidates` in a seeded order fixed per user (direct).
   */
  evaluation(
    task: Task,
    u: number,
    history: Int32Array,
    candidates: Int32Array | undefined,
    target: number,
    rng: Rng,
  ): Sample {
    if (task === "sequential") {
      return { task, user: u, items: history.slice(-HISTORY_ITEMS), target, template: 0 };
    }
    if (!candidates) throw new TypeError(`Expected candidates for direct user row ${u}`);
    return {
      task,
      user: u,
      items: rng.fork(`candidates:${u}`).shuffle(candidates.slice()),
      target,
      template: 0,
    };
  }
}

/**
 * Turns samples into the padded int64 feeds of one static-shape batch:
 * `input_ids`, `whole_word_ids`, `decoder_input_ids`, `labels`, and the
 * node of every input token (for graph-aware embeddings). Token ids of user
 * and item words are cached.
 *
 * @module
 */

import type { Task } from "../harness/types.ts";
import { fillPrompt, HISTORY_ITEMS, type Sample, TEMPLATES, type Templates } from "./prompts.ts";
import { EOS_ID, PAD_ID, type Tokenizer } from "./tokenizer.ts";

/**
 * How tokens get whole-word indices: `word` (P5: the word's 1-based
 * position in the prompt, shared by its sub-tokens), `incremental` (POD /
 * ELMRec: user = 1, items 2, 3, ... in order of appearance, other tokens 0),
 * or `none` (all 0).
 */
export type WholeWordMode = "word" | "incremental" | "none";

/** One encoded batch. */
export interface EncodedBatch {
  readonly rows: number;
  readonly inputIds: BigInt64Array;
  readonly wholeWordIds: BigInt64Array;
  readonly decoderInputIds: BigInt64Array;
  readonly labels: BigInt64Array;
  /** Node of each input token (user u -> u, item i -> nUsers + i, else 0). */
  readonly nodes: Int32Array;
}

/** Options of {@linkcode PromptEncoder}. */
export interface PromptEncoderOptions {
  /** @default "word" */
  readonly wholeWord?: WholeWordMode;
  /** Rows of the whole-word table; larger indices are clipped to the last row. @default 512 */
  readonly wholeWordRows?: number;
  /** @default TEMPLATES (P5's wording) */
  readonly templates?: Templates;
  /** Pad labels with -100 (ignored, HF) instead of pad 0 (released POD / ELMRec). @default true */
  readonly ignorePad?: boolean;
}

/** Encodes prompts and targets for one tokenizer and dataset. */
export class PromptEncoder {
  readonly tokenizer: Tokenizer;
  readonly nUsers: number;
  readonly nItems: number;
  readonly #options: Required<PromptEncoderOptions>;
  readonly #words = new Map<string, number[]>();
  readonly #targets: number[][];

  constructor(
    tokenizer: Tokenizer,
    nUsers: number,
    nItems: number,
    options: PromptEncoderOptions = {},
  ) {
    this.tokenizer = tokenizer;
    this.nUsers = nUsers;
    this.nItems = nItems;
    this.#options = {
      wholeWord: "word",
      wholeWordRows: 512,
      ignorePad: true,
      templates: TEMPLATES,
      ...options,
    };
    this.#targets = [[]];
    for (let i = 1; i <= nItems; i++) {
      this.#targets.push([...tokenizer.encodeWord(String(i)), EOS_ID]);
    }
  }

  /** Token ids of a word (cached). */
  word(w: string): number[] {
    let ids = this.#words.get(w);
    if (!ids) this.#words.set(w, ids = this.tokenizer.encodeWord(w));
    return ids;
  }

  /** Target tokens of item `i`, eos included. */
  target(item: number): number[] {
    return this.#targets[item];
  }

  /** Decoder length: the longest target. */
  decoderLength(): number {
    return Math.max(...this.#targets.slice(1).map((t) => t.length));
  }

  /** An upper bound on the encoder tokens of any prompt of `task` (eos included). */
  encoderLength(task: Task): number {
    const ids = task === "direct" ? 100 : HISTORY_ITEMS;
    let item = 0, user = 0;
    for (let i = 1; i <= this.nItems; i++) item = Math.max(item, this.word(`item_${i}`).length);
    for (let u = 1; u <= this.nUsers; u++) {
      user = Math.max(user, this.tokenizer.encodeWord(`user_${u}`).length);
    }
    const sep = this.word(",").length;
    let most = 0;
    for (const t of this.#options.templates[task]) {
      let n = 1;
      for (const w of t.split(" ")) {
        if (w === "{user}") n += user;
        else if (w === "{history}") n += ids * (item + sep);
        else if (w.startsWith("{")) n += ids * item;
        else n += this.word(w).length;
      }
      most = Math.max(most, n);
    }
    return most;
  }

  /** Encodes `samples` into `rows x encLen` and `rows x decLen` arrays; missing rows stay padding. */
  encode(samples: readonly Sample[], rows: number, encLen: number, decLen: number): EncodedBatch {
    const inputIds = new BigInt64Array(rows * encLen);
    const wholeWordIds = new BigInt64Array(rows * encLen);
    const nodes = new Int32Array(rows * encLen);
    const decoderInputIds = new BigInt64Array(rows * decLen);
    const labels = new BigInt64Array(rows * decLen).fill(-100n);
    const { wholeWord, wholeWordRows, ignorePad } = this.#options;
    const maxIndex = wholeWordRows - 1;
    samples.forEach((s, r) => {
      const prompt = fillPrompt(s, this.nUsers, this.#options.templates);
      let pos = 0, count = 0;
      prompt.words.forEach((w, k) => {
        const ids = this.word(w);
        const node = prompt.nodes[k];
        const index = wholeWord === "word"
          ? k + 1
          : wholeWord === "incremental" && node
          ? ++count
          : 0;
        for (const id of ids) {
          if (pos >= encLen - 1) break;
          inputIds[r * encLen + pos] = BigInt(id);
          wholeWordIds[r * encLen + pos] = BigInt(Math.min(index, maxIndex));
          nodes[r * encLen + pos] = node;
          pos++;
        }
      });
      inputIds[r * encLen + pos] = BigInt(EOS_ID);
      if (s.target > 0) {
        const t = this.target(s.target);
        if (t.length > decLen) {
          throw new RangeError(
            `Expected targets of at most ${decLen} tokens but item ${s.target} has ${t.length}`,
          );
        }
        for (let j = 0; j < decLen; j++) {
          decoderInputIds[r * decLen + j] = BigInt(j === 0 ? PAD_ID : t[j - 1] ?? PAD_ID);
          labels[r * decLen + j] = j < t.length ? BigInt(t[j]) : ignorePad ? -100n : BigInt(PAD_ID);
        }
      }
    });
    return { rows, inputIds, wholeWordIds, decoderInputIds, labels, nodes };
  }

  /** The item a generated token sequence names, or 0 when it names none. */
  parse(tokens: ArrayLike<number>): number {
    const id = this.parseNumber(tokens);
    return id !== undefined && id >= 1 && id <= this.nItems ? id : 0;
  }

  /** The number a generated token sequence reads as (its whole text), or undefined. */
  parseNumber(tokens: ArrayLike<number>): number | undefined {
    const text = this.tokenizer.decode(tokens).trim();
    return /^[0-9]+$/.test(text) ? Number(text) : undefined;
  }

  /**
   * The number the released POD / ELMRec scorer reads from an output,
   * `int(text.split(' ')[0])`: Python's `int` of the first space-separated
   * word (a sign, and underscores between digits, allowed); undefined where
   * `int` would raise.
   *
   * @example
   * ```ts
   * import { PromptEncoder } from "./batch.ts";
   * import { builtinTokenizer } from "./tokenizer.ts";
   * const tok = builtinTokenizer(["user", "item"]);
   * const p = new PromptEncoder(tok, 5, 40);
   * console.log(p.readReleasedId([...tok.encodeWord("12"), ...tok.encodeWord("user")])); // 12
   * console.log(p.readReleasedId(tok.encodeWord("user_3"))); // undefined
   * ```
   */
  readReleasedId(tokens: ArrayLike<number>): number | undefined {
    const word = this.tokenizer.decode(tokens).trim().split(" ")[0];
    return /^[+-]?[0-9]+(_[0-9]+)*$/.test(word) ? Number(word.replaceAll("_", "")) : undefined;
  }
}

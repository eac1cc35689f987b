/**
 * Tokenizers for prompts. Prompts are built as lists of words (see
 * `prompts.ts`), so a tokenizer here encodes one word at a time; that keeps
 * whole-word indices exact. Special ids follow T5: pad = 0, eos = 1, unk = 2.
 *
 * The built-in tokenizer reproduces T5's "token decomposition" of ids
 * deterministically (methods.md, section 3): template words are whole
 * tokens, `_` is a token, and digit runs are cut into chunks of at most 3
 * digits from the left, so `user_12252` becomes `user`, `_`, `122`, `52`.
 *
 * @module
 */

/** T5's padding id; also the decoder start token. */
export const PAD_ID = 0;
/** T5's end-of-sequence id. */
export const EOS_ID = 1;
/** T5's unknown-token id. */
export const UNK_ID = 2;

/** What the backbone needs from a tokenizer. */
export interface Tokenizer {
  /** Number of ids (rows of the shared embedding). */
  readonly vocabSize: number;
  /** Ids of one whitespace-free word, without eos. */
  encodeWord(word: string): number[];
  /** Text of ids; special ids are dropped. */
  decode(ids: ArrayLike<number>): string;
  /** The token string of one id. */
  token(id: number): string;
}

/**
 * Cuts a digit run into chunks of at most 3 digits from the left.
 *
 * @example
 * ```ts
 * import { digitChunks } from "./tokenizer.ts";
 * console.log(digitChunks("12252")); // ["122", "52"]
 * ```
 */
export function digitChunks(digits: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < digits.length; i += 3) out.push(digits.slice(i, i + 3));
  return out;
}

/** Every chunk `digitChunks` can produce: 1 to 3 digits, leading zeros included. */
function allChunks(): string[] {
  const out: string[] = [];
  for (let len = 1; len <= 3; len++) {
    for (let n = 0; n < 10 ** len; n++) out.push(String(n).padStart(len, "0"));
  }
  return out;
}

/** Splits a word into pieces: letters runs, `_`, digit chunks, other single characters. */
function pieces(word: string): string[] {
  const out: string[] = [];
  for (const m of word.matchAll(/[0-9]+|_|[^0-9_]+/g)) {
    if (/^[0-9]/.test(m[0])) out.push(...digitChunks(m[0]));
    else out.push(m[0]);
  }
  return out;
}

/**
 * The built-in deterministic tokenizer over the given template words (plus
 * `_` and every digit chunk). A word that is not in the vocabulary and does
 * not split into known pieces encodes as unk.
 *
 * @example
 * ```ts
 * import { builtinTokenizer } from "./tokenizer.ts";
 * const tok = builtinTokenizer(["user", "item", "?"]);
 * const ids = tok.encodeWord("user_12252");
 * console.log(ids.map((i) => tok.token(i))); // ["user", "_", "122", "52"]
 * ```
 */
export function builtinTokenizer(words: Iterable<string>): Tokenizer {
  const vocab = ["<pad>", "</s>", "<unk>", "_", ...allChunks()];
  const seen = new Set(vocab);
  for (const w of words) {
    for (const p of /[0-9_]/.test(w) ? pieces(w) : [w]) {
      if (!seen.has(p)) {
        seen.add(p);
        vocab.push(p);
      }
    }
  }
  const index = new Map(vocab.map((t, i) => [t, i]));
  return {
    vocabSize: vocab.length,
    encodeWord(word) {
      const whole = index.get(word);
      if (whole !== undefined) return [whole];
      return pieces(word).map((p) => index.get(p) ?? UNK_ID);
    },
    decode(ids) {
      let text = "";
      let prevWord = false;
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i];
        if (id === PAD_ID || id === EOS_ID || id < 0 || id >= vocab.length) continue;
        const t = vocab[id];
        const isWord = !/^[0-9_]/.test(t);
        if (text && (isWord || prevWord) && t !== "_" && !text.endsWith("_")) text += " ";
        text += t;
        prevWord = isWord;
      }
      return text;
    },
    token: (id) => vocab[id] ?? "<unk>",
  };
}

/**
 * A Hugging Face `tokenizer.json` of the Unigram (SentencePiece) kind, as T5
 * ships it: the `▁` metaspace pre-tokenizer (each word gets a leading `▁`)
 * and Viterbi segmentation maximising the sum of piece log-probabilities.
 * The `Precompiled` normalizer (NFKC charsmap) is not replayed: text is
 * only whitespace-collapsed, which is exact for the ASCII prompts used here.
 *
 * @module
 */

import { EOS_ID, PAD_ID, type Tokenizer } from "./tokenizer.ts";

const SPACE = "\u2581";

interface TokenizerJson {
  model?: { type?: string; vocab?: [string, number][]; unk_id?: number | null };
  added_tokens?: { id: number; content: string }[];
}

/**
 * Parses the text of a `tokenizer.json` holding a Unigram model.
 *
 * @example
 * ```ts
 * import { parseHfTokenizer } from "./hf_tokenizer.ts";
 * const tok = parseHfTokenizer(JSON.stringify({
 *   model: { type: "Unigram", unk_id: 2, vocab: [["<pad>", 0], ["</s>", 0], ["<unk>", 0], ["▁a", -1], ["b", -2]] },
 * }));
 * console.log(tok.encodeWord("ab")); // [3, 4]
 * ```
 */
export function parseHfTokenizer(text: string, source = "tokenizer.json"): Tokenizer {
  let json: TokenizerJson;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SyntaxError(`Expected JSON in ${source} but found: ${(e as Error).message}`);
  }
  const model = json.model;
  if (!model || model.type !== "Unigram" || !Array.isArray(model.vocab)) {
    throw new TypeError(
      `Expected a Unigram model with a vocab in ${source} but found type ${
        JSON.stringify(model?.type)
      }`,
    );
  }
  const vocab = model.vocab.map(([piece]) => piece);
  const scores = Float64Array.from(model.vocab, ([, s]) => s);
  for (const t of json.added_tokens ?? []) if (t.id >= vocab.length) vocab[t.id] = t.content;
  const unk = model.unk_id ?? 2;
  const index = new Map<string, number>();
  model.vocab.forEach(([piece], i) => index.set(piece, i));
  const maxPiece = Math.max(...vocab.map((p) => (p ?? "").length));
  // Unknown characters cost far more than any real piece, as in SentencePiece.
  const unkScore = Math.min(...scores) - 10;

  const viterbi = (s: string): number[] => {
    const n = s.length;
    const best = new Float64Array(n + 1).fill(-Infinity);
    const from = new Int32Array(n + 1).fill(-1);
    const ids = new Int32Array(n + 1).fill(-1);
    best[0] = 0;
    for (let end = 1; end <= n; end++) {
      for (let start = Math.max(0, end - maxPiece); start < end; start++) {
        if (best[start] === -Infinity) continue;
        const id = index.get(s.slice(start, end));
        let score: number;
        let tok: number;
        if (id !== undefined) {
          score = best[start] + scores[id];
          tok = id;
        } else if (end - start === 1) {
          score = best[start] + unkScore;
          tok = unk;
        } else continue;
        if (score > best[end]) {
          best[end] = score;
          from[end] = start;
          ids[end] = tok;
        }
      }
    }
    const out: number[] = [];
    for (let end = n; end > 0; end = from[end]) out.push(ids[end]);
    out.reverse();
    // SentencePiece merges runs of unknown characters into one unk.
    return out.filter((id, i) => !(id === unk && out[i - 1] === unk));
  };

  return {
    vocabSize: vocab.length,
    encodeWord: (word) => viterbi(SPACE + word),
    decode(ids) {
      let text = "";
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i];
        if (id === PAD_ID || id === EOS_ID || id < 0 || id >= vocab.length) continue;
        text += vocab[id];
      }
      return text.replaceAll(SPACE, " ").trim();
    },
    token: (id) => vocab[id] ?? "<unk>",
  };
}

/** Reads `<dir>/tokenizer.json`. */
export async function readHfTokenizer(dir: string): Promise<Tokenizer> {
  const path = `${dir}/tokenizer.json`;
  return parseHfTokenizer(await Deno.readTextFile(path), path);
}

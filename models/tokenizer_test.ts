import assert from "node:assert/strict";
import { parseHfTokenizer } from "./hf_tokenizer.ts";
import { templateWords } from "./prompts.ts";
import { builtinTokenizer, digitChunks, EOS_ID, PAD_ID, UNK_ID } from "./tokenizer.ts";

const tok = builtinTokenizer(templateWords());
const pieces = (w: string) => tok.encodeWord(w).map((i) => tok.token(i));

Deno.test("digitChunks() cuts digit runs into chunks of at most 3 from the left", () => {
  assert.deepEqual(digitChunks("12252"), ["122", "52"]);
  assert.deepEqual(digitChunks("7"), ["7"]);
  assert.deepEqual(digitChunks("1234567"), ["123", "456", "7"]);
});

Deno.test("the built-in tokenizer splits ids like T5: user_12252 -> user _ 122 52", () => {
  assert.deepEqual(pieces("user_12252"), ["user", "_", "122", "52"]);
});

Deno.test("the built-in tokenizer splits a 7-digit id into three chunks", () => {
  assert.deepEqual(pieces("item_1234567"), ["item", "_", "123", "456", "7"]);
  assert.deepEqual(pieces("1005"), ["100", "5"]);
  assert.deepEqual(pieces("10005"), ["100", "05"]);
});

Deno.test("the built-in tokenizer keeps template words whole and reserves pad, eos, unk", () => {
  assert.deepEqual(pieces("purchase"), ["purchase"]);
  assert.equal(tok.encodeWord("zebra")[0], UNK_ID);
  assert.deepEqual([PAD_ID, EOS_ID, UNK_ID].map((i) => tok.token(i)), ["<pad>", "</s>", "<unk>"]);
});

Deno.test("the built-in tokenizer decodes digit chunks back to the id", () => {
  assert.equal(tok.decode([...tok.encodeWord("12252"), EOS_ID, PAD_ID]), "12252");
  assert.equal(tok.decode(tok.encodeWord("user_12252")), "user_12252");
});

Deno.test("the HF Unigram tokenizer picks the Viterbi segmentation after the metaspace", () => {
  const vocab: [string, number][] = [
    ["<pad>", 0],
    ["</s>", 0],
    ["<unk>", 0],
    ["\u2581", -2],
    ["\u2581user", -1],
    ["_", -1.5],
    ["1", -4],
    ["2", -4],
    ["12", -2],
    ["122", -2.5],
    ["25", -2],
    ["52", -2.2],
    ["\u25811", -3],
  ];
  const hf = parseHfTokenizer(JSON.stringify({ model: { type: "Unigram", unk_id: 2, vocab } }));
  const seg = (w: string) => hf.encodeWord(w).map((i) => hf.token(i));
  // "122"+"52" scores -4.7, "12"+"25"+"2" -8, "1"+"2"+"2"+"52" ... : Viterbi takes the best.
  assert.deepEqual(seg("user_12252"), ["\u2581user", "_", "122", "52"]);
  assert.deepEqual(seg("12"), ["\u2581", "12"]);
  assert.deepEqual(seg("x1"), ["\u2581", "<unk>", "1"]);
  assert.equal(hf.decode(hf.encodeWord("12252")), "12252");
});

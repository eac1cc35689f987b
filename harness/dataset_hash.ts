/**
 * sha256 fingerprints of datasets and their files, through Web Crypto.
 *
 * A dataset's hash (`data_hash`) covers its parsed content written
 * canonically (`user item item ...`, single spaces, LF after every line,
 * users in order; then the negatives the same way), so line endings, a
 * missing final newline or the folder's name do not change it. The released
 * files are canonical, so for them it equals the sha256 of
 * `cat sequential.txt negative.txt` and can be checked with coreutils;
 * `datasetHash` of the raw bytes is kept beside it (`data_raw_hash`).
 *
 * @module
 */

import type { Ragged } from "./types.ts";

function toHex(digest: ArrayBuffer): string {
  const bytes = new Uint8Array(digest);
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += bytes[i].toString(16).padStart(2, "0");
  return out;
}

/**
 * sha256 (lower-case hex) of the concatenation of `parts`.
 *
 * Web Crypto has no incremental digest, so the parts are joined into one
 * buffer first; the largest input here (Toys' negatives, 10 MB) makes that
 * cheap.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./dataset_hash.ts";
 * console.log(await sha256Hex(new TextEncoder().encode("abc")));
 * // ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
 * ```
 */
export async function sha256Hex(...parts: Uint8Array[]): Promise<string> {
  let data: Uint8Array;
  if (parts.length === 1) {
    data = parts[0];
  } else {
    let total = 0;
    for (const p of parts) total += p.length;
    data = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      data.set(p, at);
      at += p.length;
    }
  }
  return toHex(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
}

const K = new Uint32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);

/**
 * sha256 (hex) of a UTF-8 string, computed synchronously in plain JS.
 *
 * Web Crypto only digests asynchronously; this exists so that cheap derived
 * hashes (a reindexed dataset's, from its parent's hash and a seed) keep
 * their functions synchronous. It is slow on megabytes: use
 * {@linkcode sha256Hex} for file contents.
 *
 * @example
 * ```ts
 * import { sha256TextSync } from "./dataset_hash.ts";
 * sha256TextSync("abc"); // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
 * ```
 */
export function sha256TextSync(text: string): string {
  const msg = new TextEncoder().encode(text);
  const blocks = Math.ceil((msg.length + 9) / 64);
  const padded = new Uint8Array(blocks * 64);
  padded.set(msg);
  padded[msg.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(msg.length / 0x20000000));
  view.setUint32(padded.length - 4, (msg.length * 8) >>> 0);
  const h = new Uint32Array([
    0x6a09e667,
    0xbb67ae85,
    0x3c6ef372,
    0xa54ff53a,
    0x510e527f,
    0x9b05688c,
    0x1f83d9ab,
    0x5be0cd19,
  ]);
  const w = new Uint32Array(64);
  const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));
  for (let b = 0; b < blocks; b++) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(b * 64 + t * 4);
    for (let t = 16; t < 64; t++) {
      const s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
      const s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    let [a, bb, c, d, e, f, g, hh] = h;
    for (let t = 0; t < 64; t++) {
      const t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
      const t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & bb) ^ (a & c) ^ (bb & c));
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = bb;
      bb = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] += a;
    h[1] += bb;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
  return Array.from(h, (x) => x.toString(16).padStart(8, "0")).join("");
}

/**
 * sha256 (hex) of a UTF-8 string.
 *
 * @example
 * ```ts
 * import { sha256Text } from "./dataset_hash.ts";
 * console.log(await sha256Text("1 1 2 3\n"));
 * ```
 */
export function sha256Text(text: string): Promise<string> {
  return sha256Hex(new TextEncoder().encode(text));
}

/**
 * sha256 (hex) of a file's bytes: the per-file hashes listed in
 * `data/SOURCES.md`.
 *
 * @example
 * ```ts ignore
 * import { sha256File } from "./dataset_hash.ts";
 * const hex = await sha256File("/work/shared/data/beauty/sequential.txt");
 * ```
 */
export async function sha256File(path: string | URL): Promise<string> {
  return sha256Hex(await Deno.readFile(path));
}

/**
 * The hash stored in `Dataset.rawHash` (a result's `data_raw_hash`): sha256
 * over the `sequential.txt` bytes followed by the `negative.txt` bytes when
 * the dataset has them.
 *
 * @example
 * ```ts
 * import { datasetHash } from "./dataset_hash.ts";
 * const seq = new TextEncoder().encode("1 1 2 3\n");
 * console.log(await datasetHash(seq));
 * ```
 */
export function datasetHash(sequential: Uint8Array, negative?: Uint8Array): Promise<string> {
  return negative === undefined ? sha256Hex(sequential) : sha256Hex(sequential, negative);
}

/**
 * The hash stored in `Dataset.hash` (a result's `data_hash`): sha256 of the
 * canonical text of the sequences ({@linkcode formatSequentialTxt}) followed
 * by that of the negatives, when the dataset has them.
 *
 * @example
 * ```ts
 * import { datasetContentHash } from "./dataset_hash.ts";
 * const seq = { offsets: new Uint32Array([0, 3]), values: new Int32Array([1, 2, 3]) };
 * console.log(await datasetContentHash(seq)); // the sha256 of "1 1 2 3\n"
 * ```
 */
export function datasetContentHash(sequences: Ragged, negatives?: Ragged): Promise<string> {
  const text = formatSequentialTxt(sequences) + (negatives ? formatSequentialTxt(negatives) : "");
  return sha256Text(text);
}

/**
 * The canonical `sequential.txt` text of rows of items: `user item item ...`,
 * single spaces, LF after every line. Generated and converted datasets hash
 * this text, so writing one out and reading it back keeps its hash.
 *
 * @example
 * ```ts
 * import { formatSequentialTxt } from "./dataset_hash.ts";
 * const seq = { offsets: new Uint32Array([0, 3]), values: new Int32Array([1, 2, 3]) };
 * console.log(formatSequentialTxt(seq)); // "1 1 2 3\n"
 * ```
 */
export function formatSequentialTxt(rows: Ragged): string {
  const { offsets, values } = rows;
  const lines: string[] = new Array(offsets.length - 1);
  for (let r = 0; r + 1 < offsets.length; r++) {
    lines[r] = `${r + 1} ${values.subarray(offsets[r], offsets[r + 1]).join(" ")}\n`;
  }
  return lines.join("");
}

/**
 * Reading tar archives as a stream of entries: what `TarWriter` (tar.ts)
 * writes, plus GNU tar's long names (`L`, `K`) and pax headers, enough to list
 * and check bundles and to unpack npm tarballs. Bodies are read only when
 * asked for, so listing a 500 MB archive holds one block at a time. The
 * format's basics (block, entry types, error) live here; tar.ts re-exports
 * them with the reader.
 *
 * @module
 */

/** Tar's unit: every header and every padded body is a whole number of blocks. */
export const BLOCK = 512;

/** A malformed archive; the message names the archive and the byte offset. */
export class TarError extends Error {
  override name = "TarError";
}

/** The kinds of entries `TarWriter` writes and `readTar` reads. */
export type TarEntryType = "file" | "directory" | "symlink";

/** Header fields shared by writer options and reader entries. */
export interface TarEntryInfo {
  /** Path inside the archive, `/`-separated, no trailing `/` (directories too). */
  readonly name: string;
  readonly type: TarEntryType;
  /** Permission bits, e.g. 0o755. */
  readonly mode: number;
  /** Body size in bytes (0 for directories and links). */
  readonly size: number;
  /** Modification time, seconds since the epoch. */
  readonly mtime: number;
  /** Target of a symlink; empty otherwise. */
  readonly linkname: string;
}

/** Bytes that pad `n` up to a multiple of the block size. */
export function padding(n: number): number {
  return (BLOCK - (n % BLOCK)) % BLOCK;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An entry met by {@linkcode readTar}; `body()` reads its bytes (only before the next entry). */
export interface TarEntry extends TarEntryInfo {
  /** The body of a file entry; call before asking for the next entry, or it is skipped. */
  body(): Promise<Uint8Array>;
}

/** Reads exact byte counts from a stream of chunks. */
class ByteReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunk: Uint8Array = new Uint8Array(0);
  #at = 0;
  offset = 0;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** `n` bytes, or fewer at the end of the stream. */
  async read(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (this.#at === this.#chunk.length) {
        const { value, done } = await this.#reader.read();
        if (done) break;
        this.#chunk = value;
        this.#at = 0;
        continue;
      }
      const take = Math.min(n - filled, this.#chunk.length - this.#at);
      out.set(this.#chunk.subarray(this.#at, this.#at + take), filled);
      this.#at += take;
      filled += take;
    }
    this.offset += filled;
    return filled === n ? out : out.subarray(0, filled);
  }

  /** Skips `n` bytes; returns how many were there. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      if (this.#at === this.#chunk.length) {
        const { value, done } = await this.#reader.read();
        if (done) break;
        this.#chunk = value;
        this.#at = 0;
        continue;
      }
      const take = Math.min(left, this.#chunk.length - this.#at);
      this.#at += take;
      left -= take;
    }
    this.offset += n - left;
    return n - left;
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}

function field(block: Uint8Array, at: number, width: number): string {
  const bytes = block.subarray(at, at + width);
  const end = bytes.indexOf(0);
  return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

function numberField(block: Uint8Array, at: number, width: number): number {
  // GNU base-256: high bit of the first byte set.
  if (block[at] & 0x80) {
    let n = block[at] & 0x7f;
    for (let i = 1; i < width; i++) n = n * 256 + block[at + i];
    return n;
  }
  const text = field(block, at, width).trim();
  return text === "" ? 0 : parseInt(text, 8);
}

function parsePax(text: string): Map<string, string> {
  const records = new Map<string, string>();
  const bytes = encoder.encode(text);
  let at = 0;
  while (at < bytes.length) {
    const space = bytes.indexOf(0x20, at);
    if (space < 0) break;
    const length = Number(decoder.decode(bytes.subarray(at, space)));
    if (!Number.isInteger(length) || length <= 0) break;
    const record = decoder.decode(bytes.subarray(space + 1, at + length - 1));
    const eq = record.indexOf("=");
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

/**
 * The entries of a tar archive, in order. `archive` names it in errors.
 * Bodies are read lazily, so listing a large archive holds one block at a time.
 *
 * @example
 * ```ts
 * import { readTar } from "./tar.ts";
 * const file = await Deno.open("/tmp/a.tar");
 * for await (const e of readTar(file.readable, "/tmp/a.tar")) console.log(e.type, e.name, e.size);
 * ```
 */
export async function* readTar(
  stream: ReadableStream<Uint8Array>,
  archive = "archive",
): AsyncGenerator<TarEntry> {
  const input = new ByteReader(stream);
  let pax = new Map<string, string>();
  let longName: string | undefined, longLink: string | undefined;
  try {
    for (;;) {
      const at = input.offset;
      const block = await input.read(BLOCK);
      if (block.length === 0) return; // tolerated: no end-of-archive blocks
      if (block.length < BLOCK) throw new TarError(`${archive}: truncated header at ${at}`);
      if (block.every((b) => b === 0)) return;
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
      const stored = numberField(block, 148, 8);
      if (stored !== sum) {
        throw new TarError(`${archive}: bad header checksum at offset ${at} (not a tar file?)`);
      }
      const typeflag = String.fromCharCode(block[156] || 0x30);
      let size = numberField(block, 124, 12);
      if (pax.has("size")) size = Number(pax.get("size"));
      const bodyStart = input.offset;
      const readBody = async () => {
        const body = await input.read(size);
        if (body.length < size) throw new TarError(`${archive}: truncated body at ${bodyStart}`);
        await input.skip(padding(size));
        return body;
      };
      if (typeflag === "x" || typeflag === "g" || typeflag === "L" || typeflag === "K") {
        const text = decoder.decode(await readBody());
        if (typeflag === "x") pax = parsePax(text);
        if (typeflag === "L") longName = text.replace(/\0+$/, "");
        if (typeflag === "K") longLink = text.replace(/\0+$/, "");
        continue;
      }
      const prefix = field(block, 345, 155);
      const ustarName = prefix ? `${prefix}/${field(block, 0, 100)}` : field(block, 0, 100);
      const name = (pax.get("path") ?? longName ?? ustarName).replace(/\/+$/, "");
      const linkname = pax.get("linkpath") ?? longLink ?? field(block, 157, 100);
      const type: TarEntryType | undefined = typeflag === "0" || typeflag === "7"
        ? "file"
        : typeflag === "5"
        ? "directory"
        : typeflag === "2"
        ? "symlink"
        : undefined;
      if (!type) {
        throw new TarError(`${archive}: entry "${name}" at ${at} has unsupported type ${typeflag}`);
      }
      pax = new Map();
      longName = longLink = undefined;
      let consumed = false;
      yield {
        name,
        type,
        mode: numberField(block, 100, 8) & 0o7777,
        size: type === "file" ? size : 0,
        mtime: numberField(block, 136, 12),
        linkname: type === "symlink" ? linkname : "",
        body: () => {
          if (consumed) throw new TarError(`${archive}: body of "${name}" read twice`);
          consumed = true;
          return readBody();
        },
      };
      if (!consumed) {
        consumed = true;
        const skipped = await input.skip(size + padding(size));
        if (skipped < size) throw new TarError(`${archive}: truncated body at ${bodyStart}`);
      }
    }
  } finally {
    await input.cancel();
  }
}

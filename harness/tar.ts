/**
 * A minimal POSIX tar (ustar + pax) writer: regular files, directories and
 * symbolic links, mode bits included.
 *
 * The writer streams: headers and file bodies go to a `WritableStream` as
 * they are produced and a file on disk is copied chunk by chunk, so a bundle
 * of several hundred MB never sits in memory (and can be piped through a
 * compressor on its way to disk). Names that do not fit ustar's 100-byte name
 * field are split into its 155-byte prefix field at a `/`; names that still do
 * not fit, or are not ASCII, get a pax extended header (`path=`, likewise
 * `linkpath=` and `size=`), which GNU tar, bsdtar and Python's tarfile read.
 *
 * `readTar` (tar_read.ts, re-exported here) reads these archives back, and
 * GNU tar's.
 *
 * @module
 */
import { BLOCK, padding, type TarEntryType, TarError } from "./tar_read.ts";

export {
  readTar,
  type TarEntry,
  type TarEntryInfo,
  type TarEntryType,
  TarError,
} from "./tar_read.ts";

/** GNU tar pads archives to 20 blocks; some readers warn otherwise. */
const RECORD = 20 * BLOCK;
/** Writes smaller than this are gathered before they reach the stream. */
const BUFFER = 1 << 20;
/** Largest size ustar's 11 octal digits hold; larger goes to pax `size=`. */
const MAX_OCTAL_SIZE = 8 ** 11 - 1;

/** Options of one written entry. */
export interface TarWriteOptions {
  /** Permission bits; 0o644 for files, 0o755 for directories unless given. */
  readonly mode?: number;
  /** Seconds since the epoch; the writer's default otherwise. */
  readonly mtime?: number;
}

const encoder = new TextEncoder();

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as ustar writes it
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

function isAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/** The last `n` characters of `path` with non-ASCII ones as `_`, for placeholder names. */
function asciiTail(path: string, n: number): string {
  return path.replace(/[^\x20-\x7e]/g, "_").slice(-n).replace(/^\/+/, "");
}

/** `[prefix, name]` fitting ustar's fields, or `undefined` when pax is needed. */
function splitUstarName(path: string): [string, string] | undefined {
  if (!isAscii(path)) return undefined;
  if (path.length <= 100) return ["", path];
  for (let i = path.lastIndexOf("/"); i > 0; i = path.lastIndexOf("/", i - 1)) {
    const prefix = path.slice(0, i), name = path.slice(i + 1);
    if (name.length > 100) return undefined;
    if (prefix.length <= 155 && name.length > 0) return [prefix, name];
  }
  return undefined;
}

function headerBlock(fields: {
  name: string;
  prefix: string;
  mode: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
}): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const put = (at: number, width: number, text: string) => {
    const bytes = encoder.encode(text);
    if (bytes.length > width) throw new TarError(`tar field "${text}" exceeds ${width} bytes`);
    block.set(bytes, at);
  };
  put(0, 100, fields.name);
  put(100, 8, octal(fields.mode & 0o7777, 8));
  put(108, 8, octal(0, 8));
  put(116, 8, octal(0, 8));
  put(124, 12, octal(fields.size, 12));
  put(136, 12, octal(Math.max(0, Math.floor(fields.mtime)), 12));
  put(148, 8, "        ");
  put(156, 1, fields.typeflag);
  put(157, 100, fields.linkname);
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  put(265, 32, "root");
  put(297, 32, "root");
  put(345, 155, fields.prefix);
  let sum = 0;
  for (const b of block) sum += b;
  put(148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return block;
}

/** One pax record: `<len> <key>=<value>\n`, where len counts itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLength = encoder.encode(body).length;
  let length = bodyLength + String(bodyLength).length;
  if (String(length).length !== String(bodyLength).length) length++;
  return `${length}${body}`;
}

/**
 * Writes a tar archive to a stream, entry by entry.
 *
 * @example
 * ```ts
 * import { TarWriter } from "./tar.ts";
 * const file = await Deno.open("/tmp/a.tar", { write: true, create: true, truncate: true });
 * const tar = new TarWriter(file.writable);
 * await tar.addDirectory("pkg");
 * await tar.addFile("pkg/run.sh", new TextEncoder().encode("echo hi\n"), { mode: 0o755 });
 * await tar.close(); // also closes the file
 * ```
 */
export class TarWriter {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #mtime: number;
  #buffer = new Uint8Array(BUFFER);
  #buffered = 0;
  #written = 0;
  #closed = false;

  /** `mtime` (seconds) is the default of entries that give none; now otherwise. */
  constructor(sink: WritableStream<Uint8Array>, options: { mtime?: number } = {}) {
    this.#writer = sink.getWriter();
    this.#mtime = options.mtime ?? Math.floor(Date.now() / 1000);
  }

  /** Bytes of archive produced so far (before any compression downstream). */
  get bytesWritten(): number {
    return this.#written + this.#buffered;
  }

  async #flush(): Promise<void> {
    if (this.#buffered === 0) return;
    const chunk = this.#buffer.slice(0, this.#buffered);
    this.#written += this.#buffered;
    this.#buffered = 0;
    await this.#writer.write(chunk);
  }

  async #write(bytes: Uint8Array): Promise<void> {
    if (this.#closed) throw new TarError("tar writer used after close()");
    if (bytes.length >= BUFFER / 2) {
      await this.#flush();
      this.#written += bytes.length;
      // Copy: the stream may hold on to the chunk after write() resolves.
      await this.#writer.write(bytes.slice());
      return;
    }
    if (this.#buffered + bytes.length > BUFFER) await this.#flush();
    this.#buffer.set(bytes, this.#buffered);
    this.#buffered += bytes.length;
  }

  async #header(
    name: string,
    type: TarEntryType,
    size: number,
    options: TarWriteOptions,
    linkname = "",
  ): Promise<void> {
    name = name.replace(/\/+$/, "");
    if (name === "" || name.startsWith("/") || name.split("/").includes("..")) {
      throw new TarError(`tar entry name "${name}" must be relative and stay inside the archive`);
    }
    const mode = options.mode ?? (type === "file" ? 0o644 : 0o755);
    const mtime = options.mtime ?? this.#mtime;
    // ustar wants directory names with a trailing slash.
    const path = type === "directory" ? `${name}/` : name;
    const split = splitUstarName(path);
    const pax: string[] = [];
    if (!split) pax.push(paxRecord("path", path));
    const linkFits = isAscii(linkname) && linkname.length <= 100;
    if (!linkFits) pax.push(paxRecord("linkpath", linkname));
    if (size > MAX_OCTAL_SIZE) pax.push(paxRecord("size", String(size)));
    if (pax.length > 0) {
      const body = encoder.encode(pax.join(""));
      await this.#write(headerBlock({
        name: `PaxHeaders/${asciiTail(path, 80)}`,
        prefix: "",
        mode: 0o644,
        size: body.length,
        mtime,
        typeflag: "x",
        linkname: "",
      }));
      await this.#write(body);
      await this.#write(new Uint8Array(padding(body.length)));
    }
    // Under pax the ustar name is a placeholder for readers that ignore pax.
    const [prefix, short] = split ?? ["", asciiTail(path, 100)];
    await this.#write(headerBlock({
      name: short,
      prefix,
      mode,
      size: size > MAX_OCTAL_SIZE ? 0 : size,
      mtime,
      typeflag: type === "file" ? "0" : type === "directory" ? "5" : "2",
      linkname: linkFits ? linkname : "",
    }));
  }

  /** Adds a directory entry. */
  async addDirectory(name: string, options: TarWriteOptions = {}): Promise<void> {
    await this.#header(name, "directory", 0, options);
  }

  /** Adds a symbolic link `name` pointing at `target` (stored as given). */
  async addSymlink(name: string, target: string, options: TarWriteOptions = {}): Promise<void> {
    await this.#header(name, "symlink", 0, { mode: 0o777, ...options }, target);
  }

  /** Adds a regular file whose bytes are in memory. */
  async addFile(name: string, data: Uint8Array, options: TarWriteOptions = {}): Promise<void> {
    await this.#header(name, "file", data.length, options);
    await this.#write(data);
    await this.#write(new Uint8Array(padding(data.length)));
  }

  /**
   * Adds the regular file at `path`, copied chunk by chunk; its mode and
   * mtime unless `options` gives them. Throws when the file changes size
   * while it is copied (the header already promised the old size).
   */
  async addFileFrom(name: string, path: string, options: TarWriteOptions = {}): Promise<number> {
    const file = await Deno.open(path, { read: true });
    try {
      const info = await file.stat();
      if (!info.isFile) throw new TarError(`${path} is not a regular file`);
      await this.#header(name, "file", info.size, {
        mode: options.mode ?? (info.mode ?? 0o644) & 0o7777,
        mtime: options.mtime ?? Math.floor((info.mtime?.getTime() ?? Date.now()) / 1000),
      });
      const chunk = new Uint8Array(BUFFER);
      let copied = 0;
      for (;;) {
        const n = await file.read(chunk);
        if (n === null) break;
        if (copied + n > info.size) break;
        await this.#write(chunk.subarray(0, n));
        copied += n;
      }
      if (copied !== info.size) {
        throw new TarError(`${path} changed size while archived (${info.size} -> ${copied})`);
      }
      await this.#write(new Uint8Array(padding(info.size)));
      return info.size;
    } finally {
      file.close();
    }
  }

  /** Abandons the archive: the stream is aborted with `reason` (a file sink is closed). */
  async abort(reason?: unknown): Promise<void> {
    this.#closed = true;
    await this.#writer.abort(reason);
  }

  /** Writes the end-of-archive blocks, pads to a whole record and closes the stream. */
  async close(): Promise<void> {
    const end = this.bytesWritten + 2 * BLOCK;
    await this.#write(new Uint8Array(2 * BLOCK + (RECORD - (end % RECORD)) % RECORD));
    await this.#flush();
    this.#closed = true;
    await this.#writer.close();
  }
}

/**
 * CUDA fat binaries inside an ELF64 shared library: list the device-code
 * entries of every container, and keep one GPU architecture's code by
 * zeroing the payloads of the others.
 *
 * Why zero rather than cut: a library's `.nv_fatbin` section is referenced by
 * absolute addresses from `.nvFatBinSegment` (and relocations), so removing
 * bytes would mean relinking. Zeroed payloads keep every offset, header and
 * section size, the library loads as before, and the zeros cost next to
 * nothing once the bundle is compressed (ONNX Runtime's CUDA provider: 230 MB,
 * of which 166 MB is device code for six architectures).
 *
 * Layout, checked against nvcc 13.0 output and ONNX Runtime 1.29's provider
 * (all little-endian):
 *
 * - container header (16 bytes): u32 magic 0xBA55ED50, u16 version (1),
 *   u16 header size (16), u64 size of the entries that follow.
 * - entry header (64 bytes, more when flag 0x1000000 adds an extension):
 *   u16 kind (1 PTX, 2 ELF cubin), u16 version (0x0101), u32 header size,
 *   u64 payload size (padded to 8), u32 compressed size (0 when stored plain),
 *   u32 (64 for PTX: address size), u16 u16 (code version), u32 arch (90),
 *   u32 u32 (object name offset and length), u64 flags, u64 (0),
 *   u64 uncompressed size (0 when stored plain).
 * - flags: 0x1 64-bit, 0x10 Linux, 0x2000 LZ4-compressed, 0x8000
 *   zstd-compressed, 0x100000 arch-specific (`sm_90a`), 0x200000
 *   family-specific (`sm_100f`).
 *
 * The payload of an entry follows its header; the next entry follows the
 * payload; a container ends exactly after its last entry.
 *
 * @module
 */

/** Container magic at the start of every fat binary. */
export const FATBIN_MAGIC = 0xba55ed50;
/** Magic of the `__fatBinC_Wrapper_t` records in `.nvFatBinSegment`. */
const WRAPPER_MAGIC = 0x466243b1;

const FLAG_LZ4 = 0x2000;
const FLAG_ZSTD = 0x8000;
const FLAG_ARCH_SPECIFIC = 0x100000;
const FLAG_FAMILY_SPECIFIC = 0x200000;
const ENTRY_HEADER_MIN = 64;

/** One device-code entry of a fat binary; offsets are byte offsets in the file. */
export interface FatbinEntry {
  /** `ptx` (kind 1), `cubin` (kind 2) or `other` (any kind this reader does not know). */
  readonly kind: "ptx" | "cubin" | "other";
  /** The raw kind field. */
  readonly kindCode: number;
  /** The SM number, e.g. 90 for `sm_90`, `sm_90a` and `compute_90`. */
  readonly arch: number;
  /** `a` for arch-specific code (`sm_90a`), `f` for family-specific (`sm_100f`), else empty. */
  readonly archSuffix: "" | "a" | "f";
  /** Offset of the container header this entry belongs to. */
  readonly container: number;
  /** Offset of the entry header. */
  readonly offset: number;
  readonly headerSize: number;
  /** Bytes after the header, padding included: what {@linkcode reduceFatbin} zeroes. */
  readonly payloadSize: number;
  readonly compressed: boolean;
  readonly compression: "none" | "lz4" | "zstd";
  /** The payload's size once decompressed (equal to `payloadSize` when stored plain). */
  readonly uncompressedSize: number;
  /** The raw flags (low 32 bits; the high ones are zero in every file seen). */
  readonly flags: number;
}

/** A fat binary that cannot be read or reduced; the message names the file. */
export class FatbinError extends Error {
  override name = "FatbinError";
  /** The file as given by the caller (or `input`). */
  readonly file: string;
  constructor(file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.file = file;
  }
}

/** `sm_90`, `sm_90a`, `compute_90` or `90` to 90. */
export function parseArch(text: string): number {
  const m = /^(?:sm_|compute_)?(\d+)[af]?$/.exec(text.trim());
  if (!m) throw new RangeError(`expected an architecture like sm_90 or 90 but found "${text}"`);
  return Number(m[1]);
}

/** The name of an entry's code, e.g. `sm_90a` or `compute_80`. */
export function entryName(e: FatbinEntry): string {
  return `${e.kind === "ptx" ? "compute" : "sm"}_${e.arch}${e.archSuffix}`;
}

interface Section {
  readonly name: string;
  readonly type: number;
  readonly addr: number;
  readonly offset: number;
  readonly size: number;
}

const SHT_NOBITS = 8;

function u64(view: DataView, at: number, file: string, what: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new FatbinError(file, `${what} at offset ${at} is too large (${v})`);
  }
  return Number(v);
}

function readSections(bytes: Uint8Array, file: string): Section[] {
  const isElf = bytes.length >= 64 && bytes[0] === 0x7f && bytes[1] === 0x45 &&
    bytes[2] === 0x4c && bytes[3] === 0x46;
  if (!isElf) throw new FatbinError(file, "not an ELF file (no \\x7fELF magic)");
  if (bytes[4] !== 2 || bytes[5] !== 1) {
    throw new FatbinError(
      file,
      `only little-endian ELF64 is supported but found class ${bytes[4]}, data ${bytes[5]}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = u64(view, 0x28, file, "e_shoff");
  const shentsize = view.getUint16(0x3a, true);
  let shnum = view.getUint16(0x3c, true);
  let shstrndx = view.getUint16(0x3e, true);
  if (shoff === 0) throw new FatbinError(file, "ELF file has no section headers");
  if (shentsize < 64) throw new FatbinError(file, `ELF section header size ${shentsize} < 64`);
  const header = (i: number) => shoff + i * shentsize;
  if (header(1) > bytes.length) throw new FatbinError(file, "ELF section headers truncated");
  // Past 0xff00 sections the real count and string-table index live in section 0.
  if (shnum === 0) shnum = u64(view, header(0) + 32, file, "section count");
  if (shstrndx === 0xffff) shstrndx = view.getUint32(header(0) + 40, true);
  if (header(shnum) > bytes.length) {
    throw new FatbinError(file, `ELF section headers truncated (${shnum} expected)`);
  }
  const raw = Array.from({ length: shnum }, (_, i) => {
    const h = header(i);
    return {
      nameOffset: view.getUint32(h, true),
      type: view.getUint32(h + 4, true),
      addr: u64(view, h + 16, file, "sh_addr"),
      offset: u64(view, h + 24, file, "sh_offset"),
      size: u64(view, h + 32, file, "sh_size"),
    };
  });
  const strtab = raw[shstrndx];
  if (!strtab) throw new FatbinError(file, `section name table index ${shstrndx} out of range`);
  const decoder = new TextDecoder();
  return raw.map((s) => {
    const start = strtab.offset + s.nameOffset;
    let end = start;
    while (end < bytes.length && bytes[end] !== 0) end++;
    const name = decoder.decode(bytes.subarray(start, end));
    if (s.type !== SHT_NOBITS && s.offset + s.size > bytes.length) {
      throw new FatbinError(file, `section ${name} runs past the end of the file`);
    }
    return { name, type: s.type, addr: s.addr, offset: s.offset, size: s.size };
  });
}

/** Walks the entries of the container at `at`; returns the offset just past it. */
function walkContainer(
  view: DataView,
  at: number,
  limit: number,
  file: string,
  out: FatbinEntry[],
): number {
  const headerSize = view.getUint16(at + 6, true);
  const size = u64(view, at + 8, file, "container size");
  const end = at + headerSize + size;
  if (headerSize < 16 || end > limit) {
    throw new FatbinError(
      file,
      `fatbin container at offset ${at} (header ${headerSize}, size ${size}) runs past its section`,
    );
  }
  let pos = at + headerSize;
  while (pos < end) {
    if (pos + ENTRY_HEADER_MIN > end) {
      throw new FatbinError(file, `truncated fatbin entry header at offset ${pos}`);
    }
    const kindCode = view.getUint16(pos, true);
    const entryHeader = view.getUint32(pos + 4, true);
    const payloadSize = u64(view, pos + 8, file, "payload size");
    if (entryHeader < ENTRY_HEADER_MIN || pos + entryHeader + payloadSize > end) {
      throw new FatbinError(
        file,
        `fatbin entry at offset ${pos} (header ${entryHeader}, payload ${payloadSize}) ` +
          `runs past its container (ends at ${end})`,
      );
    }
    const flags = view.getUint32(pos + 0x28, true);
    const compression = flags & FLAG_ZSTD ? "zstd" : flags & FLAG_LZ4 ? "lz4" : "none";
    out.push({
      kind: kindCode === 1 ? "ptx" : kindCode === 2 ? "cubin" : "other",
      kindCode,
      arch: view.getUint32(pos + 0x1c, true),
      archSuffix: flags & FLAG_ARCH_SPECIFIC ? "a" : flags & FLAG_FAMILY_SPECIFIC ? "f" : "",
      container: at,
      offset: pos,
      headerSize: entryHeader,
      payloadSize,
      compressed: compression !== "none",
      compression,
      uncompressedSize: compression === "none"
        ? payloadSize
        : u64(view, pos + 0x38, file, "uncompressed size"),
      flags,
    });
    pos += entryHeader + payloadSize;
  }
  return end;
}

/** Walks a run of containers filling `[start, end)`; zero padding between them is allowed. */
function walkRun(
  view: DataView,
  start: number,
  end: number,
  file: string,
  out: FatbinEntry[],
): void {
  let pos = start;
  while (pos < end) {
    if (end - pos >= 16 && view.getUint32(pos, true) === FATBIN_MAGIC) {
      pos = walkContainer(view, pos, end, file, out);
    } else if (view.getUint8(pos) === 0) {
      pos++;
    } else {
      throw new FatbinError(
        file,
        `expected a fatbin container (magic 0x${FATBIN_MAGIC.toString(16)}) at offset ${pos}`,
      );
    }
  }
}

/**
 * Containers that `.nvFatBinSegment` points at outside `.nv_fatbin`. Its
 * records are `{u32 magic, u32 version, u64 fatbin address, u64 ...}`; in
 * nvcc's shared libraries every one points into `.nv_fatbin`, but a toolchain
 * may place a fatbin in another section, and this finds it. An address of 0
 * (left to a relocation) is skipped.
 */
function strayContainers(
  view: DataView,
  sections: readonly Section[],
  fatbin: Section | undefined,
): { offset: number; limit: number }[] {
  const segment = sections.find((s) => s.name === ".nvFatBinSegment");
  if (!segment || segment.type === SHT_NOBITS) return [];
  const found: { offset: number; limit: number }[] = [];
  for (let at = segment.offset; at + 24 <= segment.offset + segment.size; at += 24) {
    if (view.getUint32(at, true) !== WRAPPER_MAGIC) continue;
    const addr = Number(view.getBigUint64(at + 8, true));
    if (addr === 0) continue;
    const home = sections.find((s) =>
      s.type !== SHT_NOBITS && s.addr !== 0 && addr >= s.addr && addr < s.addr + s.size
    );
    if (!home || home === fatbin) continue;
    const offset = home.offset + (addr - home.addr);
    if (offset + 16 <= view.byteLength && view.getUint32(offset, true) === FATBIN_MAGIC) {
      found.push({ offset, limit: home.offset + home.size });
    }
  }
  return found;
}

/**
 * Every fat binary entry of an ELF64 little-endian file, in file order: the
 * containers of `.nv_fatbin`, then any that `.nvFatBinSegment` points at
 * elsewhere. Throws {@linkcode FatbinError} (naming `file`) for a non-ELF
 * input, a file without fat binaries, or a malformed container.
 *
 * @example
 * ```ts
 * import { listFatbinEntries } from "./fatbin.ts";
 * const path = "tests/fixtures/fatbin/libscale.so";
 * const entries = listFatbinEntries(await Deno.readFile(path), path);
 * console.log(entries.map((e) => `${e.kind} ${e.arch}`));
 * ```
 */
export function listFatbinEntries(bytes: Uint8Array, file = "input"): FatbinEntry[] {
  const sections = readSections(bytes, file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fatbin = sections.find((s) => s.name === ".nv_fatbin" && s.type !== SHT_NOBITS);
  const out: FatbinEntry[] = [];
  if (fatbin) walkRun(view, fatbin.offset, fatbin.offset + fatbin.size, file, out);
  const seen = new Set(out.map((e) => e.container));
  for (const stray of strayContainers(view, sections, fatbin)) {
    if (seen.has(stray.offset)) continue;
    seen.add(stray.offset);
    walkContainer(view, stray.offset, stray.limit, file, out);
  }
  if (!fatbin && out.length === 0) {
    throw new FatbinError(file, "no .nv_fatbin section (not a CUDA library?)");
  }
  return out;
}

/** Entry counts and payload bytes of one architecture. */
export interface ArchSummary {
  readonly arch: number;
  /** Suffixes seen for this arch, e.g. `["a"]` when all its code is `sm_90a`. */
  readonly suffixes: string[];
  readonly cubins: number;
  readonly ptx: number;
  readonly other: number;
  /** Payload bytes as stored (compressed where compressed). */
  readonly payloadBytes: number;
  /** Payload bytes once decompressed. */
  readonly uncompressedBytes: number;
}

/** Per-architecture totals of `entries`, by ascending arch. */
export function summarizeFatbin(entries: readonly FatbinEntry[]): ArchSummary[] {
  const by = new Map<number, ArchSummary>();
  for (const e of entries) {
    const s = by.get(e.arch) ?? {
      arch: e.arch,
      suffixes: [],
      cubins: 0,
      ptx: 0,
      other: 0,
      payloadBytes: 0,
      uncompressedBytes: 0,
    };
    by.set(e.arch, {
      ...s,
      suffixes: s.suffixes.includes(e.archSuffix) ? s.suffixes : [...s.suffixes, e.archSuffix],
      cubins: s.cubins + (e.kind === "cubin" ? 1 : 0),
      ptx: s.ptx + (e.kind === "ptx" ? 1 : 0),
      other: s.other + (e.kind === "other" ? 1 : 0),
      payloadBytes: s.payloadBytes + e.payloadSize,
      uncompressedBytes: s.uncompressedBytes + e.uncompressedSize,
    });
  }
  return [...by.values()].sort((a, b) => a.arch - b.arch);
}

/** What {@linkcode planReduction} decided for each entry. */
export interface ReductionPlan {
  /** Entries whose payload stays. */
  readonly keep: FatbinEntry[];
  /** Entries whose payload is zeroed. */
  readonly drop: FatbinEntry[];
  /**
   * Kept entries of another arch: the newest portable PTX (arch <= keepArch)
   * of a container that has no code for keepArch, which the driver would JIT.
   */
  readonly fallbacks: FatbinEntry[];
  /** Containers left with no code a keepArch GPU can run (none had any before either). */
  readonly uncovered: number[];
}

/**
 * Decides which payloads {@linkcode reduceFatbin} keeps: every entry of
 * `keepArch` (cubin and PTX, any suffix), plus, in a container without any,
 * the newest suffix-free PTX of an older arch, because that is what the
 * driver JIT-compiles for a `keepArch` GPU today and zeroing it would turn a
 * working kernel into a missing one.
 */
export function planReduction(entries: readonly FatbinEntry[], keepArch: number): ReductionPlan {
  const keep: FatbinEntry[] = [], drop: FatbinEntry[] = [], fallbacks: FatbinEntry[] = [];
  const uncovered: number[] = [];
  const containers = Map.groupBy(entries, (e) => e.container);
  for (const [container, group] of containers) {
    const own = group.filter((e) => e.arch === keepArch);
    let fallback: FatbinEntry | undefined;
    if (own.length === 0) {
      for (const e of group) {
        const portable = e.kind === "ptx" && e.archSuffix === "" && e.arch <= keepArch;
        if (portable && (!fallback || e.arch > fallback.arch)) fallback = e;
      }
      if (fallback) fallbacks.push(fallback);
      else uncovered.push(container);
    }
    for (const e of group) (e.arch === keepArch || e === fallback ? keep : drop).push(e);
  }
  return { keep, drop, fallbacks, uncovered };
}

/**
 * A copy of `bytes` in which every fat binary payload that a `keepArch` GPU
 * does not need (see {@linkcode planReduction}) is zeroed. Container and entry
 * headers, section sizes and every other byte stay as they are, so the file
 * keeps its length and still loads; the CUDA driver picks entries by their
 * headers, finds the kept arch's code, and never reads the zeroed ones.
 * Throws {@linkcode FatbinError} naming the arches present when `keepArch`
 * has no entry.
 *
 * @example
 * ```ts
 * import { reduceFatbin } from "./fatbin.ts";
 * const path = "tests/fixtures/fatbin/libscale.so";
 * const reduced = reduceFatbin(await Deno.readFile(path), 90, path);
 * await Deno.writeFile("/tmp/libscale_sm90.so", reduced);
 * ```
 */
export function reduceFatbin(bytes: Uint8Array, keepArch: number, file = "input"): Uint8Array {
  const out = bytes.slice();
  reduceFatbinInPlace(out, keepArch, file);
  return out;
}

/**
 * {@linkcode reduceFatbin} without the copy, for a buffer the caller owns (a
 * 230 MB library need not be held twice); returns what was kept and zeroed.
 */
export function reduceFatbinInPlace(
  bytes: Uint8Array,
  keepArch: number,
  file = "input",
): ReductionPlan {
  const entries = listFatbinEntries(bytes, file);
  if (!entries.some((e) => e.arch === keepArch)) {
    const found = summarizeFatbin(entries).map((s) => `sm_${s.arch}`);
    throw new FatbinError(
      file,
      `no fatbin entry for sm_${keepArch}; found ${found.join(", ") || "no entries"}`,
    );
  }
  const plan = planReduction(entries, keepArch);
  for (const e of plan.drop) {
    const start = e.offset + e.headerSize;
    bytes.fill(0, start, start + e.payloadSize);
  }
  return plan;
}

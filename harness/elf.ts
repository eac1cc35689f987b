/**
 * Just enough of ELF64 (little-endian) to read a shared library's section
 * table and the libraries it needs (`DT_NEEDED`): `setup cuda` walks the CUDA
 * provider's dependencies with it, the fatbin reducer finds `.nv_fatbin`.
 *
 * @module
 */

/** One section header. */
export interface ElfSection {
  readonly name: string;
  readonly type: number;
  readonly offset: number;
  readonly size: number;
  /** Index of the linked section (a string table for `.dynamic`). */
  readonly link: number;
}

/** A file that is not the ELF this reads. */
export class ElfError extends Error {
  override name = "ElfError";
}

const DT_NEEDED = 1n;

/** The section headers of an ELF64 little-endian file, named. */
export function elfSections(bytes: Uint8Array, file = "input"): ElfSection[] {
  checkIdent(bytes, file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(view.getBigUint64(0x28, true));
  const shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  const shstrndx = view.getUint16(0x3e, true);
  if (shoff === 0 || shoff + shnum * shentsize > bytes.byteLength) {
    throw new ElfError(`${file} has no section table within its ${bytes.byteLength} bytes`);
  }
  const raw = Array.from({ length: shnum }, (_, i) => {
    const at = shoff + i * shentsize;
    return {
      nameOffset: view.getUint32(at, true),
      type: view.getUint32(at + 4, true),
      offset: Number(view.getBigUint64(at + 0x18, true)),
      size: Number(view.getBigUint64(at + 0x20, true)),
      link: view.getUint32(at + 0x28, true),
    };
  });
  const names = raw[shstrndx];
  return raw.map((s) => ({
    name: cString(bytes, names.offset + s.nameOffset),
    type: s.type,
    offset: s.offset,
    size: s.size,
    link: s.link,
  }));
}

/**
 * The sonames a shared library needs, in the order its dynamic section lists
 * them. Reads only the headers, the dynamic segment and its string table
 * (a CUDA library can be 500 MB).
 */
export async function elfNeeded(path: string): Promise<string[]> {
  const file = await Deno.open(path);
  try {
    const read = async (offset: number, length: number) => {
      const buffer = new Uint8Array(length);
      await file.seek(offset, Deno.SeekMode.Start);
      let done = 0;
      while (done < length) {
        const n = await file.read(buffer.subarray(done));
        if (n === null) throw new ElfError(`${path} ends before byte ${offset + length}`);
        done += n;
      }
      return buffer;
    };
    const header = await read(0, 64);
    checkIdent(header, path);
    const h = new DataView(header.buffer);
    const phoff = Number(h.getBigUint64(0x20, true));
    const phentsize = h.getUint16(0x36, true);
    const phnum = h.getUint16(0x38, true);
    const ph = new DataView((await read(phoff, phnum * phentsize)).buffer);
    const segments = Array.from({ length: phnum }, (_, i) => ({
      type: ph.getUint32(i * phentsize, true),
      offset: Number(ph.getBigUint64(i * phentsize + 8, true)),
      vaddr: Number(ph.getBigUint64(i * phentsize + 16, true)),
      filesz: Number(ph.getBigUint64(i * phentsize + 32, true)),
    }));
    const dynamic = segments.find((s) => s.type === PT_DYNAMIC);
    if (!dynamic) return [];
    const dyn = new DataView((await read(dynamic.offset, dynamic.filesz)).buffer);
    let strtab = 0, strsz = 0;
    const needed: number[] = [];
    for (let at = 0; at + 16 <= dynamic.filesz; at += 16) {
      const tag = dyn.getBigInt64(at, true);
      const value = Number(dyn.getBigUint64(at + 8, true));
      if (tag === 0n) break;
      if (tag === DT_NEEDED) needed.push(value);
      if (tag === DT_STRTAB) strtab = value;
      if (tag === DT_STRSZ) strsz = value;
    }
    const load = segments.find((s) =>
      s.type === PT_LOAD && strtab >= s.vaddr && strtab < s.vaddr + s.filesz
    );
    if (!load) throw new ElfError(`${path}: the dynamic string table is in no loaded segment`);
    const strings = await read(strtab - load.vaddr + load.offset, strsz);
    return needed.map((at) => cString(strings, at));
  } finally {
    file.close();
  }
}

const PT_LOAD = 1, PT_DYNAMIC = 2;
const DT_STRTAB = 5n, DT_STRSZ = 10n;

function checkIdent(bytes: Uint8Array, file: string): void {
  const magic = bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
  if (!magic) throw new ElfError(`${file} is not an ELF file (no \\x7fELF magic)`);
  if (bytes[4] !== 2 || bytes[5] !== 1) {
    throw new ElfError(`${file} is not a 64-bit little-endian ELF file`);
  }
}

function cString(bytes: Uint8Array, at: number): string {
  let end = at;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(at, end));
}

/**
 * `elmbench fatbin FILE [--keep sm_90 --out FILE]`: lists the CUDA device
 * code of a shared library per architecture, or writes a copy that keeps one
 * architecture's code (see `reduceFatbin` in `fatbin.ts`).
 *
 * @module
 */
import { parseArgs, UsageError } from "./cli_args.ts";
import {
  type ArchSummary,
  entryName,
  type FatbinEntry,
  listFatbinEntries,
  parseArch,
  reduceFatbinInPlace,
  summarizeFatbin,
} from "./fatbin.ts";

/** Help text of `fatbin`. */
export const FATBIN_HELP = `elmbench fatbin FILE [--json]
  Lists the CUDA fat binary entries of an ELF shared library (e.g. ONNX
  Runtime's libonnxruntime_providers_cuda.so): per architecture the cubin and
  PTX entries, how many were zeroed by --keep, and their payload bytes,
  stored and uncompressed.

elmbench fatbin FILE --keep sm_90 --out FILE
  Writes a copy in which the device code of every other architecture is
  zeroed (headers and sizes unchanged, so the library loads as before); a
  container without sm_90 code keeps its newest older PTX, which the driver
  would JIT. The file keeps its size; compressed, it shrinks by the zeros.`;

/** `1234567` as `1.23 MB`. */
export function formatBytes(n: number): string {
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(2)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/** True when the entry's payload in `bytes` is all zeros: reduced away. */
export function isZeroed(bytes: Uint8Array, e: FatbinEntry): boolean {
  const start = e.offset + e.headerSize;
  return bytes.subarray(start, start + e.payloadSize).every((b) => b === 0);
}

/**
 * The per-arch table of {@linkcode summarizeFatbin}, one line per arch and a
 * total; the `zeroed` column counts entries a reduction emptied, so a reduced
 * provider shows which arch it still runs on.
 */
export function formatFatbinSummary(bytes: Uint8Array, entries: readonly FatbinEntry[]): string {
  const rows = summarizeFatbin(entries);
  const zeroed = new Map<number, number>();
  for (const e of entries) {
    if (isZeroed(bytes, e)) zeroed.set(e.arch, (zeroed.get(e.arch) ?? 0) + 1);
  }
  const containers = new Set(entries.map((e) => e.container)).size;
  const line = (label: string, s: ArchSummary, empty: number) =>
    [
      label.padEnd(9),
      `${s.cubins}`.padStart(6),
      `${s.ptx}`.padStart(5),
      `${empty}`.padStart(6),
      formatBytes(s.payloadBytes).padStart(11),
      formatBytes(s.uncompressedBytes).padStart(13),
    ].join(" ");
  const total = rows.reduce((a, s) => ({
    ...a,
    cubins: a.cubins + s.cubins,
    ptx: a.ptx + s.ptx,
    payloadBytes: a.payloadBytes + s.payloadBytes,
    uncompressedBytes: a.uncompressedBytes + s.uncompressedBytes,
  }), {
    arch: 0,
    suffixes: [],
    cubins: 0,
    ptx: 0,
    other: 0,
    payloadBytes: 0,
    uncompressedBytes: 0,
  });
  const name = (s: ArchSummary) => s.suffixes.map((x) => `sm_${s.arch}${x}`).join("/");
  return [
    `${entries.length} entries in ${containers} containers`,
    "arch      cubins   ptx zeroed      stored  uncompressed",
    ...rows.map((s) => line(name(s), s, zeroed.get(s.arch) ?? 0)),
    line("total", total, [...zeroed.values()].reduce((a, b) => a + b, 0)),
  ].join("\n");
}

/** Runs `fatbin`. */
export async function fatbinCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs("fatbin", args, {
    json: { type: "boolean" },
    keep: { type: "string" },
    out: { type: "string" },
  });
  if (values.help) return console.log(FATBIN_HELP);
  if (positionals.length !== 1) throw new UsageError("fatbin expects one shared library");
  const file = positionals[0];
  const bytes = await Deno.readFile(file);
  if (values.keep === undefined) {
    if (values.out !== undefined) throw new UsageError("fatbin --out needs --keep ARCH");
    const entries = listFatbinEntries(bytes, file);
    console.log(
      values.json ? JSON.stringify(summarizeFatbin(entries)) : formatFatbinSummary(bytes, entries),
    );
    return;
  }
  if (values.out === undefined) throw new UsageError("fatbin --keep needs --out FILE");
  let arch: number;
  try {
    arch = parseArch(values.keep as string);
  } catch (e) {
    throw new UsageError(`--keep: ${(e as Error).message}`);
  }
  const plan = reduceFatbinInPlace(bytes, arch, file);
  await Deno.writeFile(values.out as string, bytes);
  const sum = (es: FatbinEntry[]) => formatBytes(es.reduce((a, e) => a + e.payloadSize, 0));
  console.error(
    `kept ${plan.keep.length} entries (${sum(plan.keep)}), zeroed ${plan.drop.length} ` +
      `(${sum(plan.drop)}); wrote ${values.out} (${formatBytes(bytes.length)})`,
  );
  for (const e of plan.fallbacks) {
    console.error(`container at ${e.container}: no sm_${arch} code, kept ${entryName(e)} to JIT`);
  }
  if (plan.uncovered.length > 0) {
    console.error(
      `${plan.uncovered.length} container(s) had no code an sm_${arch} GPU can run ` +
        `(offsets ${plan.uncovered.join(", ")}): their kernels fail there, reduced or not`,
    );
  }
}

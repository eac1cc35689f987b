/**
 * Reading many results files at once (a directory of per-cell files, as
 * written by `reproduce` and scheduler plans), keeping each record's path so
 * that its per-user file can be found.
 *
 * @module
 */
import { join } from "node:path";
import type { CellFailure } from "./cell_failures.ts";
import { UsageError } from "./cli_args.ts";
import { readResultsFile } from "./results.ts";
import type { SourcedRecord } from "./significance.ts";

/** Reads `path`: a results file, or every `*.jsonl` directly inside a directory. */
export async function expandGlob(path: string): Promise<SourcedRecord[]> {
  return (await readResultsPath(path)).sources;
}

/** The `*.jsonl` files `path` names: itself, or those directly inside it; none when it is missing. */
async function resultsFiles(path: string): Promise<string[] | null> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  if (!info.isDirectory) return [path];
  const files: string[] = [];
  for await (const entry of Deno.readDir(path)) {
    if (entry.isFile && entry.name.endsWith(".jsonl")) files.push(join(path, entry.name));
  }
  return files.sort();
}

/** The records and failed cells of `path` (a results file or a folder of them; missing: none). */
export async function readResultsPath(
  path: string,
): Promise<{ sources: SourcedRecord[]; failures: CellFailure[] }> {
  const sources: SourcedRecord[] = [];
  const failures: CellFailure[] = [];
  for (const file of (await resultsFiles(path)) ?? []) {
    const read = await readResultsFile(file);
    for (const record of read.records) sources.push({ record, path: file });
    failures.push(...read.failures);
  }
  return { sources, failures };
}

/**
 * Reads the results `paths` name for `command`, where each must exist and
 * hold records: a missing path, a folder without `*.jsonl` files, or a file
 * without records is a usage error naming it and what was expected.
 */
export async function readResultsPaths(
  command: string,
  paths: readonly string[],
): Promise<{ sources: SourcedRecord[]; failures: CellFailure[] }> {
  const sources: SourcedRecord[] = [];
  const failures: CellFailure[] = [];
  const expected =
    "expected a results file (.jsonl, as run writes) or a folder of them (as reproduce writes under <out>/cells)";
  for (const path of paths) {
    const files = await resultsFiles(path);
    if (files === null) throw new UsageError(`${command}: ${path} does not exist; ${expected}`);
    if (files.length === 0) {
      throw new UsageError(`${command}: ${path} is a folder with no .jsonl files; ${expected}`);
    }
    const read = await readResultsPath(path);
    if (read.sources.length === 0 && read.failures.length === 0) {
      throw new UsageError(`${command}: ${path} holds no result records; ${expected}`);
    }
    sources.push(...read.sources);
    failures.push(...read.failures);
  }
  return { sources, failures };
}

/** Failed cells that no record of the same cell (a later, successful run) supersedes. */
export function openFailures(
  failures: readonly CellFailure[],
  sources: readonly SourcedRecord[],
): CellFailure[] {
  const done = new Set(sources.map((s) => s.record.id));
  const seen = new Set<string>();
  return failures.filter((f) => !done.has(f.id) && !seen.has(f.id) && seen.add(f.id));
}

/**
 * Reading many results files at once (a directory of per-cell files, as
 * written by `reproduce` and scheduler plans), keeping each record's path so
 * that its per-user file can be found.
 *
 * @module
 */
import { join } from "node:path";
import { readResults } from "./results.ts";
import type { SourcedRecord } from "./significance.ts";

/** Reads `path`: a results file, or every `*.jsonl` directly inside a directory. */
export async function expandGlob(path: string): Promise<SourcedRecord[]> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const files: string[] = [];
  if (info.isDirectory) {
    for await (const entry of Deno.readDir(path)) {
      if (entry.isFile && entry.name.endsWith(".jsonl")) files.push(join(path, entry.name));
    }
    files.sort();
  } else {
    files.push(path);
  }
  const out: SourcedRecord[] = [];
  for (const file of files) {
    for (const record of await readResults(file)) out.push({ record, path: file });
  }
  return out;
}

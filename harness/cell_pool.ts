/**
 * Runs cells as `elmbench run` subprocesses, `jobs` at a time, each logging
 * to its own file. A failed cell is reported and the others go on; finished
 * cells are skipped on the next call because their results files say so.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { cellArgs, cellSlug, type CellSpec } from "./cells.ts";
import { readResults } from "./results.ts";

/**
 * The CLI entry (`cli.ts` at the project's root), for subprocesses and
 * scheduler scripts: a cell runs as `elmbench run`. A path, not an import:
 * the harness runs the entry but does not load it.
 */
export const CLI_PATH = fileURLToPath(new URL("../cli.ts", import.meta.url));

/** Permissions a cell subprocess needs. */
export const CELL_PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-ffi",
  "--allow-sys",
  "--allow-run",
];

/** True when the cell's results file already holds its test record. */
export async function cellDone(cell: CellSpec, cellsDir: string): Promise<boolean> {
  const records = await readResults(`${cellsDir}/${cellSlug(cell)}.jsonl`);
  return records.some((r) =>
    r.plugin === cell.plugin && r.task === cell.task && r.seed === cell.seed &&
    r.stage === "test" && r.reindex === cell.reindex && r.mask === cell.mask
  );
}

/** What happened to the cells of one call. */
export interface PoolReport {
  readonly ran: number;
  readonly skipped: number;
  readonly failed: { cell: CellSpec; log: string }[];
}

/** Runs the cells not yet done, `jobs` at a time. */
export async function runCellPool(
  cells: readonly CellSpec[],
  options: { jobs: number; cellsDir: string; logsDir: string; signal?: AbortSignal },
): Promise<PoolReport> {
  await Deno.mkdir(options.cellsDir, { recursive: true });
  await Deno.mkdir(options.logsDir, { recursive: true });
  const todo: CellSpec[] = [];
  for (const cell of cells) if (!(await cellDone(cell, options.cellsDir))) todo.push(cell);
  const skipped = cells.length - todo.length;
  if (skipped) console.error(`reproduce: ${skipped} of ${cells.length} cells already done`);
  const failed: PoolReport["failed"] = [];
  let next = 0;
  let finished = 0;
  const worker = async () => {
    while (next < todo.length) {
      options.signal?.throwIfAborted();
      const cell = todo[next++];
      const slug = cellSlug(cell);
      const log = `${options.logsDir}/${slug}.log`;
      const t0 = performance.now();
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", ...CELL_PERMISSIONS, CLI_PATH, ...cellArgs(cell, options.cellsDir)],
        stdout: "null",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).spawn();
      const out = await child.output();
      await Deno.writeFile(log, out.stderr);
      finished++;
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      if (out.success) {
        console.error(`[${finished}/${todo.length}] ${slug} done in ${secs}s`);
      } else {
        failed.push({ cell, log });
        console.error(`[${finished}/${todo.length}] ${slug} FAILED (exit ${out.code}); see ${log}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.jobs) }, worker));
  return { ran: todo.length, skipped, failed };
}

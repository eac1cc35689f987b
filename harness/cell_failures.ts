/**
 * Cells that failed: a plugin's `fit` or scorer threw. The runner records
 * each as one line of the results file (schema `elmbench-failure/1`, beside
 * the result records, which readers of results skip), goes on with the
 * other cells, and ends with {@linkcode CellsFailedError}, whose message
 * names every failed cell. A failed cell is not done: rerunning the same
 * command retries it, and a later result of the same cell supersedes it.
 *
 * @module
 */
import type { CellKey } from "./results.ts";
import type { PluginConfig } from "./plugin.ts";

/** The schema of a failure line. */
export const FAILURE_SCHEMA = "elmbench-failure/1";

/** Where in a cell the error came from: the plugin's `fit`, `load`, `save`, or its scorer. */
export type FailurePhase = "fit" | "load" | "save" | "score";

/** One failed cell (one stage of it), as a line of the results file. */
export interface CellFailure extends CellKey {
  readonly schema: typeof FAILURE_SCHEMA;
  /** The id the cell's result would have had. */
  readonly id: string;
  readonly variant?: string;
  readonly preset: string | null;
  readonly data_spec?: string;
  readonly config: PluginConfig;
  readonly phase: FailurePhase;
  readonly error: {
    readonly name: string;
    readonly message: string;
    /** Kept only with `ELMBENCH_DEBUG=1` (stacks name paths of one machine). */
    readonly stack?: string;
  };
  readonly finished_at: string;
}

/** Whether stacks are printed and kept (`ELMBENCH_DEBUG=1`). */
export function debugging(): boolean {
  try {
    return !!Deno.env.get("ELMBENCH_DEBUG");
  } catch {
    // Without --allow-env the answer is no, not a crash inside error handling.
    return false;
  }
}

/** The error part of a failure line. */
export function errorOf(e: unknown): CellFailure["error"] {
  const error = e instanceof Error ? e : new Error(String(e));
  return {
    name: error.name,
    message: error.message,
    ...(debugging() && error.stack ? { stack: error.stack } : {}),
  };
}

/**
 * One line naming a failed cell: plugin, dataset, task, seed, stage, phase
 * and message, e.g.
 * `boom on synthetic/direct, seed 0, test split: fit threw: out of memory`.
 */
export function describeFailure(f: CellFailure): string {
  const tags = [
    f.variant,
    f.reindex !== "none" ? `reindex=${f.reindex}` : "",
    f.mask !== "none" ? `mask=${f.mask}` : "",
  ].filter(Boolean);
  const label = tags.length ? `${f.plugin} (${tags.join(", ")})` : f.plugin;
  const firstLine = f.error.message.split("\n")[0];
  return `${label} on ${f.dataset}/${f.task}, seed ${f.seed}, ${f.stage} split: ${f.phase} threw: ${firstLine}`;
}

/**
 * Thrown after every cell has run when some failed; the others are
 * recorded. The message names each failed cell and what to do next.
 */
export class CellsFailedError extends Error {
  override name = "CellsFailedError";
  readonly failures: readonly CellFailure[];

  constructor(failures: readonly CellFailure[], total: number, resultsPath?: string | null) {
    const cells = failures.map((f) => `  ${describeFailure(f)}`);
    const where = resultsPath ? ` and are recorded in ${resultsPath}` : "";
    super(
      [
        `${failures.length} of ${total} cell(s) failed; the others ran${where}:`,
        ...cells,
        "Rerun the same command to retry the failed cells (finished ones are skipped);" +
        " ELMBENCH_DEBUG=1 prints their stacks.",
      ].join("\n"),
    );
    this.failures = failures;
  }
}

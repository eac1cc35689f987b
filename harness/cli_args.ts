/**
 * Small helpers shared by the CLI commands: option parsing with clear errors,
 * list splitting, enum checks.
 *
 * @module
 */
import { parseArgs as nodeParseArgs, type ParseArgsConfig } from "node:util";

/**
 * Parses `args` with node:util's parseArgs, turning its errors into
 * one-line usage errors that name the option and list the valid ones.
 */
export function parseArgs<T extends ParseArgsConfig["options"]>(
  command: string,
  args: string[],
  options: T,
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  const all = { ...options, help: { type: "boolean" as const, short: "h" } };
  try {
    const { values, positionals } = nodeParseArgs({
      args,
      options: all,
      allowPositionals: true,
      strict: true,
    });
    return {
      values: values as Record<string, string | boolean | string[] | undefined>,
      positionals,
    };
  } catch (e) {
    throw new UsageError(`${command}: ${optionProblem(e as Error & { code?: string }, all)}`);
  }
}

/** node:util's parse error, said in one line with what was expected. */
function optionProblem(
  e: Error & { code?: string },
  options: NonNullable<ParseArgsConfig["options"]>,
): string {
  const names = Object.keys(options).map((n) => `--${n}`);
  const flag = e.message.match(/'(-[^' ]+)/)?.[1];
  if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag) {
    const near = closest(flag, names);
    return `unknown option ${flag}${near ? ` (did you mean ${near}?)` : ""}; valid options: ${
      names.join(", ")
    }`;
  }
  if (e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && flag) {
    return e.message.includes("does not take an argument")
      ? `option ${flag} is a switch and takes no value`
      : `option ${flag} expects a value (${flag} VALUE) but found none`;
  }
  return e.message;
}

/** The name closest to `word` by edit distance, when it is close (at most 2 edits). */
function closest(word: string, names: readonly string[]): string | undefined {
  const distance = (a: string, b: string) => {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const next = [i];
      for (let j = 1; j <= b.length; j++) {
        next[j] = Math.min(
          prev[j] + 1,
          next[j - 1] + 1,
          prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
        );
      }
      prev = next;
    }
    return prev[b.length];
  };
  const scored = names.map((n) => ({ n, d: distance(word, n) })).sort((a, b) => a.d - b.d);
  return scored[0] && scored[0].d <= 2 ? scored[0].n : undefined;
}

/** A mistake on the command line: printed with a pointer to `--help`. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Splits `a,b,c` (trimming blanks). */
export function list(value: string | undefined): string[] {
  return (value ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** Checks `value` is one of `valid`. */
export function oneOf<T extends string>(flag: string, value: string, valid: readonly T[]): T {
  if (!valid.includes(value as T)) {
    throw new UsageError(`--${flag} must be one of ${valid.join(", ")} but found "${value}"`);
  }
  return value as T;
}

/** Parses a non-negative integer flag. */
export function integer(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new UsageError(`--${flag} expects a non-negative integer but found "${value}"`);
  }
  return n;
}

/**
 * A command contributed from outside `harness/` through a static record
 * (e.g. a plugin's own figure); the CLI lists and dispatches it by name.
 */
export interface ExtraCommand {
  /** One line for the command list. */
  readonly summary: string;
  /** The text of `--help`. */
  readonly help: string;
  run(args: string[]): Promise<unknown>;
}

/**
 * Small helpers shared by the CLI commands: option parsing with clear errors,
 * list splitting, enum checks.
 *
 * @module
 */
import { parseArgs as nodeParseArgs, type ParseArgsConfig } from "node:util";

/** Parses `args` with node:util's parseArgs, turning its errors into one-line usage errors. */
export function parseArgs<T extends ParseArgsConfig["options"]>(
  command: string,
  args: string[],
  options: T,
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = nodeParseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    return {
      values: values as Record<string, string | boolean | string[] | undefined>,
      positionals,
    };
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message}`);
  }
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

/**
 * Errors for malformed data files. Each one names the file, the 1-based line
 * and the offending value, so the CLI can print `error: <message>` without a
 * stack and the user still knows exactly where to look.
 *
 * Two classes because the house style splits parse failures (`SyntaxError`)
 * from values that parse but are out of range (`RangeError`); both carry the
 * same {@linkcode DataErrorInfo} fields and {@linkcode isDataError} accepts
 * either.
 *
 * @module
 */

/** Where a data error is and what was found there. */
export interface DataErrorInfo {
  /** The file as shown in the message, e.g. `beauty/sequential.txt`. */
  readonly file: string;
  /**
   * 1-based line number, or `undefined` when the problem belongs to the file
   * as a whole (e.g. a user id that never appears on any line).
   */
  readonly line: number | undefined;
  /** The offending value as text (a token, an id, a count). */
  readonly value: string;
}

function locate(file: string, line: number | undefined): string {
  return line === undefined ? file : `${file} line ${line}`;
}

/**
 * A data file that cannot be parsed: a token that is not an integer, an empty
 * line, malformed JSON, a missing field.
 *
 * @example
 * ```ts
 * import { DataError } from "./errors.ts";
 * const e = new DataError("beauty/sequential.txt", 17, "12a", 'expected an integer item id but found "12a"');
 * console.log(e.message); // beauty/sequential.txt line 17: expected an integer item id but found "12a"
 * ```
 */
export class DataError extends SyntaxError implements DataErrorInfo {
  readonly file: string;
  readonly line: number | undefined;
  readonly value: string;

  constructor(file: string, line: number | undefined, value: string, detail: string) {
    super(`${locate(file, line)}: ${detail}`);
    this.name = "DataError";
    this.file = file;
    this.line = line;
    this.value = value;
  }
}

/**
 * A data file that parses but holds a value out of range: an id beyond the
 * number of users or items, a wrong negative count, a repeated user.
 *
 * @example
 * ```ts
 * import { DataRangeError } from "./errors.ts";
 * const e = new DataRangeError("toys/negative.txt", 17, "98", "expected 99 negatives for user 17 but found 98");
 * console.log(e.message); // toys/negative.txt line 17: expected 99 negatives for user 17 but found 98
 * ```
 */
export class DataRangeError extends RangeError implements DataErrorInfo {
  readonly file: string;
  readonly line: number | undefined;
  readonly value: string;

  constructor(file: string, line: number | undefined, value: string, detail: string) {
    super(`${locate(file, line)}: ${detail}`);
    this.name = "DataRangeError";
    this.file = file;
    this.line = line;
    this.value = value;
  }
}

/**
 * True for the errors whose message is complete on its own, so a CLI can
 * print `error: <message>` and skip the stack trace.
 *
 * @example
 * ```ts
 * import { DataError, isDataError } from "./errors.ts";
 * try {
 *   throw new DataError("a.txt", 1, "x", 'expected an integer but found "x"');
 * } catch (e) {
 *   if (isDataError(e)) console.error(`error: ${e.message}`);
 * }
 * ```
 */
export function isDataError(e: unknown): e is DataError | DataRangeError {
  return e instanceof DataError || e instanceof DataRangeError;
}

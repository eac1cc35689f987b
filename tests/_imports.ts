/**
 * The import specifiers of a TypeScript file, read without a compiler: the
 * layering test (`layers_test.ts`) checks them against the project's floors.
 *
 * Comments, string contents, template literals and regular expressions are
 * blanked first (keeping every offset), so an import written inside a
 * string or a comment is not taken for one; `import`/`export ... from`,
 * side-effect imports and dynamic `import("...")` with a literal specifier
 * are then found in what is left. Examples in doc comments are read
 * separately ({@linkcode docImportsOf}), since they are what a reader copies.
 *
 * @module
 */

/** One import of a file. */
export interface ImportLine {
  /** As written, e.g. `../kernels/mod.ts` or `npm:vega@6.4.0`. */
  readonly specifier: string;
  /** 1-based line of the specifier. */
  readonly line: number;
  /** `static` (import/export ... from, side-effect), `dynamic` (`import("...")`), `doc` (an example). */
  readonly kind: "static" | "dynamic" | "doc";
}

// A `/` starts a regular expression after these (else it divides).
const REGEX_AFTER = new Set([..."(,=:[!&|?{};+-*%<>~^", ""]);
const REGEX_AFTER_WORDS = new Set(["return", "typeof", "case", "do", "else", "in", "of", "void"]);

/**
 * `source` with comments, template literals and regular expressions turned
 * into spaces and string contents into `_`, newlines and offsets kept; and
 * the original contents of the strings by the offset of their opening quote.
 */
export function blank(source: string): { code: string; strings: Map<number, string> } {
  const out = source.split("");
  const strings = new Map<number, string>();
  const wipe = (from: number, to: number, fill: string) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = fill;
  };
  let prev = ""; // the last significant character or word before `i`
  let i = 0;
  // Template literals nest through `${ ... }`: a stack of brace depths.
  const templates: number[] = [];
  let depth = 0;
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      const end = source.indexOf("\n", i);
      const stop = end < 0 ? source.length : end;
      wipe(i, stop, " ");
      i = stop;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end < 0 ? source.length : end + 2;
      wipe(i, stop, " ");
      i = stop;
    } else if (c === '"' || c === "'") {
      let k = i + 1;
      while (k < source.length && source[k] !== c && source[k] !== "\n") {
        k += source[k] === "\\" ? 2 : 1;
      }
      strings.set(i, source.slice(i + 1, k));
      wipe(i + 1, k, "_");
      i = k + 1;
      prev = "x";
    } else if (c === "`" || (c === "}" && templates.length && templates.at(-1) === depth)) {
      // The literal part of a template, up to its end or the next `${`.
      if (c === "}") templates.pop();
      let k = i + 1;
      while (
        k < source.length && source[k] !== "`" && !(source[k] === "$" && source[k + 1] === "{")
      ) {
        k += source[k] === "\\" ? 2 : 1;
      }
      wipe(i + 1, k, " ");
      if (source[k] === "$") {
        templates.push(depth);
        i = k + 2;
        prev = "{";
      } else {
        i = k + 1;
        prev = "x";
      }
    } else if (c === "/" && (REGEX_AFTER.has(prev) || REGEX_AFTER_WORDS.has(prev))) {
      let k = i + 1, inClass = false;
      while (k < source.length && source[k] !== "\n" && (inClass || source[k] !== "/")) {
        if (source[k] === "[") inClass = true;
        else if (source[k] === "]") inClass = false;
        k += source[k] === "\\" ? 2 : 1;
      }
      wipe(i + 1, k, " ");
      i = k + 1;
      prev = "x";
    } else {
      if (c === "{") depth++;
      else if (c === "}") depth--;
      if (/[\w$]/.test(c)) {
        let k = i;
        while (k < source.length && /[\w$]/.test(source[k])) k++;
        prev = source.slice(i, k);
        i = k;
        continue;
      }
      if (!/\s/.test(c)) prev = c;
      i++;
    }
  }
  return { code: out.join(""), strings };
}

const STATIC = /(?<![\w$.])(?:import|export)(?:\s+type)?[\s\w$,{}*]*?\sfrom\s*(["'])_*\1/dg;
const SIDE_EFFECT = /(?<![\w$.])import\s*(["'])_*\1/dg;
const DYNAMIC = /(?<![\w$.])import\s*\(\s*(["'])_*\1\s*\)/dg;

function lineOf(source: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset; k++) if (source.charCodeAt(k) === 10) line++;
  return line;
}

/**
 * The imports of one file's code, in order of appearance.
 *
 * @example
 * ```ts
 * import { importsOf } from "./_imports.ts";
 * const src = 'import { a } from "./a.ts";\n// import "./b.ts"\nconst s = "import \'./c.ts\'";\n';
 * console.log(importsOf(src).map((i) => i.specifier)); // ["./a.ts"]
 * ```
 */
export function importsOf(source: string): ImportLine[] {
  const { code, strings } = blank(source);
  const found: ImportLine[] = [];
  for (
    const [re, kind] of [[STATIC, "static"], [SIDE_EFFECT, "static"], [DYNAMIC, "dynamic"]] as const
  ) {
    for (const m of code.matchAll(re)) {
      const [open] = m.indices![1]!;
      found.push({ specifier: strings.get(open)!, line: lineOf(source, open), kind });
    }
  }
  return found.sort((a, b) => a.line - b.line);
}

/**
 * Imports written in the examples of doc comments (lines such as
 * ` * import { x } from "./y.ts";`), which `importsOf` leaves out.
 */
export function docImportsOf(source: string): ImportLine[] {
  const found: ImportLine[] = [];
  source.split("\n").forEach((text, k) => {
    const m = /^\s*\*\s*(?:import|export)\b.*?\bfrom\s*["']([^"']+)["']/.exec(text);
    if (m) found.push({ specifier: m[1], line: k + 1, kind: "doc" });
  });
  return found;
}

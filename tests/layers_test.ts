/**
 * The floors of the project, from its imports. From the bottom:
 *
 * - `kernels/`, the engine, imports nothing of the project outside
 *   `kernels/` (npm and node packages are fine), in its code and in the
 *   examples of its doc comments;
 * - `harness/` imports neither plugins (`baselines/`, `models/`) nor the
 *   face (`cli.ts`, `plugins.ts`, `mod.ts`);
 * - `baselines/` and `models/` do not import the face;
 * - production code outside `kernels/` reaches the engine through
 *   `kernels/mod.ts` only. Tests (`*_test.ts`, `tests/`) and benchmarks
 *   (`*_bench.ts`, `bench_*.ts`) are exempt from this one rule: they may
 *   reach into the engine's files to test or time them.
 *
 * Imports are read by `_imports.ts` (comments and strings left out); every
 * relative one must name a file of the project, so a misread specifier
 * fails here instead of passing unseen.
 *
 * @module
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { docImportsOf, type ImportLine, importsOf } from "./_imports.ts";

const ROOT = normalize(join(dirname(new URL(import.meta.url).pathname), ".."));
const SKIP = new Set([".git", ".cache", "node_modules", "out", "fixtures"]);
const FACE = new Set(["cli.ts", "plugins.ts", "mod.ts"]);

/** Project-relative paths of every .ts file. */
function projectFiles(dir = ROOT): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...projectFiles(path));
    else if (entry.name.endsWith(".ts")) out.push(relative(ROOT, path));
  }
  return out.sort();
}

const isTest = (file: string) => file.startsWith("tests/") || file.endsWith("_test.ts");
const isBench = (file: string) => /(^|\/)bench_[^/]*\.ts$|_bench\.ts$/.test(file);
const floor = (file: string) => file.includes("/") ? file.slice(0, file.indexOf("/")) : file;

/** The rule an import of `file` breaks, if any; `target` is project-relative. */
function brokenRule(file: string, target: string): string | undefined {
  const from = floor(file), to = floor(target);
  if (from === "kernels" && to !== "kernels") {
    return "kernels/ imports nothing outside kernels/";
  }
  if (from === "harness" && (to === "baselines" || to === "models" || FACE.has(target))) {
    return "harness/ imports no plugin and not the face (cli.ts, plugins.ts, mod.ts)";
  }
  if ((from === "baselines" || from === "models") && FACE.has(target)) {
    return `${from}/ does not import the face (cli.ts, plugins.ts, mod.ts)`;
  }
  if (
    from !== "kernels" && to === "kernels" && target !== "kernels/mod.ts" &&
    !isTest(file) && !isBench(file)
  ) {
    return "production code outside kernels/ imports the engine through kernels/mod.ts";
  }
  return undefined;
}

/** What `checkLayers` found. */
interface LayerReport {
  readonly files: number;
  readonly imports: number;
  /** Import lines by "from floor -> to floor", relative specifiers only. */
  readonly edges: Record<string, number>;
  /** `file:line imports "specifier": rule`, one per broken rule. */
  readonly violations: string[];
}

/** Checks the imports of `sources` (project-relative path -> text) against the floors. */
function checkLayers(
  sources: ReadonlyMap<string, string>,
  others: ReadonlySet<string>,
): LayerReport {
  const edges: Record<string, number> = {};
  const violations: string[] = [];
  let imports = 0;
  for (const [file, source] of sources) {
    const lines: ImportLine[] = [
      ...importsOf(source),
      ...(floor(file) === "kernels" ? docImportsOf(source) : []),
    ];
    for (const { specifier, line, kind } of lines) {
      imports++;
      const where = `${file}:${line} imports "${specifier}"`;
      if (!specifier.startsWith(".")) {
        const external = /^(npm|node):/.test(specifier) || !/^[a-z]+:/.test(specifier);
        if (floor(file) === "kernels" && !external) {
          violations.push(`${where}: kernels/ imports nothing outside kernels/`);
        }
        continue;
      }
      const target = normalize(join(dirname(file), specifier));
      if (kind !== "doc" && !sources.has(target) && !others.has(target)) {
        violations.push(`${where}: no such file (${target})`);
        continue;
      }
      const key = `${floor(file)} -> ${floor(target)}`;
      edges[key] = (edges[key] ?? 0) + 1;
      const rule = brokenRule(file, target);
      if (rule) violations.push(`${where}: ${rule}`);
    }
  }
  return { files: sources.size, imports, edges, violations };
}

Deno.test("every import respects the floors: kernels < harness < models < baselines < face", () => {
  const sources = new Map(projectFiles().map((f) => [f, Deno.readTextFileSync(join(ROOT, f))]));
  const report = checkLayers(sources, new Set(["deno.json"]));
  assert.deepEqual(report.violations, []);
  // Enough was read that an empty list means something.
  assert.ok(report.files > 150, `only ${report.files} files found under ${ROOT}`);
  assert.ok(report.imports > 800, `only ${report.imports} imports read`);
  for (const f of ["kernels/mod.ts", "harness/runner.ts", "cli.ts", "plugins.ts", "mod.ts"]) {
    assert.ok(sources.has(f), `${f} not found`);
  }
  assert.ok(report.edges["kernels -> kernels"] > 100, JSON.stringify(report.edges));
  assert.ok(report.edges["harness -> kernels"] > 10, JSON.stringify(report.edges));
  assert.ok(report.edges["baselines -> models"] > 5, JSON.stringify(report.edges));
  assert.equal(report.edges["kernels -> harness"], undefined);
});

Deno.test("checkLayers() names the file, the import and the rule it breaks", () => {
  const sources = new Map([
    ["kernels/a.ts", 'import { b } from "./b.ts";\nimport { r } from "../harness/r.ts";\n'],
    ["kernels/b.ts", '/**\n * import { x } from "../models/x.ts";\n */\nexport const b = 1;\n'],
    [
      "harness/r.ts",
      'import { p } from "../plugins.ts";\nexport const r = await import("../models/x.ts");\n',
    ],
    ["models/x.ts", 'import type { b } from "../kernels/b.ts";\nimport "../mod.ts";\n'],
    ["models/x_test.ts", 'import { b } from "../kernels/b.ts";\n// import "../cli.ts";\n'],
    [
      "baselines/y.ts",
      'import { z } from "./z.ts";\nimport { e } from "https://example.com/e.ts";\n',
    ],
    ["plugins.ts", 'import { x } from "./models/x.ts";\n'],
    ["mod.ts", 'export { r } from "./harness/r.ts";\n'],
  ]);
  const report = checkLayers(sources, new Set());
  assert.deepEqual(report.violations, [
    'kernels/a.ts:2 imports "../harness/r.ts": kernels/ imports nothing outside kernels/',
    'kernels/b.ts:2 imports "../models/x.ts": kernels/ imports nothing outside kernels/',
    'harness/r.ts:1 imports "../plugins.ts": harness/ imports no plugin and not the face (cli.ts, plugins.ts, mod.ts)',
    'harness/r.ts:2 imports "../models/x.ts": harness/ imports no plugin and not the face (cli.ts, plugins.ts, mod.ts)',
    'models/x.ts:1 imports "../kernels/b.ts": production code outside kernels/ imports the engine through kernels/mod.ts',
    'models/x.ts:2 imports "../mod.ts": models/ does not import the face (cli.ts, plugins.ts, mod.ts)',
    'baselines/y.ts:1 imports "./z.ts": no such file (baselines/z.ts)',
  ]);
  assert.equal(report.files, 8);
  assert.equal(report.imports, 12);
  assert.deepEqual(report.edges["models -> kernels"], 2);
});

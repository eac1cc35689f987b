/**
 * Figures: a Vega-Lite spec is compiled by `vega-lite`, laid out by `vega`
 * (headless, `View.toSVG()`), and rasterised to PNG by `resvg` (WebAssembly).
 * Every figure is written three ways: `<base>.svg`, `<base>.png` and the
 * Vega-Lite spec with its data, `<base>.vl.json`.
 *
 * PNG text needs a TrueType font: `$ELMBENCH_FONT`, else DejaVu Sans or
 * Liberation Sans where the system has them; without one the PNG has no text
 * (the SVG always has it) and a warning says so.
 *
 * @module
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { initWasm, Resvg } from "@resvg/resvg-wasm";

/** Where a figure was written. */
export interface FigurePaths {
  readonly svg: string;
  readonly png: string;
  readonly spec: string;
}

const FONTS = [
  "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
  "/usr/share/fonts/TTF/DejaVuSans.ttf",
  "/usr/share/fonts/dejavu/DejaVuSans.ttf",
  "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
  "/System/Library/Fonts/Supplemental/Arial.ttf",
];

let wasmReady: Promise<void> | undefined;
let font: Promise<Uint8Array | undefined> | undefined;

async function findFont(): Promise<Uint8Array | undefined> {
  const env = Deno.env.get("ELMBENCH_FONT");
  for (const path of env ? [env, ...FONTS] : FONTS) {
    try {
      return await Deno.readFile(path);
    } catch {
      // try the next one
    }
  }
  console.error("warning: no TrueType font found (set ELMBENCH_FONT); PNG figures have no text");
  return undefined;
}

/** Renders a Vega-Lite spec to SVG text (headless). */
export async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterises SVG text to PNG bytes. */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  wasmReady ??= (async () => {
    const url = new URL(import.meta.resolve("@resvg/resvg-wasm/index_bg.wasm"));
    await initWasm(await Deno.readFile(url));
  })();
  await wasmReady;
  const buffer = await (font ??= findFont());
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: buffer
      ? { fontBuffers: [buffer], defaultFontFamily: "DejaVu Sans", loadSystemFonts: false }
      : { loadSystemFonts: false },
  });
  try {
    return resvg.render().asPng();
  } finally {
    resvg.free();
  }
}

/**
 * Writes `<base>.svg`, `<base>.png` and `<base>.vl.json` of a Vega-Lite spec.
 *
 * @example
 * ```ts ignore
 * import { writeFigure } from "./figures.ts";
 * const paths = await writeFigure({
 *   data: { values: [{ x: 1, y: 2 }, { x: 2, y: 3 }] },
 *   mark: "line",
 *   encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
 * }, "out/figure");
 * console.log(paths.png);
 * ```
 */
export async function writeFigure(spec: TopLevelSpec, base: string): Promise<FigurePaths> {
  const dir = base.includes("/") ? base.slice(0, base.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  const svg = await toSvg(spec);
  const paths = { svg: `${base}.svg`, png: `${base}.png`, spec: `${base}.vl.json` };
  await Deno.writeTextFile(paths.svg, svg);
  await Deno.writeFile(paths.png, await svgToPng(svg));
  await Deno.writeTextFile(paths.spec, JSON.stringify(spec, null, 2) + "\n");
  return paths;
}

/**
 * Counts the marks Vega drew in an SVG: `symbol` = points, `line` = line
 * series (one path each). Legend symbols are not counted.
 */
export function countMarks(svg: string, mark: "symbol" | "line"): number {
  let count = 0;
  const group = new RegExp(`<g class="mark-${mark} role-mark[^"]*"[^>]*>(.*?)</g>`, "gs");
  for (const m of svg.matchAll(group)) count += (m[1].match(/<path/g) ?? []).length;
  return count;
}

/** One point of a line chart. */
export interface SeriesPoint {
  readonly x: number | string;
  readonly y: number;
  readonly series: string;
}

/** Options of {@linkcode lineChart}. */
export interface LineChartOptions {
  readonly title: string;
  readonly xTitle: string;
  /** @default "value" */
  readonly yTitle?: string;
}

/** A line chart with points, one coloured series per `series` value (Vega-Lite). */
export function lineChart(points: readonly SeriesPoint[], options: LineChartOptions): TopLevelSpec {
  const numeric = points.every((p) => typeof p.x === "number");
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: options.title,
    width: 360,
    height: 240,
    data: { values: points.map((p) => ({ ...p })) },
    mark: { type: "line", point: { size: 50 } },
    encoding: {
      x: {
        field: "x",
        type: numeric ? "quantitative" : "ordinal",
        title: options.xTitle,
        ...(numeric ? { scale: { zero: false } } : {}),
      },
      y: { field: "y", type: "quantitative", title: options.yTitle ?? "value" },
      color: { field: "series", type: "nominal", title: null },
    },
  } as TopLevelSpec;
}

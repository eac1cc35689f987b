/**
 * Headless Chromium for the report's browser test, through playwright-core
 * with the system's Chromium (Debian's `chromium`; playwright's own browser
 * download is not reachable here). The flags keep Chromium off the network:
 * without them its background connections are refused on closed machines.
 *
 * Also a script: `deno run -A tests/_chromium.ts <dir>/index.html out.png`
 * saves a screenshot (the README's pictures of the report); `--full` for
 * the whole page, `--at SELECTOR` to scroll there first, `--click SELECTOR`
 * to click something first (a column head, a cell).
 *
 * @module
 */
import fs from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import type { ConsoleMessage, Page, Request } from "playwright-core";

/** Where Chromium is looked for; `$CHROMIUM` first. */
const CANDIDATES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
];

/** The Chromium executable, or null (the browser test then says why it is ignored). */
export function findChromium(): string | null {
  const env = Deno.env.get("CHROMIUM");
  for (const path of env ? [env, ...CANDIDATES] : CANDIDATES) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here
    }
  }
  return null;
}

/** Flags that keep a headless Chromium quiet on a machine without a network. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Loads playwright-core. On loading it asks whether it runs under WSL with
 * `fs.existsSync("/proc/sys/fs/binfmt_misc/WSLInterop")`, which Deno lets
 * only `--allow-all` read and answers with NotCapable rather than false, so
 * under `deno task test`'s permissions the import would fail. For the
 * import, such a refusal reads as "no such file".
 */
async function importPlaywright(): Promise<typeof import("playwright-core")> {
  const existsSync = fs.existsSync;
  fs.existsSync = (path: fs.PathLike) => {
    try {
      return existsSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable) return false;
      throw e;
    }
  };
  try {
    return await import("playwright-core");
  } finally {
    fs.existsSync = existsSync;
  }
}

/** Something the page said that a clean page does not. */
export interface PageProblem {
  readonly kind: "console" | "pageerror" | "request";
  readonly text: string;
}

/** An open page and what went wrong while it loaded. */
export interface OpenedPage {
  readonly page: Page;
  readonly problems: PageProblem[];
  /** URLs the page asked for (every one should be file:). */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * Opens `file` (a path) in a fresh headless Chromium with its own profile,
 * collecting console errors, uncaught exceptions and failed requests.
 */
export async function openFile(
  file: string,
  options: { width?: number; height?: number } = {},
): Promise<OpenedPage> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error("No Chromium found (set $CHROMIUM)");
  const { chromium } = await importPlaywright();
  const profile = await Deno.makeTempDir({ prefix: "elmbench-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
  });
  const page = context.pages()[0] ?? await context.newPage();
  const problems: PageProblem[] = [];
  const requests: string[] = [];
  page.on("console", (m: ConsoleMessage) => {
    if (m.type() === "error") problems.push({ kind: "console", text: m.text() });
  });
  page.on("pageerror", (e: Error) => problems.push({ kind: "pageerror", text: e.message }));
  page.on("request", (r: Request) => requests.push(r.url()));
  page.on(
    "requestfailed",
    (r: Request) =>
      problems.push({ kind: "request", text: `${r.url()}: ${r.failure()?.errorText}` }),
  );
  await page.goto(pathToFileURL(resolve(file)).href, { waitUntil: "load" });
  return {
    page,
    problems,
    requests,
    close: async () => {
      await context.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}

/** Waits until the page's script says every chart is drawn (or failed). */
export async function waitForCharts(opened: OpenedPage, timeoutMs = 60_000): Promise<string> {
  await opened.page.waitForFunction(
    () => {
      const state =
        (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } })
          .document.body.dataset.charts;
      return state === "done" || state === "failed";
    },
    undefined,
    { timeout: timeoutMs },
  );
  return await opened.page.evaluate(() =>
    (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document
      .body.dataset.charts
  );
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      width: { type: "string", default: "1280" },
      height: { type: "string", default: "900" },
      full: { type: "boolean" },
      at: { type: "string" },
      click: { type: "string", multiple: true },
    },
  });
  const [file, png] = positionals;
  if (!file || !png) {
    console.error(
      "usage: deno run -A tests/_chromium.ts <index.html> <out.png> [--width N] [--height N]\n" +
        "  [--full] [--at SELECTOR (scrolled to the top)] [--click SELECTOR]...",
    );
    Deno.exit(2);
  }
  const opened = await openFile(file, {
    width: Number(values.width),
    height: Number(values.height),
  });
  try {
    console.error(`charts: ${await waitForCharts(opened)}`);
    for (const selector of values.click ?? []) await opened.page.click(selector);
    if (values.at) {
      await opened.page.$eval(values.at, (el) => el.scrollIntoView({ block: "start" }));
    }
    await opened.page.screenshot({ path: png, fullPage: Boolean(values.full) });
    for (const p of opened.problems) console.error(`${p.kind}: ${p.text}`);
  } finally {
    await opened.close();
  }
  console.log(png);
}

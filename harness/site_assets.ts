/**
 * The report's assets: the browser builds of Vega, Vega-Lite and
 * vega-embed copied from `node_modules` (with their licences), and the
 * page's own script and stylesheet, so that the page opens from disk with
 * no server and no network.
 *
 * @module
 */
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The browser builds, in load order (vega-embed needs the two globals before it). */
const VENDOR = [
  { pkg: "vega", file: "build/vega.min.js" },
  { pkg: "vega-lite", file: "build/vega-lite.min.js" },
  { pkg: "vega-embed", file: "build/vega-embed.min.js" },
] as const;

/** The page's own files, beside this module. */
const OWN = ["site_app.js", "site_style.css"] as const;

/** The folder of an installed npm package, found through its resolved entry point. */
export function packageRoot(pkg: string): string {
  let entry: string;
  try {
    entry = fileURLToPath(import.meta.resolve(pkg));
  } catch (e) {
    throw new Error(
      `Cannot find the npm package "${pkg}" (${(e as Error).message}); run \`deno install\``,
    );
  }
  const marker = `/node_modules/${pkg}/`;
  const at = entry.lastIndexOf(marker);
  if (at < 0) {
    throw new Error(`Expected "${pkg}" to resolve inside node_modules but found ${entry}`);
  }
  return entry.slice(0, at + marker.length - 1);
}

/** Names of the scripts under `assets/`, in load order, and the stylesheet. */
export const SCRIPTS: readonly string[] = [...VENDOR.map((v) => basename(v.file)), OWN[0]];
export const STYLESHEET = OWN[1];

/** Copies every asset into `<dir>/assets`; returns the paths written. */
export async function writeAssets(dir: string): Promise<string[]> {
  const assets = join(dir, "assets");
  await Deno.mkdir(assets, { recursive: true });
  const written: string[] = [];
  const copy = async (from: string, name: string) => {
    const to = join(assets, name);
    await Deno.copyFile(from, to);
    written.push(to);
  };
  for (const { pkg, file } of VENDOR) {
    const root = packageRoot(pkg);
    try {
      await copy(join(root, file), basename(file));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      throw new Error(`Expected the browser build ${join(root, file)} of ${pkg} but found none`);
    }
    // A licence file is not required by the page, but its terms ask for it.
    for (const name of ["LICENSE", "LICENSE.md", "LICENSE.txt"]) {
      try {
        await copy(join(root, name), `${pkg}.LICENSE.txt`);
        break;
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
  }
  for (const name of OWN) await copy(fileURLToPath(new URL(`./${name}`, import.meta.url)), name);
  return written;
}

/**
 * What goes into a bundle (see `cmd_bundle.ts`): the project's files, and
 * which of node_modules' native binaries belong to this platform; also where
 * onnxruntime-node keeps its own, the folder the CUDA provider joins.
 *
 * @module
 */

/** Never bundled from a walk of the project: installed, cached or produced. */
const WALK_EXCLUDE = new Set(["node_modules", ".cache", "out", ".git"]);

/** onnxruntime-node's and node-gyp-build's names for this OS and CPU. */
export function platform(): { os: string; cpu: string } {
  const os = Deno.build.os === "windows" ? "win32" : Deno.build.os;
  const cpu = ({ x86_64: "x64", aarch64: "arm64" } as Record<string, string>)[Deno.build.arch] ??
    Deno.build.arch;
  return { os, cpu };
}

/**
 * True for a `node_modules`-relative path that holds another platform's
 * native binaries: onnxruntime-node's `bin/napi-v6/<os>/<cpu>` and
 * node-gyp-build's `prebuilds/<os>-<cpu>` folders.
 */
export function isOtherPlatform(path: string, os = platform().os, cpu = platform().cpu): boolean {
  const napi = /(?:^|\/)onnxruntime-node\/bin\/napi-v\d+\/([^/]+)(?:\/([^/]+))?/.exec(path);
  if (napi) return napi[1] !== os || (napi[2] !== undefined && napi[2] !== cpu);
  const prebuild = /(?:^|\/)prebuilds\/([^/]+)/.exec(path);
  return prebuild !== null && !prebuild[1].startsWith(`${os}-${cpu}`);
}

/** The project's files: git's list when git answers, else a walk minus {@linkcode WALK_EXCLUDE}. */
export async function projectFiles(root: string): Promise<string[]> {
  try {
    const out = await new Deno.Command("git", {
      args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
      cwd: root,
      stdout: "piped",
      stderr: "null",
    }).output();
    if (out.success) {
      const names = new TextDecoder().decode(out.stdout).split("\0").filter(Boolean);
      // A tracked file deleted in the working tree is not there to bundle.
      const present = await Promise.all(
        names.map((n) => Deno.lstat(`${root}/${n}`).then(() => true, () => false)),
      );
      return [...new Set(names.filter((_, i) => present[i]))].sort();
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const files: string[] = [];
  const walk = async (rel: string) => {
    for await (const entry of Deno.readDir(rel ? `${root}/${rel}` : root)) {
      if (!rel && WALK_EXCLUDE.has(entry.name)) continue;
      if (entry.name === ".git") continue;
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory) await walk(path);
      else files.push(path);
    }
  };
  await walk("");
  return files.sort();
}

/** The folder of onnxruntime-node's native binaries for this platform, `node_modules`-relative. */
export async function ortBinFolder(root: string): Promise<string> {
  const { os, cpu } = platform();
  for await (const entry of Deno.readDir(`${root}/node_modules/.deno`)) {
    if (!entry.name.startsWith("onnxruntime-node@")) continue;
    const folder = `.deno/${entry.name}/node_modules/onnxruntime-node/bin/napi-v6/${os}/${cpu}`;
    const found = await Deno.stat(`${root}/node_modules/${folder}`).then(() => true, () => false);
    if (found) return folder;
  }
  throw new Error(
    `no onnxruntime-node binaries for ${os}/${cpu} under ${root}/node_modules/.deno ` +
      "(run deno install first)",
  );
}

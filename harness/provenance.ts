/**
 * What every result records about where it was computed: versions of the
 * runtime and the compute engine, the project's git revision, the machine.
 *
 * @module
 */
import denoConfig from "../deno.json" with { type: "json" };

/** Versions recorded with each result. */
export interface Versions {
  readonly elmbench: string;
  readonly deno: string;
  readonly v8: string;
  readonly typescript: string;
  readonly onnxruntime_node: string;
  readonly git: string;
}

/** The machine recorded with each result. */
export interface Machine {
  readonly os: string;
  readonly arch: string;
  readonly cpus: number;
  readonly cpu_model: string;
  readonly memory_gib: number;
  readonly hostname: string;
  /** The execution provider the cell ran on (absent in records before it was kept). */
  readonly device?: string;
  /** ONNX Runtime intra-op threads of the cell. */
  readonly threads?: number;
}

/** The package version of elmbench itself. */
export const ELMBENCH_VERSION = "0.1.0";

let cachedGit: string | undefined;

/** The project's git revision (with `-dirty` when the tree has changes), or `unknown`. */
export async function gitRevision(): Promise<string> {
  if (cachedGit !== undefined) return cachedGit;
  const here = new URL("..", import.meta.url).pathname;
  const run = async (args: string[]) => {
    const out = await new Deno.Command("git", { args, cwd: here, stdout: "piped", stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  };
  try {
    const rev = await run(["rev-parse", "--short=12", "HEAD"]);
    const dirty = await run(["status", "--porcelain", "--untracked-files=no"]);
    cachedGit = rev === null ? "unknown" : dirty ? `${rev}-dirty` : rev;
  } catch {
    cachedGit = "unknown";
  }
  return cachedGit;
}

/** Versions of everything that can move a number. */
export async function versions(): Promise<Versions> {
  const ort = (denoConfig.imports as Record<string, string>)["onnxruntime-node"] ?? "";
  return {
    elmbench: ELMBENCH_VERSION,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    onnxruntime_node: ort.replace(/^npm:onnxruntime-node@/, ""),
    git: await gitRevision(),
  };
}

/** A description of this machine. */
export async function machine(): Promise<Machine> {
  // node:os reads the model under --allow-sys; Deno 2 opens /proc/cpuinfo
  // only with --allow-all, which elmbench's tasks do not grant.
  const { cpus, totalmem } = await import("node:os");
  const cpuModel = cpus()[0]?.model?.trim() || "unknown";
  return {
    os: Deno.build.os,
    arch: Deno.build.arch,
    cpus: navigator.hardwareConcurrency,
    cpu_model: cpuModel,
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    hostname: (() => {
      try {
        return Deno.hostname();
      } catch {
        return "unknown";
      }
    })(),
  };
}

/**
 * Checks that elmbench's T5, loaded from a Hugging Face checkpoint the way
 * `--set hfModel=DIR` loads it, computes what Hugging Face transformers
 * computes: the encoder output, the decoder output (the head's input), the
 * logits and the loss of one teacher-forced pass, against the reference that
 * `results/reference/hf_t5_parity.py` wrote into DIR. It also checks that
 * the graph reads every tensor of the checkpoint (tied copies of
 * `shared.weight` aside), that the decoder inputs it derives from the labels
 * are HF's, and that the tokenizer gives HF's ids.
 *
 * ```
 * deno run -A models/hf_parity.ts --dir DIR [--ref FILE] [--device cpu|cuda|webgpu]
 *                                 [--threads N] [--tol 1e-4] [--json]
 * ```
 *
 * Per output it reports max|a-b| / max|b| and ‖a-b‖/‖b‖; either above
 * `--tol`, or a failed check, exits 1. Progress goes to stderr.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { compileInference, type Device, Graph, ParamStore } from "../kernels/mod.ts";
import { type HfCheckpoint, loadHfParams, readHfCheckpoint } from "./checkpoint.ts";
import {
  compareArrays,
  type ErrorStats,
  type FloatOutput,
  OUTPUT_NAMES,
  type OutputName,
  type ParityCase,
  readReference,
  shiftRight,
} from "./hf_parity_reference.ts";
import { INPUTS, t5Forward } from "./t5.ts";

const USAGE = "Usage: hf_parity.ts --dir DIR [--ref FILE] [--device cpu|cuda|webgpu] " +
  "[--threads N] [--tol 1e-4] [--json]";

/** Parsed command line of the check. */
export interface ParityArgs {
  /** Checkpoint directory (`config.json`, `tokenizer.json`, `model.safetensors`). */
  readonly dir: string;
  /** @default `<dir>/reference.json` */
  readonly ref: string;
  readonly device: Device;
  readonly threads: number;
  /** Largest relative error that passes. @default 1e-4 */
  readonly tol: number;
  readonly json: boolean;
}

/**
 * Parses the check's flags; a bad value is an error naming it and the usage.
 *
 * @example
 * ```ts
 * import { parseParityArgs } from "./hf_parity.ts";
 * console.log(parseParityArgs(["--dir", "/tmp/t5"]).ref); // "/tmp/t5/reference.json"
 * ```
 */
export function parseParityArgs(args: string[]): ParityArgs {
  const { values } = parseArgs({
    args,
    options: {
      dir: { type: "string" },
      ref: { type: "string" },
      device: { type: "string", default: "cpu" },
      threads: { type: "string", default: "4" },
      tol: { type: "string", default: "1e-4" },
      json: { type: "boolean", default: false },
    },
  });
  if (!values.dir) throw new TypeError(`Expected --dir but found none. ${USAGE}`);
  const device = values.device;
  if (device !== "cpu" && device !== "cuda" && device !== "webgpu") {
    throw new TypeError(`Expected --device cpu, cuda or webgpu but found "${device}". ${USAGE}`);
  }
  const threads = Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(
      `Expected --threads to be a positive integer but found "${values.threads}". ${USAGE}`,
    );
  }
  const tol = Number(values.tol);
  if (!(tol > 0)) {
    throw new RangeError(
      `Expected --tol to be a positive number but found "${values.tol}". ${USAGE}`,
    );
  }
  const dir = values.dir.replace(/\/+$/, "") || "/";
  return {
    dir,
    ref: values.ref ?? `${dir}/reference.json`,
    device,
    threads,
    tol,
    json: values.json,
  };
}

/** The inputs of a teacher-forced pass. */
export type ParityInputs = Pick<
  ParityCase,
  "inputIds" | "labels" | "decoderInputIds" | "batch" | "encLen" | "decLen"
>;

/** What elmbench computes for a checkpoint and inputs. */
export interface OurOutputs {
  readonly outputs: Record<OutputName, FloatOutput>;
  readonly loss: number;
  /** Checkpoint params the graph does not read, sorted. */
  readonly unused: string[];
}

/**
 * Builds plain T5 (no ELMRec extras) for the checkpoint's config, checks
 * that every param it needs is in the checkpoint with HF's shape, and runs
 * it once (eval mode: no dropout).
 */
export async function t5Outputs(
  hf: HfCheckpoint,
  inputs: ParityInputs,
  options: { device?: Device; threads?: number } = {},
): Promise<OurOutputs> {
  const { batch, encLen, decLen } = inputs;
  const g = new Graph();
  const f = t5Forward(g, hf.cfg, { batch, encLen, decLen });
  const problems: string[] = [];
  for (const p of g.params()) {
    const t = hf.params.get(p.name);
    if (!t) problems.push(`"${p.name}" is missing`);
    else if (t.shape.join() !== p.shape.join()) {
      problems.push(`"${p.name}" has shape [${t.shape}] where the graph needs [${p.shape}]`);
    }
  }
  if (problems.length) {
    throw new TypeError(`The checkpoint does not fit elmbench's T5: ${problems.join("; ")}`);
  }
  const read = new Set(g.params().map((p) => p.name));
  const store = new ParamStore();
  loadHfParams(hf.params, store);
  const infer = await compileInference(
    { encoder_hidden: f.encoded, decoder_hidden: f.decoded, logits: f.logits, loss: f.loss },
    store,
    { device: options.device ?? "cpu", intraOpThreads: options.threads ?? 4 },
  );
  const out = await infer.run({
    [INPUTS.ids]: inputs.inputIds,
    [INPUTS.decoderIds]: inputs.decoderInputIds,
    [INPUTS.labels]: inputs.labels,
  });
  const outputs = {} as Record<OutputName, FloatOutput>;
  for (const name of OUTPUT_NAMES) {
    outputs[name] = { data: out[name].data as Float32Array, shape: out[name].shape };
  }
  return {
    outputs,
    loss: Number(out.loss.data[0]),
    unused: [...hf.params.keys()].filter((n) => !read.has(n)).sort(),
  };
}

/** One compared output. */
export interface ParityRow extends ErrorStats {
  readonly name: OutputName | "loss";
  readonly shape: readonly number[];
  /** HF float32 against HF float64, if the reference measured it: the precision floor. */
  readonly hfFp32VsFp64?: { rel_max: number; rel_l2: number };
  readonly ok: boolean;
}

/** Everything the check found. */
export interface ParityReport {
  readonly dir: string;
  readonly reference: string;
  /** Where the reference ran and with what (from reference.json). */
  readonly hf: Readonly<Record<string, unknown>>;
  readonly device: Device;
  readonly tolerance: number;
  readonly rows: ParityRow[];
  /** Labels that are not -100: both losses are the mean over these. */
  readonly lossTokens: number;
  /** Positions where HF's decoder ids differ from the labels shifted right. */
  readonly decoderIdMismatches: number;
  readonly tokenizer: { readonly checked: number; readonly mismatches: string[] };
  readonly coverage: {
    readonly used: number;
    readonly skipped: string[];
    readonly unused: string[];
  };
  readonly seconds: number;
  readonly ok: boolean;
}

/** Runs the whole check. */
export async function runParity(args: ParityArgs, log = (_: string) => {}): Promise<ParityReport> {
  const start = performance.now();
  log(`reading ${args.dir} and ${args.ref}`);
  // The check reports unused tensors itself, so the loader must not refuse them.
  const hf = await readHfCheckpoint(args.dir, { coverage: "report" });
  const ref = await readReference(args.ref);
  const decoderInputIds = shiftRight(ref.labels, ref.batch);
  const decoderIdMismatches = decoderInputIds.filter((v, i) => v !== ref.decoderInputIds[i]).length;
  log(
    `running elmbench's T5 on ${args.device} (batch ${ref.batch}, ${ref.encLen} + ${ref.decLen} tokens)`,
  );
  const ours = await t5Outputs(hf, { ...ref, decoderInputIds }, args);
  const floor = ((ref.meta.checks ?? {}) as Record<string, unknown>).hf_fp32_vs_hf_fp64 as
    | Record<string, { rel_max: number; rel_l2: number }>
    | undefined;
  const row = (
    name: OutputName | "loss",
    a: ArrayLike<number>,
    b: ArrayLike<number>,
    shape: readonly number[],
  ) => {
    const stats = compareArrays(a, b);
    const ok = stats.relMax <= args.tol && stats.relL2 <= args.tol;
    return { name, shape, ...stats, hfFp32VsFp64: floor?.[name], ok };
  };
  const rows: ParityRow[] = OUTPUT_NAMES.map((name) => {
    const [a, b] = [ours.outputs[name], ref.outputs[name]];
    if (a.shape.join() !== b.shape.join()) {
      throw new TypeError(
        `Expected ${name} of shape [${b.shape}] as in ${args.ref} but computed [${a.shape}]`,
      );
    }
    return row(name, a.data, b.data, b.shape);
  });
  rows.push(row("loss", [ours.loss], [ref.loss], []));
  const mismatches: string[] = [];
  for (const { text, ids } of ref.tokenizerChecks) {
    const mine = text.split(/\s+/).filter(Boolean).flatMap((w) => hf.tokenizer.encodeWord(w));
    if (mine.join() !== ids.join()) mismatches.push(`"${text}": HF [${ids}], ours [${mine}]`);
  }
  const pick = (k: string) => ref.meta[k];
  const versions = (pick("versions") ?? {}) as Record<string, unknown>;
  const report: ParityReport = {
    dir: args.dir,
    reference: args.ref,
    hf: {
      device: pick("device"),
      device_name: pick("device_name"),
      torch: versions.torch,
      transformers: versions.transformers,
      tf32: pick("tf32"),
    },
    device: args.device,
    tolerance: args.tol,
    rows,
    lossTokens: ref.labels.filter((v) => v !== -100n).length,
    decoderIdMismatches,
    tokenizer: { checked: ref.tokenizerChecks.length, mismatches },
    coverage: {
      used: hf.params.size - ours.unused.length,
      skipped: [...hf.skipped].sort(),
      unused: ours.unused,
    },
    seconds: Math.round((performance.now() - start) / 100) / 10,
    ok: rows.every((r) => r.ok) && decoderIdMismatches === 0 && mismatches.length === 0 &&
      ours.unused.length === 0,
  };
  return report;
}

const e = (x: number | undefined) => (x === undefined ? "-" : x.toExponential(2));

/** The report as a table and a few lines of checks. */
export function formatParity(r: ParityReport): string {
  const hf = r.hf;
  const lines = [
    `T5 parity: elmbench on ${r.device} vs Hugging Face transformers ${hf.transformers ?? "?"} ` +
    `(torch ${hf.torch ?? "?"}, ${hf.device ?? "?"}${hf.device_name ? ` ${hf.device_name}` : ""})`,
    `checkpoint ${r.dir}, reference ${r.reference}, tolerance ${r.tolerance} relative`,
    "",
    ["output", "shape", "max|a-b|", "max|b|", "max rel", "l2 rel", "HF fp32/64 l2", "ok"]
      .map((h, i) => h.padEnd([16, 16, 10, 10, 10, 10, 14, 3][i])).join(" "),
  ];
  for (const row of r.rows) {
    lines.push(
      [
        row.name,
        `[${row.shape}]`,
        e(row.maxAbs),
        e(row.maxRef),
        e(row.relMax),
        e(row.relL2),
        e(row.hfFp32VsFp64?.rel_l2),
        row.ok ? "yes" : "NO",
      ].map((c, i) => c.padEnd([16, 16, 10, 10, 10, 10, 14, 3][i])).join(" "),
    );
  }
  lines.push(
    "",
    `loss: mean cross entropy over the ${r.lossTokens} labels that are not -100, in both ` +
      `(HF: CrossEntropyLoss(ignore_index=-100); elmbench: crossEntropy({ ignoreIndex: -100 }))`,
    r.decoderIdMismatches === 0
      ? "decoder_input_ids: HF's equal the labels shifted right (start 0, -100 -> pad 0)"
      : `decoder_input_ids: ${r.decoderIdMismatches} positions differ from the labels shifted right`,
    r.tokenizer.mismatches.length === 0
      ? `tokenizer: ${r.tokenizer.checked} texts, ids equal`
      : `tokenizer: ${r.tokenizer.mismatches.length} of ${r.tokenizer.checked} texts differ: ` +
        r.tokenizer.mismatches.join("; "),
    `checkpoint tensors: ${r.coverage.used} read by the graph, ${r.coverage.skipped.length} tied ` +
      `copies skipped (${
        r.coverage.skipped.join(", ") || "none"
      }), ${r.coverage.unused.length} unused` +
      (r.coverage.unused.length ? ` (${r.coverage.unused.join(", ")})` : ""),
    `${r.ok ? "PASS" : "FAIL"} in ${r.seconds} s`,
  );
  return lines.join("\n");
}

if (import.meta.main) {
  let args: ParityArgs;
  try {
    args = parseParityArgs(Deno.args);
  } catch (err) {
    console.error((err as Error).message);
    Deno.exit(2);
  }
  try {
    const report = await runParity(args, (m) => console.error(`[hf_parity] ${m}`));
    console.log(args.json ? JSON.stringify(report, null, 1) : formatParity(report));
    Deno.exit(report.ok ? 0 : 1);
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    Deno.exit(1);
  }
}

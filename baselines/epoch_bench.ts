/**
 * `deno task bench:baselines`: per-epoch training time of each ID baseline
 * (BPR-MF, LightGCN, SimpleX) on Beauty at the `cpu` preset, at 1 and 2
 * threads, on the old update path (Adam in ONNX Runtime) and the new ones
 * (Adam in the engine's kernels: dense, and sparse rows), with the ratio to
 * the old path measured in the same run and to RecBole's committed epoch
 * figures (`../shared/reference/peer_recbole.json`, another run), and each
 * path's peak RSS.
 *
 * ```
 * deno task bench:baselines [--json] [--data DIR] [--models bprmf,lightgcn,simplex]
 *   [--threads 1,2] [--paths old,dense,sparse] [--epochs 3] [--reps 2] [--reference FILE]
 * ```
 *
 * `--data` defaults to `$ELMBENCH_DATA/beauty` (else `../shared/data/beauty`)
 * and `--reference` to `reference/peer_recbole.json` beside that data root.
 *
 * Each (model, threads, path) trains in a process of its own (so that its
 * peak RSS is its own), `--epochs` epochs of which the first is a warm-up.
 * The paths of one (model, threads) run one after another, `--reps` times
 * in alternating order, so that a change of load on a shared machine falls
 * on all of them. Figures are medians over the timed epochs of every rep;
 * the spread is the range of the reps' medians. CPU seconds (user + system,
 * every thread) are less disturbed by other jobs than wall seconds, which
 * are what RecBole's figures are. The load average is printed beside them.
 * Progress goes to stderr; `--json` prints one JSON object on stdout.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { hasPath, type Model, MODELS, type Path, PATHS } from "./bench_trainers.ts";
import type { EpochTimes } from "./bench_trainers.ts";

const fromHere = (rel: string) => new URL(rel, import.meta.url).pathname;
/** `../shared/<rel>` beside the checkout, or beside `ELMBENCH_DATA` when set. */
const shared = (rel: string) => {
  const data = Deno.env.get("ELMBENCH_DATA");
  return data ? `${data}/../${rel}` : fromHere(`../../shared/${rel}`);
};
const RECBOLE_NAMES: Record<Model, string> = {
  bprmf: "BPR-MF",
  lightgcn: "LightGCN",
  simplex: "SimpleX",
};

/** One row of the result: a (model, threads, path) over every rep. */
export interface BenchRow {
  readonly model: Model;
  readonly threads: number;
  readonly path: Path;
  /** Median wall seconds per epoch, and the range of the reps' medians. */
  readonly epochS: number;
  readonly spreadS: [number, number];
  readonly cpuS: number;
  readonly vsOld: number | null;
  readonly vsRecbole: number | null;
  readonly peakRssMiB: number;
  readonly recboleEpochS: number | null;
  readonly firstLoss: number;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
const load = () => Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
const log = (msg: string) => console.error(`[bench:baselines] ${msg}`);

async function child(
  data: string,
  model: Model,
  threads: number,
  path: Path,
  epochs: number,
): Promise<EpochTimes> {
  const script = fromHere("./bench_trainers.ts");
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, data, model, String(threads), path, String(epochs)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(
      `${model} ${path} at ${threads} threads failed:\n${new TextDecoder().decode(stderr)}`,
    );
  }
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

async function recboleEpochs(
  file: string,
): Promise<Record<string, { epoch: number; rss: number }>> {
  try {
    const ref = JSON.parse(await Deno.readTextFile(file));
    return Object.fromEntries(
      (ref.runs as {
        model: string;
        dataset: string;
        median_train_epoch_s: number;
        peak_rss_mib: number;
      }[])
        .filter((r) => r.dataset === "beauty")
        .map((r) => [r.model, { epoch: r.median_train_epoch_s, rss: r.peak_rss_mib }]),
    );
  } catch (e) {
    log(`no RecBole figures (${(e as Error).message.split("\n")[0]})`);
    return {};
  }
}

/** Renders the rows as a Markdown table. */
export function benchTable(rows: readonly BenchRow[]): string {
  const lines = [
    "| model | threads | path | s / epoch | spread | CPU s / epoch | vs old | vs RecBole | peak RSS MiB |",
    "| --- | --: | --- | --: | --- | --: | --: | --: | --: |",
  ];
  for (const r of rows) {
    const x = (v: number | null) => (v === null ? "" : `${v.toFixed(2)}x`);
    lines.push(
      `| ${r.model} | ${r.threads} | ${r.path} | ${r.epochS.toFixed(2)} | ${
        r.spreadS.map((s) => s.toFixed(2)).join("–")
      } | ${r.cpuS.toFixed(2)} | ${x(r.vsOld)} | ${x(r.vsRecbole)} | ${r.peakRssMiB} |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      json: { type: "boolean", default: false },
      data: { type: "string", default: shared("data/beauty") },
      models: { type: "string", default: MODELS.join(",") },
      threads: { type: "string", default: "1,2" },
      paths: { type: "string", default: PATHS.join(",") },
      epochs: { type: "string", default: "3" },
      reps: { type: "string", default: "2" },
      reference: { type: "string", default: shared("reference/peer_recbole.json") },
    },
  });
  const list = (s: string) => s.split(",").map((x) => x.trim()).filter(Boolean);
  const models = list(values.models) as Model[];
  const paths = list(values.paths) as Path[];
  for (const m of models) {
    if (!MODELS.includes(m)) throw new RangeError(`Unknown model "${m}"; valid: ${MODELS}`);
  }
  for (const p of paths) {
    if (!PATHS.includes(p)) throw new RangeError(`Unknown path "${p}"; valid: ${PATHS}`);
  }
  const threads = list(values.threads).map(Number);
  const epochs = Number(values.epochs), reps = Number(values.reps);
  if (!(epochs >= 2) || !(reps >= 1)) {
    throw new RangeError(`Expected --epochs >= 2 and --reps >= 1 but found ${epochs}, ${reps}`);
  }
  const recbole = await recboleEpochs(values.reference);
  const loadBefore = load();
  log(`load average before: ${loadBefore}`);
  const rows: BenchRow[] = [];
  for (const model of models) {
    for (const t of threads) {
      const own = paths.filter((p) => hasPath(model, p));
      const runs = new Map<Path, EpochTimes[]>(own.map((p) => [p, []]));
      for (let rep = 0; rep < reps; rep++) {
        for (const path of rep % 2 ? [...own].reverse() : own) {
          const r = await child(values.data, model, t, path, epochs);
          log(
            `${model} ${t}t ${path} rep ${rep + 1}: ${
              r.wall.map((s) => s.toFixed(2)).join(" ")
            } s, peak RSS ${r.peakRssMiB} MiB (load ${load()})`,
          );
          runs.get(path)!.push(r);
        }
      }
      const ref = recbole[RECBOLE_NAMES[model]];
      const oldEpoch = runs.has("old")
        ? median(runs.get("old")!.flatMap((r) => r.wall.slice(1)))
        : null;
      for (const [path, rs] of runs) {
        const epochS = median(rs.flatMap((r) => r.wall.slice(1)));
        const perRep = rs.map((r) => median(r.wall.slice(1)));
        rows.push({
          model,
          threads: t,
          path,
          epochS: round(epochS),
          spreadS: [round(Math.min(...perRep)), round(Math.max(...perRep))],
          cpuS: round(median(rs.flatMap((r) => r.cpu.slice(1)))),
          vsOld: oldEpoch === null ? null : round(epochS / oldEpoch),
          vsRecbole: ref ? round(epochS / ref.epoch) : null,
          peakRssMiB: Math.max(...rs.map((r) => r.peakRssMiB)),
          recboleEpochS: ref?.epoch ?? null,
          firstLoss: rs[0].losses[0],
        });
      }
    }
  }
  const loadAfter = load();
  log(`load average after: ${loadAfter}`);
  const summary = {
    loadBefore,
    loadAfter,
    cpus: navigator.hardwareConcurrency,
    epochs,
    reps,
    rows,
  };
  if (values.json) console.log(JSON.stringify(summary, null, 2));
  else {
    console.log(benchTable(rows));
    console.log(
      `\nload average before ${loadBefore}, after ${loadAfter}; ${navigator.hardwareConcurrency} CPUs; ` +
        `RecBole: its committed figures (another run, 1 torch thread)`,
    );
  }
}

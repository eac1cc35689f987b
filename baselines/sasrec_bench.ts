/**
 * The SASRec speed benchmark: one training epoch of the `cpu` preset on a
 * dataset's training split, on the engine and, in the same invocation, in
 * PyTorch over the very same batches (`results/reference/sasrec_torch.py`:
 * the same model, packed rows, masks, loss and Adam), at the same thread
 * count, with each side's peak resident memory.
 *
 * ```
 * deno task bench:sasrec [--data DIR (default $ELMBENCH_DATA/beauty)] [--threads 1] [--loss ce|bce]
 *   [--steps N] [--no-torch] [--json]
 * ```
 *
 * `--steps N` times the first N batches of the epoch instead of all of
 * them. With `ELMBENCH_IO=bound ELMBENCH_ORT_PROFILE=PREFIX` set, ONNX
 * Runtime profiles the step and the driver prints time per operator type.
 *
 * @module
 */
import { loadData } from "../harness/data_source.ts";
import { loadSplit } from "../harness/split.ts";
import { createRng, endBoundProfiling, ParamStore, summarizeProfile } from "../kernels/mod.ts";
import { SASREC_KEYS } from "./sasrec.ts";
import { createSasrecTrainer, type SasrecBatch, type SasrecTrainer } from "./sasrec_model.ts";

const fromHere = (rel: string) => new URL(rel, import.meta.url).pathname;
const log = (msg: string) => console.error(`[bench:sasrec] ${msg}`);

interface Args {
  data: string;
  threads: number;
  loss: string;
  steps: number;
  torch: boolean;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const out: Args = {
    data: `${Deno.env.get("ELMBENCH_DATA") ?? fromHere("../../shared/data")}/beauty`,
    threads: 1,
    loss: "ce",
    steps: Infinity,
    torch: true,
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i], value = () => argv[++i];
    if (flag === "--data") out.data = value();
    else if (flag === "--threads") out.threads = Number(value());
    else if (flag === "--loss") out.loss = value();
    else if (flag === "--steps") out.steps = Number(value());
    else if (flag === "--no-torch") out.torch = false;
    else if (flag === "--json") out.json = true;
    else {
      throw new TypeError(
        `Unknown flag "${flag}"; valid: --data --threads --loss --steps --no-torch --json`,
      );
    }
  }
  return out;
}

/**
 * The batches as the PyTorch script reads them: a JSON header line, then per
 * batch four int32 arrays of `rows * len` (items, positions, targets and
 * each slot's user index within the batch, 0 = empty), and with `bce` the
 * negatives.
 */
function encodeBatches(
  batches: readonly SasrecBatch[],
  fill: (b: SasrecBatch) => Record<string, Int32Array>,
  header: Record<string, unknown>,
): Uint8Array {
  const parts: Uint8Array[] = [new TextEncoder().encode(JSON.stringify(header) + "\n")];
  for (const b of batches) {
    for (const arr of Object.values(fill(b))) parts.push(new Uint8Array(arr.slice().buffer));
  }
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function main(args: Args) {
  const config = Object.fromEntries(
    Object.entries(SASREC_KEYS).map(([k, v]) => [k, v.default]),
  ) as Record<string, number | string>;
  config.loss = args.loss;
  const split = await loadSplit(await loadData(args.data), { cacheDir: null });
  log(`${args.data}: ${split.nUsers} users, ${split.nItems} items; threads ${args.threads}`);
  let peak = Deno.memoryUsage().rss;
  const sample = () => (peak = Math.max(peak, Deno.memoryUsage().rss));
  const store = new ParamStore();
  const options = config as unknown as Parameters<typeof createSasrecTrainer>[2];
  const trainer = await createSasrecTrainer(split, store, options, {
    threads: args.threads,
    init: createRng(0).fork("init"),
    dropout: createRng(0).fork("dropout"),
  });
  const all = trainer.batches(createRng(0).fork("batches"));
  const batches = all.slice(0, Math.min(all.length, args.steps));
  const len = options.maxLen, rows = trainer.rows;
  const positions = batches.reduce((s, b) => s + b.layout.lengths.reduce((a, c) => a + c, 0), 0);
  log(
    `${batches.length} of ${all.length} batches of ${rows} x ${len} slots, ${positions} positions`,
  );
  const warm = batches.slice(0, 3);
  for (const b of warm) await trainer.step(b);
  const t0 = performance.now();
  let loss = 0;
  for (const b of batches) {
    loss = (await trainer.step(b)).loss;
    sample();
  }
  const ours = (performance.now() - t0) / 1000;
  log(`elmbench: ${ours.toFixed(2)} s, last loss ${loss.toFixed(4)}`);
  const out: Record<string, unknown> = {
    dataset: args.data,
    loss: args.loss,
    threads: args.threads,
    batches: batches.length,
    rows,
    len,
    positions,
    elmbench_s: round(ours),
    elmbench_peak_rss_mib: round(peak / 2 ** 20),
  };
  const traces = endBoundProfiling();
  for (const file of traces) {
    const summary = summarizeProfile(await Deno.readTextFile(file));
    out.profile = summary.ops.slice(0, 12).map((o) =>
      `${o.op} ${(o.share * 100).toFixed(1)}% (${o.count})`
    );
  }
  if (args.torch) {
    Object.assign(out, await runTorch(args, trainer, batches, rows, len, split.nItems));
  }
  if (typeof out.torch_s === "number") out.ratio = round(ours / out.torch_s);
  return out;
}

async function runTorch(
  args: Args,
  trainer: SasrecTrainer,
  batches: readonly SasrecBatch[],
  rows: number,
  len: number,
  nItems: number,
): Promise<Record<string, unknown>> {
  const file = await Deno.makeTempFile({ suffix: ".bin" });
  try {
    const slots = rows * len;
    const bytes = encodeBatches(batches, (b) => {
      const arrays: Record<string, Int32Array> = {
        items: new Int32Array(slots),
        positions: new Int32Array(slots),
        targets: new Int32Array(slots),
        users: new Int32Array(slots),
      };
      const fed = trainer.feeds(b);
      for (const key of ["items", "positions", "targets"]) arrays[key].set(fed[key]);
      b.layout.users.forEach((_, k) => {
        const start = b.layout.starts[k];
        arrays.users.fill(k + 1, start, start + b.layout.lengths[k]);
      });
      if (b.negatives) arrays.negatives = b.negatives;
      return arrays;
    }, { rows, len, batches: batches.length, n_items: nItems, loss: args.loss });
    await Deno.writeFile(file, bytes);
    log("torch: running results/reference/sasrec_torch.py");
    const res = await new Deno.Command("/usr/bin/python3", {
      args: [
        fromHere("../results/reference/sasrec_torch.py"),
        file,
        "--threads",
        String(args.threads),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!res.success) return { torch_error: "the PyTorch script failed (see stderr)" };
    const t = JSON.parse(new TextDecoder().decode(res.stdout).trim().split("\n").pop()!);
    return Object.fromEntries(Object.entries(t).map(([k, v]) => [`torch_${k}`, v]));
  } finally {
    await Deno.remove(file);
  }
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const out = await main(args);
  if (args.json) console.log(JSON.stringify(out));
  else {for (const [k, v] of Object.entries(out)) {
      console.log(`${k.padEnd(24)} ${JSON.stringify(v)}`);
    }}
}

/**
 * The training of the generative recommenders, on the shared epoch loop
 * (`harness/epoch_loop.ts`): what their epochs are. An epoch builds the
 * samples of each task, alternates one batch per task, and is validated by
 * the mean loss on fixed samples, lower being better. The best epoch's
 * params are restored at the end, or, with `keep: "last"`, every epoch runs
 * and the last one's params stay.
 *
 * Checkpoints (when `dir` is set): `state.safetensors` (params and AdamW
 * state after the last finished epoch), `best.safetensors` (params of the
 * best epoch) and `progress.json` (epoch counters and the log). Rerunning
 * with the same directory resumes after the last finished epoch; epoch `e`
 * draws from `rng.fork("epoch:e")`, so a resumed run repeats the same
 * samples (dropout masks continue from a fresh fork).
 *
 * @module
 */

import {
  checkLoss,
  type EpochCheckpoint,
  epochLoop,
  type EpochRun,
  type LoopState,
  memoryCheckpoint,
} from "../harness/epoch_loop.ts";
import type { Progress } from "../harness/progress.ts";
import type { ParamStore, Rng } from "../kernels/mod.ts";
import type { Task } from "../harness/types.ts";
import { readStore, writeStore } from "./checkpoint.ts";
import type { Sample } from "./prompts.ts";

/** One epoch's line of the log. */
export interface EpochRecord {
  readonly epoch: number;
  /** Mean training loss per task. */
  readonly train: Record<string, number>;
  /** Mean validation loss over both tasks. */
  readonly valid: number;
  /** Training samples seen in the epoch, all tasks together. */
  readonly samples: number;
  readonly seconds: number;
}

/** What the loop needs from a model. */
export interface Trainable {
  readonly store: ParamStore;
  /**
   * Called before each epoch with that epoch's own generator, so that the
   * random draws of training (dropout) depend on the epoch alone and a run
   * resumed after epoch e trains epoch e + 1 as an uninterrupted run does.
   */
  startEpoch?(rng: Rng): void;
  trainStep(task: Task, samples: readonly Sample[]): Promise<number>;
  loss(task: Task, samples: readonly Sample[]): Promise<number>;
}

/** Options of {@linkcode trainLoop}. */
export interface TrainLoopOptions {
  readonly label: string;
  readonly epochs: number;
  readonly batchSize: number;
  readonly patience: number;
  /**
   * `best`: early stopping, and the best epoch's params at the end; `last`:
   * all epochs, the last epoch's params. @default "best"
   */
  readonly keep?: "best" | "last";
  readonly tasks: readonly Task[];
  /** Training samples of an epoch for one task. */
  samples(task: Task, rng: Rng): Sample[];
  /** Fixed validation samples per task. */
  readonly validation: Readonly<Record<string, readonly Sample[]>>;
  readonly rng: Rng;
  readonly progress: Progress;
  /** Checkpoint directory; empty = none. */
  readonly dir: string;
  readonly signal?: AbortSignal;
  /** Stop after this many batches per epoch (tests, measurements). @default Infinity */
  readonly maxBatches?: number;
  /** Receives every batch loss (golden tests). */
  readonly onBatch?: (task: Task, loss: number) => void;
}

/** The loop's result. */
export interface TrainResult {
  readonly bestEpoch: number;
  readonly epochsRun: number;
  readonly bestValidLoss: number;
  readonly log: readonly EpochRecord[];
  readonly resumedFrom: number;
}

/** What training an epoch returns to the loop. */
interface EpochTraining {
  readonly train: Record<string, number>;
  readonly samples: number;
}

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** Mean validation loss over the tasks' fixed samples (weighted by samples). */
export async function validationLoss(
  model: Trainable,
  validation: Readonly<Record<string, readonly Sample[]>>,
  batchSize: number,
): Promise<number> {
  let total = 0, count = 0;
  for (const [task, samples] of Object.entries(validation)) {
    for (const batch of chunks(samples, batchSize)) {
      total += (await model.loss(task as Task, batch)) * batch.length;
      count += batch.length;
    }
  }
  return count ? total / count : NaN;
}

/** Trains `model` with early stopping on the validation loss; see the module doc. */
export async function trainLoop(model: Trainable, options: TrainLoopOptions): Promise<TrainResult> {
  const { label, dir } = options;
  const store = model.store;
  const result = await epochLoop<EpochTraining, number, EpochRecord>({
    label,
    maxEpochs: options.epochs,
    patience: options.patience,
    keep: options.keep,
    goal: "min",
    train: (run) => trainEpoch(model, options, run),
    validate: () => validationLoss(model, options.validation, options.batchSize),
    score: (valid) => valid,
    // Seconds of training and validation, as `train_log` has always recorded them.
    entry: ({ epoch, trained, validated, seconds }) => ({
      epoch,
      train: trained.train,
      valid: validated,
      samples: trained.samples,
      seconds,
    }),
    line: ({ epoch, trained, validated, seconds, best }) => {
      const losses = Object.entries(trained.train).map(([t, l]) => `${t} ${l.toFixed(4)}`);
      return `${label} epoch ${epoch}: train ${losses.join(", ")}; valid ${validated.toFixed(4)} ${
        seconds.toFixed(1)
      }s${best ? " *" : ""}`;
    },
    checkpoint: dir
      ? directoryCheckpoint(dir, store)
      : memoryCheckpoint(() => snapshotParams(store), (params) => restoreParams(store, params)),
    progress: options.progress,
    signal: options.signal,
  });
  return {
    bestEpoch: result.bestEpoch,
    epochsRun: result.epochsRun,
    bestValidLoss: result.bestScore,
    log: result.log,
    resumedFrom: result.resumedFrom,
  };
}

/** One epoch: the samples of each task, one batch per task in turn. */
async function trainEpoch(
  model: Trainable,
  options: TrainLoopOptions,
  run: EpochRun,
): Promise<EpochTraining> {
  const rng = options.rng.fork(`epoch:${run.epoch}`);
  model.startEpoch?.(rng.fork("model"));
  const queues = options.tasks.map((task) => ({
    task,
    batches: chunks(options.samples(task, rng.fork(task)), options.batchSize),
  }));
  const order: { task: Task; samples: Sample[] }[] = [];
  for (let i = 0; queues.some((q) => i < q.batches.length); i++) {
    for (const q of queues) {
      if (i < q.batches.length) order.push({ task: q.task, samples: q.batches[i] });
    }
  }
  const batches = order.slice(0, options.maxBatches ?? Infinity);

  const sums: Record<string, number> = {}, counts: Record<string, number> = {};
  let seen = 0;
  for (const { task, samples } of run.steps(batches, batches.length)) {
    const loss = checkLoss(options.label, run.epoch, await model.trainStep(task, samples));
    options.onBatch?.(task, loss);
    sums[task] = (sums[task] ?? 0) + loss;
    counts[task] = (counts[task] ?? 0) + 1;
    seen += samples.length;
  }
  const train = Object.fromEntries(Object.keys(sums).map((t) => [t, sums[t] / counts[t]]));
  return { train, samples: seen };
}

/** `progress.json` as it has been written since checkpoints began. */
interface ProgressFile {
  readonly epoch: number;
  readonly bestEpoch: number;
  /** The loop's best score; JSON writes the Infinity of no best yet as null. */
  readonly bestValidLoss: number | null;
  readonly sinceBest: number;
  readonly stopped: boolean;
  readonly log: readonly EpochRecord[];
}

/** Checkpoints in `dir`: see the module doc. */
function directoryCheckpoint(dir: string, store: ParamStore): EpochCheckpoint<EpochRecord> {
  return {
    location: dir,
    setting: "checkpointDir",
    async resume(): Promise<LoopState<EpochRecord> | undefined> {
      await Deno.mkdir(dir, { recursive: true });
      let file: ProgressFile;
      try {
        file = JSON.parse(await Deno.readTextFile(`${dir}/progress.json`));
        await readStore(`${dir}/state.safetensors`, store);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return undefined;
        throw e;
      }
      const { bestValidLoss, ...rest } = file;
      return { ...rest, bestScore: bestValidLoss ?? Infinity };
    },
    async save(state, best) {
      if (best) await writeStore(`${dir}/best.safetensors`, store, { paramsOnly: true });
      await writeStore(`${dir}/state.safetensors`, store);
      const { epoch, bestEpoch, bestScore, sinceBest, stopped, log } = state;
      const file: ProgressFile = {
        epoch,
        bestEpoch,
        bestValidLoss: bestScore,
        sinceBest,
        stopped,
        log,
      };
      await Deno.writeTextFile(`${dir}/progress.json`, JSON.stringify(file));
    },
    restoreBest: () => readStore(`${dir}/best.safetensors`, store),
  };
}

function snapshotParams(store: ParamStore): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, { data }] of store.entries()) {
    if (!name.startsWith("opt.")) out.set(name, data.slice());
  }
  return out;
}

function restoreParams(store: ParamStore, params: Map<string, Float32Array>): void {
  for (const [name, data] of params) store.set(name, data, store.get(name)!.shape);
}

/**
 * The training loop of the generative recommenders, read top to bottom:
 * resume from the last checkpoint if any, then per epoch build the samples
 * of both tasks, alternate one batch per task, validate the mean loss,
 * checkpoint, log, and stop after `patience` epochs without a better
 * validation loss. The best epoch's params are restored at the end, or,
 * with `keep: "last"`, every epoch runs and the last one's params stay.
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
  readonly log: EpochRecord[];
  readonly resumedFrom: number;
}

interface Progress_ {
  epoch: number;
  bestEpoch: number;
  bestValidLoss: number;
  sinceBest: number;
  stopped: boolean;
  log: EpochRecord[];
}

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

function snapshotParams(store: ParamStore): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, { data }] of store.entries()) {
    if (!name.startsWith("opt.")) out.set(name, data.slice());
  }
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
  const { dir, progress, label } = options;
  let state: Progress_ = {
    epoch: 0,
    bestEpoch: 0,
    bestValidLoss: Infinity,
    sinceBest: 0,
    stopped: false,
    log: [],
  };
  if (dir) {
    await Deno.mkdir(dir, { recursive: true });
    try {
      state = JSON.parse(await Deno.readTextFile(`${dir}/progress.json`));
      await readStore(`${dir}/state.safetensors`, model.store);
      progress.log(`${label}: resuming after epoch ${state.epoch} from ${dir}`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  const keepBest = (options.keep ?? "best") === "best";
  // A directory trained past `epochs` no longer holds the last of the first
  // `epochs` epochs, nor their best unless that best came early enough.
  if (state.epoch > options.epochs && !keepBest) {
    throw new RangeError(
      `${label}: ${dir} holds ${state.epoch} epochs, so the last of the first ${options.epochs} ` +
        `is gone; raise epochs or set another checkpointDir`,
    );
  }
  if (state.epoch > options.epochs && state.bestEpoch > options.epochs) {
    throw new RangeError(
      `${label}: ${dir} holds ${state.epoch} epochs with the best at epoch ${state.bestEpoch}, ` +
        `so the best of the first ${options.epochs} is gone; ` +
        `raise epochs or set another checkpointDir`,
    );
  }
  if (dir && state.epoch === 0) progress.log(`${label}: checkpoints in ${dir}`);
  const resumedFrom = state.epoch;
  // Without a directory the best epoch's params are kept in memory.
  let bestParams: Map<string, Float32Array> | undefined;

  while (!state.stopped && state.epoch < options.epochs) {
    options.signal?.throwIfAborted();
    const epoch = state.epoch + 1;
    const t0 = performance.now();
    const rng = options.rng.fork(`epoch:${epoch}`);
    model.startEpoch?.(rng.fork("model"));

    // Batches of each task, alternating task by task.
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
    progress.start(`${label} epoch ${epoch}`, batches.length);
    for (const { task, samples } of batches) {
      options.signal?.throwIfAborted();
      const loss = await model.trainStep(task, samples);
      if (!Number.isFinite(loss)) {
        throw new RangeError(
          `${label}: the training loss became ${loss} in epoch ${epoch}; lower the learning rate`,
        );
      }
      options.onBatch?.(task, loss);
      sums[task] = (sums[task] ?? 0) + loss;
      counts[task] = (counts[task] ?? 0) + 1;
      seen += samples.length;
      progress.tick(1);
    }
    progress.done();

    const valid = await validationLoss(model, options.validation, options.batchSize);
    const train = Object.fromEntries(Object.keys(sums).map((t) => [t, sums[t] / counts[t]]));
    const seconds = (performance.now() - t0) / 1000;
    state.epoch = epoch;
    state.log.push({ epoch, train, valid, samples: seen, seconds });
    const improved = valid < state.bestValidLoss;
    if (improved) {
      state.bestValidLoss = valid;
      state.bestEpoch = epoch;
      state.sinceBest = 0;
    } else state.sinceBest++;
    state.stopped = keepBest && state.sinceBest >= options.patience;

    if (improved && !dir) bestParams = snapshotParams(model.store);
    if (dir) {
      if (improved) await writeStore(`${dir}/best.safetensors`, model.store, { paramsOnly: true });
      await writeStore(`${dir}/state.safetensors`, model.store);
      await Deno.writeTextFile(`${dir}/progress.json`, JSON.stringify(state));
    }
    const losses = Object.entries(train).map(([t, l]) => `${t} ${l.toFixed(4)}`).join(", ");
    progress.log(
      `${label} epoch ${epoch}: train ${losses}; valid ${valid.toFixed(4)} ${seconds.toFixed(1)}s${
        improved ? " *" : ""
      }`,
    );
  }

  if (keepBest && dir && state.bestEpoch > 0 && state.bestEpoch !== state.epoch) {
    await readStore(`${dir}/best.safetensors`, model.store);
  }
  if (keepBest && bestParams && state.bestEpoch !== state.epoch) {
    for (const [name, data] of bestParams) {
      model.store.set(name, data, model.store.get(name)!.shape);
    }
  }
  return {
    bestEpoch: state.bestEpoch,
    epochsRun: state.epoch,
    bestValidLoss: state.bestValidLoss,
    log: state.log,
    resumedFrom,
  };
}

/**
 * The epoch loop of every trained plugin: the embedding baselines (through
 * `pairwise_fit.ts`) and the T5 models (through `models/train.ts`). It reads
 * top to bottom: resume from the checkpoint if it holds finished epochs;
 * then per epoch train, validate, note the best epoch, checkpoint, log one
 * line, and stop after `patience` epochs without a better validation score.
 * At the end the best epoch's parameters are put back, or, with `keep:
 * "last"`, every epoch runs and the last one's parameters stay.
 *
 * What differs between models is passed in: how an epoch trains, how it is
 * validated and which way is better, what its log entry and its line say,
 * and what a checkpoint holds ({@linkcode EpochCheckpoint}).
 *
 * @module
 */
import type { Progress } from "./progress.ts";

/** What a checkpoint holds of the loop itself: enough to resume it. */
export interface LoopState<E> {
  /** Epochs finished. */
  readonly epoch: number;
  /** The epoch with the best validation score so far; 0 = none yet. */
  readonly bestEpoch: number;
  readonly bestScore: number;
  /** Epochs since the best one. */
  readonly sinceBest: number;
  /** Patience ran out: a resumed run trains no further. */
  readonly stopped: boolean;
  /** One entry per finished epoch. */
  readonly log: readonly E[];
}

/** Where the loop keeps what it resumes from and the best epoch's parameters. */
export interface EpochCheckpoint<E> {
  /** Where it is, for log lines and errors (a directory); "" when in memory. */
  readonly location: string;
  /** The setting that moves it elsewhere, for advice in errors. */
  readonly setting: string;
  /**
   * The loop's state after the last finished epoch, with the model's state
   * (parameters, optimizer) put back; undefined when there is none.
   */
  resume(): Promise<LoopState<E> | undefined>;
  /** Called after every epoch; `best`: the epoch's validation score is the best so far. */
  save(state: LoopState<E>, best: boolean): Promise<void>;
  /** Puts the best epoch's parameters back. */
  restoreBest(): Promise<void>;
}

/**
 * A checkpoint in memory: nothing to resume from, and the best epoch's
 * parameters as `snapshot` copies them.
 */
export function memoryCheckpoint<E, S>(
  snapshot: () => S,
  restore: (state: S) => void,
): EpochCheckpoint<E> {
  let best: { state: S } | undefined;
  return {
    location: "",
    setting: "",
    resume: () => Promise.resolve(undefined),
    save(_state, isBest) {
      if (isBest) best = { state: snapshot() };
      return Promise.resolve();
    },
    restoreBest() {
      if (best) restore(best.state);
      return Promise.resolve();
    },
  };
}

/** Handed to `train`: the epoch and the pace of its batches. */
export interface EpochRun {
  /** 1-based. */
  readonly epoch: number;
  /**
   * Yields `batches` with an abort check before each and a step of the
   * epoch's progress bar (`total` steps) after each.
   */
  steps<B>(batches: Iterable<B>, total: number): Iterable<B>;
}

/** One finished epoch, for its log entry and its line. */
export interface EpochOutcome<T, V> {
  readonly epoch: number;
  /** What `train` returned. */
  readonly trained: T;
  /** What `validate` returned. */
  readonly validated: V;
  /** Seconds of training alone. */
  readonly trainSeconds: number;
  /** Seconds of training and validation. */
  readonly seconds: number;
  /** The validation score is the best so far. */
  readonly best: boolean;
}

/** Options of {@linkcode epochLoop}: `T` is what an epoch's training returns, `V` its validation, `E` its log entry. */
export interface EpochLoopOptions<T, V, E> {
  /** Name shown in log lines. */
  readonly label: string;
  readonly maxEpochs: number;
  /** Epochs without a better validation score before stopping (with `keep: "best"`). */
  readonly patience: number;
  /**
   * `best`: early stopping, and the best epoch's parameters at the end;
   * `last`: every epoch, the last epoch's parameters. @default "best"
   */
  readonly keep?: "best" | "last";
  /** Whether a higher (metrics) or a lower (losses) validation score is better. */
  readonly goal: "max" | "min";
  /** Trains one epoch. */
  train(run: EpochRun): Promise<T>;
  /** Validates the current parameters. */
  validate(): Promise<V>;
  /** The number early stopping watches; NaN never counts as better. */
  score(validated: V): number;
  /** The epoch's entry in the log (and in checkpoints). */
  entry(outcome: EpochOutcome<T, V>): E;
  /** The epoch's line on the progress log. */
  line(outcome: EpochOutcome<T, V>): string;
  readonly checkpoint: EpochCheckpoint<E>;
  readonly progress: Progress;
  readonly signal?: AbortSignal;
}

/** What the loop found. */
export interface EpochLoopResult<E> {
  readonly bestEpoch: number;
  readonly epochsRun: number;
  readonly bestScore: number;
  readonly log: readonly E[];
  /** Epochs the checkpoint held when the loop started. */
  readonly resumedFrom: number;
}

/**
 * The training loss, or a RangeError with advice when it is not finite.
 *
 * @example
 * ```ts
 * import { checkLoss } from "./epoch_loop.ts";
 * checkLoss("bprmf", 3, 0.25); // 0.25; NaN would throw
 * ```
 */
export function checkLoss(label: string, epoch: number, loss: number): number {
  if (Number.isFinite(loss)) return loss;
  throw new RangeError(
    `${label}: the training loss became ${loss} in epoch ${epoch}; lower the learning rate`,
  );
}

/**
 * Trains epoch by epoch with early stopping; see the module doc.
 *
 * @example
 * ```ts
 * import { epochLoop, memoryCheckpoint } from "./epoch_loop.ts";
 * import { silentProgress } from "./progress.ts";
 * let w = 0;
 * const result = await epochLoop({
 *   label: "demo", maxEpochs: 5, patience: 2, goal: "min",
 *   train: () => Promise.resolve(++w),
 *   validate: () => Promise.resolve((w - 2) ** 2),
 *   score: (loss) => loss,
 *   entry: ({ epoch, validated }) => ({ epoch, valid: validated }),
 *   line: ({ epoch }) => `demo epoch ${epoch}`,
 *   checkpoint: memoryCheckpoint(() => w, (saved) => (w = saved)),
 *   progress: silentProgress,
 * });
 * console.log(result.bestEpoch, result.epochsRun, w); // 2 4 2
 * ```
 */
export async function epochLoop<T, V, E>(
  options: EpochLoopOptions<T, V, E>,
): Promise<EpochLoopResult<E>> {
  const { progress, checkpoint } = options;
  const keepBest = (options.keep ?? "best") === "best";
  const better = options.goal === "max"
    ? (a: number, b: number) => a > b
    : (a: number, b: number) => a < b;
  let state = await resumeState(options, keepBest);
  const resumedFrom = state.epoch;

  while (!state.stopped && state.epoch < options.maxEpochs) {
    options.signal?.throwIfAborted();
    const epoch = state.epoch + 1;
    const t0 = performance.now();
    const trained = await options.train(epochRun(epoch, options));
    progress.done();
    const trainSeconds = (performance.now() - t0) / 1000;
    const validated = await options.validate();
    const seconds = (performance.now() - t0) / 1000;

    const score = options.score(validated);
    const best = better(score, state.bestScore);
    const outcome = { epoch, trained, validated, trainSeconds, seconds, best };
    const sinceBest = best ? 0 : state.sinceBest + 1;
    state = {
      epoch,
      bestEpoch: best ? epoch : state.bestEpoch,
      bestScore: best ? score : state.bestScore,
      sinceBest,
      stopped: keepBest && sinceBest >= options.patience,
      log: [...state.log, options.entry(outcome)],
    };
    await checkpoint.save(state, best);
    progress.log(options.line(outcome));
  }

  if (keepBest && state.bestEpoch > 0 && state.bestEpoch !== state.epoch) {
    await checkpoint.restoreBest();
  }
  return {
    bestEpoch: state.bestEpoch,
    epochsRun: state.epoch,
    bestScore: state.bestScore,
    log: state.log,
    resumedFrom,
  };
}

/** The checkpoint's state, or a fresh one; refuses one that no longer holds the epoch to keep. */
async function resumeState<E>(
  options: EpochLoopOptions<unknown, unknown, E>,
  keepBest: boolean,
): Promise<LoopState<E>> {
  const { label, maxEpochs, progress, checkpoint: { location, setting } } = options;
  const state = await options.checkpoint.resume();
  if (!state) {
    if (location) progress.log(`${label}: checkpoints in ${location}`);
    const bestScore = options.goal === "max" ? -Infinity : Infinity;
    return { epoch: 0, bestEpoch: 0, bestScore, sinceBest: 0, stopped: false, log: [] };
  }
  progress.log(`${label}: resuming after epoch ${state.epoch} from ${location}`);
  // A checkpoint trained past `maxEpochs` no longer holds the last of the
  // first `maxEpochs` epochs, nor their best unless that best came early enough.
  if (state.epoch > maxEpochs && !keepBest) {
    throw new RangeError(
      `${label}: ${location} holds ${state.epoch} epochs, so the last of the first ${maxEpochs} ` +
        `is gone; raise epochs or set another ${setting}`,
    );
  }
  if (state.epoch > maxEpochs && state.bestEpoch > maxEpochs) {
    throw new RangeError(
      `${label}: ${location} holds ${state.epoch} epochs with the best at epoch ${state.bestEpoch}, ` +
        `so the best of the first ${maxEpochs} is gone; ` +
        `raise epochs or set another ${setting}`,
    );
  }
  return state;
}

function epochRun(
  epoch: number,
  { label, progress, signal }: EpochLoopOptions<unknown, unknown, unknown>,
): EpochRun {
  return {
    epoch,
    *steps<B>(batches: Iterable<B>, total: number): Iterable<B> {
      progress.start(`${label} epoch ${epoch}`, total);
      for (const batch of batches) {
        signal?.throwIfAborted();
        yield batch;
        progress.tick();
      }
    },
  };
}

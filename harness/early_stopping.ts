/**
 * The epoch loop shared by trainable plugins: train an epoch, validate, keep
 * the best epoch's parameters, stop after `patience` epochs without gain,
 * log one line per epoch. Reads top to bottom, nanoGPT style.
 *
 * @module
 */
import type { Progress } from "./progress.ts";

/** One epoch's line of the training log. */
export interface EpochLog {
  readonly epoch: number;
  readonly loss: number;
  readonly metrics: Record<string, number>;
  readonly seconds: number;
}

/** Options of {@linkcode fitWithEarlyStopping}. */
export interface EarlyStoppingOptions<S> {
  /** Name shown in log lines. */
  readonly label: string;
  readonly maxEpochs: number;
  /** Epochs without improvement before stopping. */
  readonly patience: number;
  /** Validation metric to maximise. @default "NDCG@10" */
  readonly metric?: string;
  /** Validate every this many epochs. @default 1 */
  readonly validateEvery?: number;
  /** Trains one epoch (1-based) and returns its mean loss. */
  runEpoch(epoch: number): Promise<number>;
  /** Validation metrics of the current parameters. */
  validate(): Promise<Record<string, number>>;
  /** A copy of the current parameters, and a way to put one back. */
  snapshot(): S;
  restore(state: S): void;
  readonly progress: Progress;
  readonly signal?: AbortSignal;
}

/** What the loop found. */
export interface EarlyStoppingResult {
  readonly bestEpoch: number;
  readonly epochsRun: number;
  readonly bestMetrics: Record<string, number>;
  readonly log: EpochLog[];
  /** Median seconds of the training part of an epoch (validation excluded). */
  readonly medianEpochSeconds: number;
}

/** Runs the loop; leaves the best epoch's parameters in place. */
export async function fitWithEarlyStopping<S>(
  options: EarlyStoppingOptions<S>,
): Promise<EarlyStoppingResult> {
  const metric = options.metric ?? "NDCG@10";
  const every = options.validateEvery ?? 1;
  const log: EpochLog[] = [];
  let best = -Infinity;
  let bestEpoch = 0;
  let bestMetrics: Record<string, number> = {};
  let bestState: S | undefined;
  let sinceBest = 0;
  let epoch = 0;
  while (epoch < options.maxEpochs) {
    options.signal?.throwIfAborted();
    epoch++;
    const t0 = performance.now();
    const loss = await options.runEpoch(epoch);
    const seconds = (performance.now() - t0) / 1000;
    if (!Number.isFinite(loss)) {
      throw new RangeError(
        `${options.label}: the training loss became ${loss} in epoch ${epoch}; lower the learning rate`,
      );
    }
    let metrics: Record<string, number> = {};
    if (epoch % every === 0 || epoch === options.maxEpochs) {
      metrics = await options.validate();
      const value = metrics[metric];
      if (value > best) {
        best = value;
        bestEpoch = epoch;
        bestMetrics = metrics;
        bestState = options.snapshot();
        sinceBest = 0;
      } else {
        sinceBest += every;
      }
    }
    log.push({ epoch, loss, metrics, seconds });
    const shown = metrics[metric] === undefined
      ? ""
      : ` valid ${metric} ${metrics[metric].toFixed(4)}`;
    options.progress.log(
      `${options.label} epoch ${epoch}: loss ${loss.toFixed(5)}${shown} ${seconds.toFixed(2)}s${
        bestEpoch === epoch ? " *" : ""
      }`,
    );
    if (sinceBest >= options.patience) break;
  }
  if (bestState !== undefined) options.restore(bestState);
  const times = log.map((l) => l.seconds).sort((a, b) => a - b);
  return {
    bestEpoch,
    epochsRun: epoch,
    bestMetrics,
    log,
    medianEpochSeconds: times.length ? times[Math.floor(times.length / 2)] : 0,
  };
}

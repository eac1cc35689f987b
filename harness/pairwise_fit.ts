/**
 * The training loop of models fitted on pairwise samples (user, positive,
 * negatives): seeded batches over the training split, one optimisation step
 * per batch with a progress bar inside the epoch, validation on the
 * protocol the config asks for, early stopping with the best epoch kept.
 * Model-agnostic: the plugin supplies the step and a scorer.
 *
 * @module
 */
import { type EarlyStoppingResult, fitWithEarlyStopping } from "./early_stopping.ts";
import type { FitContext, Scorer, ValidateOptions } from "./plugin.ts";
import { type PairwiseBatch, PairwiseSampler } from "./sampling.ts";

/** Options of {@linkcode fitPairwise}. */
export interface PairwiseFitOptions<S> {
  /** Name shown in log lines. */
  readonly label: string;
  readonly batchSize: number;
  /** Negatives per positive. @default 1 */
  readonly negatives?: number;
  readonly maxEpochs: number;
  /** Epochs without a better validation NDCG@10 before stopping. */
  readonly patience: number;
  /** `full`: all items, training items excluded (RecBole's selection); `task`: the cell's protocol. */
  readonly validProtocol: string;
  /** Validation users (a fixed seeded subset); 0 = all. */
  readonly validUsers: number;
  /**
   * One optimisation step; returns the batch loss. `weights` is 1 for the
   * batch's real samples and 0 for the wrapped padding of the last batch,
   * so a weighted mean equals the mean over real samples.
   */
  step(batch: PairwiseBatch, weights: Float32Array): Promise<number>;
  /** A scorer over the current parameters (for validation). */
  scorer(): Promise<Scorer>;
  snapshot(): S;
  restore(state: S): void;
}

/** What {@linkcode fitPairwise} found, plus memory. */
export interface PairwiseFitResult extends EarlyStoppingResult {
  /** Highest resident set size seen during training, MiB. */
  readonly peakRssMiB: number;
}

/**
 * The early-stopping keys every pairwise-fit plugin has, at RecBole's
 * settings. `validProtocol` and `validUsers` were `valid_protocol` and
 * `valid_users`: the legacy names keep cell ids and old commands.
 */
export const PAIRWISE_FIT_KEYS = {
  epochs: { default: 300, doc: "maximum epochs" },
  patience: { default: 10, doc: "epochs without a better validation NDCG@10 before stopping" },
  validProtocol: {
    default: "full",
    doc: "full (all items, training items excluded; RecBole) or task (the cell's protocol)",
    legacy: "valid_protocol",
  },
  validUsers: {
    default: 0,
    doc: "validation users per epoch (a seeded subset); 0 = all",
    legacy: "valid_users",
  },
};

/** Validation options from the two config keys every trainable plugin has. */
export function validationOptions(protocol: string, users: number): ValidateOptions {
  if (protocol !== "full" && protocol !== "task") {
    throw new RangeError(`Expected validProtocol "full" or "task" but found "${protocol}"`);
  }
  if (!Number.isInteger(users) || users < 0) {
    throw new RangeError(`Expected validUsers to be an integer >= 0 but found ${users}`);
  }
  return { protocol, maxUsers: users === 0 ? Infinity : users };
}

/**
 * Trains with early stopping; leaves the best epoch's parameters in place.
 *
 * @example
 * ```ts ignore
 * const result = await fitPairwise(ctx, {
 *   label: "bprmf", batchSize: 2048, maxEpochs: 300, patience: 10,
 *   validProtocol: "full", validUsers: 0,
 *   step: (batch, weights) => trainStep(batch, weights),
 *   scorer: () => currentScorer(),
 *   snapshot: () => store.clone(), restore: (s) => copyInto(store, s),
 * });
 * ```
 */
export async function fitPairwise<S>(
  ctx: FitContext,
  options: PairwiseFitOptions<S>,
): Promise<PairwiseFitResult> {
  const sampler = new PairwiseSampler(ctx.split, {
    batchSize: options.batchSize,
    negatives: options.negatives ?? 1,
  });
  const validate = validationOptions(options.validProtocol, options.validUsers);
  // One stream for the whole fit: epoch e's batches depend on the seed only.
  const rng = ctx.rng.fork("pairwise-sampler");
  const weights = new Float32Array(options.batchSize);
  let filled = -1;
  let peak = 0;
  const sampleRss = () => (peak = Math.max(peak, Deno.memoryUsage().rss));
  const result = await fitWithEarlyStopping({
    label: options.label,
    maxEpochs: options.maxEpochs,
    patience: options.patience,
    progress: ctx.progress,
    signal: ctx.signal,
    runEpoch: async (epoch) => {
      ctx.progress.start(`${options.label} epoch ${epoch}`, sampler.batches);
      let total = 0, count = 0, b = 0;
      for (const batch of sampler.epoch(rng)) {
        ctx.signal?.throwIfAborted();
        if (batch.size !== filled) {
          weights.fill(1, 0, batch.size).fill(0, batch.size);
          filled = batch.size;
        }
        const loss = await options.step(batch, weights);
        total += loss * batch.size;
        count += batch.size;
        if (b++ % 16 === 0) sampleRss();
        ctx.progress.tick();
      }
      ctx.progress.done();
      sampleRss();
      return total / count;
    },
    validate: async () => {
      const metrics = await ctx.validate(await options.scorer(), validate);
      sampleRss();
      return metrics;
    },
    snapshot: options.snapshot,
    restore: options.restore,
  });
  return { ...result, peakRssMiB: Math.round(peak / 2 ** 20) };
}

/**
 * Facts about a fit worth recording with its result. `train_log` keeps each
 * epoch's training loss and validation metrics, so that a report can draw
 * the learning curve without rerunning the fit.
 */
export function fitInfo(result: PairwiseFitResult): Record<string, unknown> {
  const ms = (s: number) => Math.round(s * 1000) / 1000;
  return {
    best_epoch: result.bestEpoch,
    epochs_run: result.epochsRun,
    median_epoch_s: ms(result.medianEpochSeconds),
    peak_rss_mib: result.peakRssMiB,
    best_valid: result.bestMetrics,
    train_log: result.log.map((e) => ({ ...e, seconds: ms(e.seconds) })),
  };
}

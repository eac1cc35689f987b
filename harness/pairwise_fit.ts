/**
 * Fitting on pairwise samples (user, positive, negatives), as the embedding
 * baselines do: what their epochs of the shared loop (`epoch_loop.ts`) are.
 * An epoch is seeded batches over the training split, one optimisation
 * step per batch; validation is the NDCG@10 of the protocol the config asks
 * for, maximised with early stopping and the best epoch kept in memory.
 * Model-agnostic: the plugin supplies the step and a scorer.
 *
 * @module
 */
import { checkLoss, epochLoop, type EpochRun, memoryCheckpoint } from "./epoch_loop.ts";
import type { FitContext, Scorer, ValidateOptions } from "./plugin.ts";
import { type PairwiseBatch, PairwiseSampler } from "./sampling.ts";

/** What {@linkcode fitRanked} needs besides an epoch's training. */
export interface RankedFitOptions<S> {
  /** Name shown in log lines. */
  readonly label: string;
  readonly maxEpochs: number;
  /** Epochs without a better validation NDCG@10 before stopping. */
  readonly patience: number;
  /** `full`: all items, training items excluded (RecBole's selection); `task`: the cell's protocol. */
  readonly validProtocol: string;
  /** Validation users (a fixed seeded subset); 0 = all. */
  readonly validUsers: number;
  /** A scorer over the current parameters (for validation). */
  scorer(): Promise<Scorer>;
  snapshot(): S;
  restore(state: S): void;
}

/** Options of {@linkcode fitPairwise}. */
export interface PairwiseFitOptions<S> extends RankedFitOptions<S> {
  readonly batchSize: number;
  /** Negatives per positive. @default 1 */
  readonly negatives?: number;
  /**
   * One optimisation step; returns the batch loss. `weights` is 1 for the
   * batch's real samples and 0 for the wrapped padding of the last batch,
   * so a weighted mean equals the mean over real samples.
   */
  step(batch: PairwiseBatch, weights: Float32Array): Promise<number>;
}

/** The validation metric early stopping maximises. */
const METRIC = "NDCG@10";

/** One epoch's line of the training log. */
export interface PairwiseEpoch {
  readonly epoch: number;
  /** Mean training loss over the epoch's samples. */
  readonly loss: number;
  /** Validation metrics after the epoch. */
  readonly metrics: Record<string, number>;
  /** Seconds of training (validation excluded). */
  readonly seconds: number;
}

/** What {@linkcode fitPairwise} found, plus memory. */
export interface PairwiseFitResult {
  readonly bestEpoch: number;
  readonly epochsRun: number;
  /** Validation metrics of the best epoch. */
  readonly bestMetrics: Record<string, number>;
  readonly log: readonly PairwiseEpoch[];
  /** Median seconds of the training part of an epoch (validation excluded). */
  readonly medianEpochSeconds: number;
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
    values: ["full", "task"],
  },
  validUsers: {
    default: 0,
    doc: "validation users per epoch (a seeded subset); 0 = all",
    legacy: "valid_users",
  },
};

/**
 * The `adamRows` key of the embedding baselines whose gradients arrive by
 * table rows (BPR-MF, SimpleX). Records made before it ran the dense rule.
 */
export const ADAM_ROWS_KEY = {
  default: "dense",
  doc: "dense: Adam moves every row every step (torch.optim.Adam, RecBole's); " +
    "sparse: only the rows a batch touched (torch.optim.SparseAdam)",
  values: ["dense", "sparse"],
  variant: 1,
  addedAt: "dense",
};

/** The update rule an `adamRows` value names. */
export function adamRows(value: string): "dense" | "sparse" {
  if (value !== "dense" && value !== "sparse") {
    throw new RangeError(`Expected adamRows "dense" or "sparse" but found "${value}"`);
  }
  return value;
}

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
export function fitPairwise<S>(
  ctx: FitContext,
  options: PairwiseFitOptions<S>,
): Promise<PairwiseFitResult> {
  const sampler = new PairwiseSampler(ctx.split, {
    batchSize: options.batchSize,
    negatives: options.negatives ?? 1,
  });
  // One stream for the whole fit: epoch e's batches depend on the seed only.
  const rng = ctx.rng.fork("pairwise-sampler");
  const weights = new Float32Array(options.batchSize);
  let filled = -1;
  return fitRanked(ctx, options, async (run, sampleRss) => {
    let total = 0, count = 0, b = 0;
    for (const batch of run.steps(sampler.epoch(rng), sampler.batches)) {
      if (batch.size !== filled) {
        weights.fill(1, 0, batch.size).fill(0, batch.size);
        filled = batch.size;
      }
      const loss = await options.step(batch, weights);
      total += loss * batch.size;
      count += batch.size;
      if (b++ % 16 === 0) sampleRss();
    }
    return total / count;
  });
}

/**
 * The shared loop with validation NDCG@10 maximised, the best epoch kept in
 * memory, and the log and summary every ranking model records (`fitInfo`).
 * `train` runs one epoch and returns its mean loss; it calls `sampleRss`
 * now and then so that the peak RSS covers the epoch, not only its end.
 * Both the pairwise fit above and the sequence models' fit
 * (`models/seq_fit.ts`) are this loop with their own epochs.
 */
export async function fitRanked<S>(
  ctx: FitContext,
  options: RankedFitOptions<S>,
  train: (run: EpochRun, sampleRss: () => void) => Promise<number>,
): Promise<PairwiseFitResult> {
  const { label } = options;
  const validate = validationOptions(options.validProtocol, options.validUsers);
  let peak = 0;
  const sampleRss = () => {
    peak = Math.max(peak, Deno.memoryUsage().rss);
  };
  const result = await epochLoop<number, Record<string, number>, PairwiseEpoch>({
    label,
    maxEpochs: options.maxEpochs,
    patience: options.patience,
    goal: "max",
    train: async (run) => {
      const loss = await train(run, sampleRss);
      sampleRss();
      return checkLoss(label, run.epoch, loss);
    },
    validate: async () => {
      const metrics = await ctx.validate(await options.scorer(), validate);
      sampleRss();
      return metrics;
    },
    score: (metrics) => metrics[METRIC],
    // Training seconds alone: `median_epoch_s` measures training, whatever validation costs.
    entry: ({ epoch, trained, validated, trainSeconds }) => ({
      epoch,
      loss: trained,
      metrics: validated,
      seconds: trainSeconds,
    }),
    line: ({ epoch, trained, validated, trainSeconds, best }) => {
      const shown = validated[METRIC] === undefined
        ? ""
        : ` valid ${METRIC} ${validated[METRIC].toFixed(4)}`;
      return `${label} epoch ${epoch}: loss ${trained.toFixed(5)}${shown} ${
        trainSeconds.toFixed(2)
      }s${best ? " *" : ""}`;
    },
    checkpoint: memoryCheckpoint(options.snapshot, options.restore),
    progress: ctx.progress,
    signal: ctx.signal,
  });
  const times = result.log.map((l) => l.seconds).sort((a, b) => a - b);
  return {
    bestEpoch: result.bestEpoch,
    epochsRun: result.epochsRun,
    bestMetrics: result.log.find((l) => l.epoch === result.bestEpoch)?.metrics ?? {},
    log: result.log,
    medianEpochSeconds: times.length ? times[Math.floor(times.length / 2)] : 0,
    peakRssMiB: Math.round(peak / 2 ** 20),
  };
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

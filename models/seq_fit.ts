/**
 * Fitting a sequential recommender: its epochs of the shared loop
 * (`harness/epoch_loop.ts`), as `harness/pairwise_fit.ts` does for the
 * embedding baselines, with the same keys (`epochs`, `patience`,
 * `validProtocol`, `validUsers`), the same model selection (validation
 * NDCG@10, by default over all items with training items excluded) and the
 * same record of the fit (`fitInfo`). What differs is the batch: the model
 * draws each epoch's batches itself (packed user sequences, cloze masks,
 * windows) and a step reports how many positions its loss averaged over,
 * so that an epoch's loss is the mean over positions.
 *
 * @module
 */
import { checkLoss, epochLoop, memoryCheckpoint } from "../harness/epoch_loop.ts";
import {
  type PairwiseEpoch,
  type PairwiseFitResult,
  validationOptions,
} from "../harness/pairwise_fit.ts";
import type { FitContext, Scorer } from "../harness/plugin.ts";
import type { Rng } from "../kernels/mod.ts";

/** What one step returns: the mean loss over its positions, and how many there were. */
export interface StepLoss {
  readonly loss: number;
  readonly positions: number;
}

/** Options of {@linkcode fitSequence}. */
export interface SequenceFitOptions<B, S> {
  /** Name shown in log lines. */
  readonly label: string;
  readonly maxEpochs: number;
  readonly patience: number;
  readonly validProtocol: string;
  readonly validUsers: number;
  /** One epoch's batches, drawn with `rng` (one stream for the whole fit). */
  batches(rng: Rng): readonly B[];
  step(batch: B): Promise<StepLoss>;
  /** A scorer over the current parameters (for validation). */
  scorer(): Promise<Scorer>;
  snapshot(): S;
  restore(state: S): void;
}

const METRIC = "NDCG@10";

/**
 * Trains with early stopping on validation NDCG@10; leaves the best
 * epoch's parameters in place. The result has the embedding baselines'
 * shape, so `fitInfo` records it the same way.
 *
 * @example
 * ```ts ignore
 * const result = await fitSequence(ctx, {
 *   label: "sasrec", maxEpochs: 300, patience: 10, validProtocol: "full", validUsers: 0,
 *   batches: (rng) => packedBatches(rng), step: (b) => trainStep(b),
 *   scorer: () => currentScorer(), snapshot: () => copyParams(), restore: (s) => putBack(s),
 * });
 * ```
 */
export async function fitSequence<B, S>(
  ctx: FitContext,
  options: SequenceFitOptions<B, S>,
): Promise<PairwiseFitResult> {
  const { label } = options;
  const validate = validationOptions(options.validProtocol, options.validUsers);
  const rng = ctx.rng.fork("sequence-batches");
  let peak = 0;
  const sampleRss = () => (peak = Math.max(peak, Deno.memoryUsage().rss));
  const result = await epochLoop<number, Record<string, number>, PairwiseEpoch>({
    label,
    maxEpochs: options.maxEpochs,
    patience: options.patience,
    goal: "max",
    train: async (run) => {
      const batches = options.batches(rng);
      let total = 0, count = 0, b = 0;
      for (const batch of run.steps(batches, batches.length)) {
        const { loss, positions } = await options.step(batch);
        total += loss * positions;
        count += positions;
        if (b++ % 16 === 0) sampleRss();
      }
      sampleRss();
      return checkLoss(label, run.epoch, count ? total / count : 0);
    },
    validate: async () => {
      const metrics = await ctx.validate(await options.scorer(), validate);
      sampleRss();
      return metrics;
    },
    score: (metrics) => metrics[METRIC],
    entry: ({ epoch, trained, validated, trainSeconds }) => ({
      epoch,
      loss: trained,
      metrics: validated,
      seconds: trainSeconds,
    }),
    line: ({ epoch, trained, validated, trainSeconds, best }) =>
      `${label} epoch ${epoch}: loss ${trained.toFixed(5)} valid ${METRIC} ${
        (validated[METRIC] ?? NaN).toFixed(4)
      } ${trainSeconds.toFixed(2)}s${best ? " *" : ""}`,
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

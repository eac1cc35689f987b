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
import {
  fitRanked,
  type PairwiseFitResult,
  type RankedFitOptions,
} from "../harness/pairwise_fit.ts";
import type { FitContext } from "../harness/plugin.ts";
import type { Rng } from "../kernels/mod.ts";

/** What one step returns: the mean loss over its positions, and how many there were. */
export interface StepLoss {
  readonly loss: number;
  readonly positions: number;
}

/** Options of {@linkcode fitSequence}. */
export interface SequenceFitOptions<B, S> extends RankedFitOptions<S> {
  /** One epoch's batches, drawn with `rng` (one stream for the whole fit). */
  batches(rng: Rng): readonly B[];
  step(batch: B): Promise<StepLoss>;
}

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
export function fitSequence<B, S>(
  ctx: FitContext,
  options: SequenceFitOptions<B, S>,
): Promise<PairwiseFitResult> {
  const rng = ctx.rng.fork("sequence-batches");
  return fitRanked(ctx, options, async (run, sampleRss) => {
    const batches = options.batches(rng);
    let total = 0, count = 0, b = 0;
    for (const batch of run.steps(batches, batches.length)) {
      const { loss, positions } = await options.step(batch);
      total += loss * positions;
      count += positions;
      if (b++ % 16 === 0) sampleRss();
    }
    return count ? total / count : 0;
  });
}

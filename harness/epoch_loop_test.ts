import assert from "node:assert/strict";
import {
  checkLoss,
  type EpochCheckpoint,
  epochLoop,
  type EpochLoopOptions,
  type LoopState,
  memoryCheckpoint,
} from "./epoch_loop.ts";
import { type Progress, silentProgress } from "./progress.ts";
import { createRng } from "../kernels/mod.ts";

/**
 * A scripted stand-in model: an epoch is three batches, each adding a draw
 * from the epoch's own stream to `w`; the validation loss after `epochs`
 * epochs is read from a script.
 */
interface Model {
  epochs: number;
  w: number;
}

interface Entry {
  readonly epoch: number;
  readonly w: number;
  readonly valid: number;
  readonly seconds: number;
}

/** Lowest after epoch 4; with patience 2, early stopping ends after epoch 6. */
const SCRIPT = [5, 3, 4, 2, 2.5, 2.6, 2.7, 3];

/** Options of a run of the stand-in; `onBatch` sees every batch (to abort). */
function standIn(
  model: Model,
  overrides: Partial<EpochLoopOptions<number, number, Entry>> & { onBatch?: () => void } = {},
): EpochLoopOptions<number, number, Entry> {
  return {
    label: "t",
    maxEpochs: SCRIPT.length,
    patience: 2,
    goal: "min",
    train: async (run) => {
      const rng = createRng(0).fork(`epoch:${run.epoch}`);
      for (const _ of run.steps([0, 1, 2], 3)) {
        overrides.onBatch?.();
        model.w += rng.next();
        await Promise.resolve();
      }
      model.epochs++;
      return model.w;
    },
    validate: () => Promise.resolve(SCRIPT[model.epochs - 1]),
    score: (valid) => valid,
    entry: ({ epoch, trained, validated }) => ({ epoch, w: trained, valid: validated, seconds: 0 }),
    line: ({ epoch, validated, best }) => `t epoch ${epoch}: valid ${validated}${best ? " *" : ""}`,
    checkpoint: memoryCheckpoint(() => ({ ...model }), (saved) => Object.assign(model, saved)),
    progress: silentProgress,
    ...overrides,
  };
}

/** A checkpoint that outlives its run, as a directory does: `disk` stands in for the files. */
function storedCheckpoint(disk: Map<string, unknown>, model: Model): EpochCheckpoint<Entry> {
  return {
    location: "disk",
    setting: "checkpointDir",
    resume() {
      const state = disk.get("state") as LoopState<Entry> | undefined;
      if (!state) return Promise.resolve(undefined);
      Object.assign(model, disk.get("model"));
      return Promise.resolve(structuredClone(state));
    },
    save(state, best) {
      if (best) disk.set("best", { ...model });
      disk.set("model", { ...model });
      disk.set("state", structuredClone(state));
      return Promise.resolve();
    },
    restoreBest() {
      Object.assign(model, disk.get("best"));
      return Promise.resolve();
    },
  };
}

function recorder(lines: string[]): Progress {
  return { ...silentProgress, log: (line) => lines.push(line) };
}

/** The model's `w` after epoch `e` of an uninterrupted run. */
async function wAfter(e: number): Promise<number> {
  const model = { epochs: 0, w: 0 };
  await epochLoop(standIn(model, { maxEpochs: e, keep: "last" }));
  return model.w;
}

Deno.test("epochLoop() stops after `patience` epochs without a better score and restores the best epoch", async () => {
  const model = { epochs: 0, w: 0 };
  const lines: string[] = [];
  const result = await epochLoop(standIn(model, { progress: recorder(lines) }));
  assert.deepEqual([result.bestEpoch, result.epochsRun, result.bestScore], [4, 6, 2]);
  assert.deepEqual(result.log.map((e) => e.valid), [5, 3, 4, 2, 2.5, 2.6]);
  assert.deepEqual(model, { epochs: 4, w: await wAfter(4) });
  assert.deepEqual(lines.slice(2, 5), [
    "t epoch 3: valid 4",
    "t epoch 4: valid 2 *",
    "t epoch 5: valid 2.5",
  ]);
});

Deno.test("epochLoop() with keep 'last' runs every epoch and keeps the last one's parameters", async () => {
  const model = { epochs: 0, w: 0 };
  const result = await epochLoop(standIn(model, { keep: "last" }));
  assert.deepEqual([result.bestEpoch, result.epochsRun], [4, 8]);
  assert.deepEqual(model, { epochs: 8, w: await wAfter(8) });
});

Deno.test("epochLoop() maximises a metric with goal 'max'", async () => {
  const model = { epochs: 0, w: 0 };
  const result = await epochLoop(standIn(model, { goal: "max", patience: 3 }));
  // 5 after epoch 1 is never beaten: three epochs later it stops.
  assert.deepEqual([result.bestEpoch, result.epochsRun, model.epochs], [1, 4, 1]);
});

Deno.test("epochLoop() resumed after an interruption ends as an uninterrupted run does", async () => {
  const straightModel = { epochs: 0, w: 0 };
  const straightDisk = new Map<string, unknown>();
  const straight = await epochLoop(
    standIn(straightModel, { checkpoint: storedCheckpoint(straightDisk, straightModel) }),
  );

  // Interrupted in the second batch of epoch 6: epochs 1 to 5 are on disk, one since the best.
  const disk = new Map<string, unknown>();
  const controller = new AbortController();
  let batches = 0;
  const first = { epochs: 0, w: 0 };
  await assert.rejects(
    () =>
      epochLoop(standIn(first, {
        checkpoint: storedCheckpoint(disk, first),
        signal: controller.signal,
        onBatch: () => ++batches === 17 && controller.abort(),
      })),
    { name: "AbortError" },
  );
  const saved = disk.get("state") as LoopState<Entry>;
  assert.deepEqual([saved.epoch, saved.bestEpoch, saved.sinceBest], [5, 4, 1]);

  // A new process: a fresh model, the same disk.
  const lines: string[] = [];
  const second = { epochs: 0, w: 0 };
  const resumed = await epochLoop(
    standIn(second, { checkpoint: storedCheckpoint(disk, second), progress: recorder(lines) }),
  );
  assert.equal(lines[0], "t: resuming after epoch 5 from disk");
  assert.equal(resumed.resumedFrom, 5);
  assert.deepEqual({ ...resumed, resumedFrom: 0 }, straight);
  assert.deepEqual(second, straightModel);
  assert.deepEqual(disk, straightDisk);

  // Run again: nothing left to train (patience ran out), the best epoch's parameters.
  const third = { epochs: 0, w: 0 };
  const again = await epochLoop(standIn(third, { checkpoint: storedCheckpoint(disk, third) }));
  assert.deepEqual([again.resumedFrom, again.epochsRun, third], [6, 6, straightModel]);
});

Deno.test("epochLoop() refuses a checkpoint that no longer holds the epoch to keep", async () => {
  const disk = new Map<string, unknown>();
  const model = { epochs: 0, w: 0 };
  await epochLoop(standIn(model, { keep: "last", checkpoint: storedCheckpoint(disk, model) }));
  const fewer = (keep: "best" | "last", maxEpochs: number) => {
    const m = { epochs: 0, w: 0 };
    return epochLoop(standIn(m, { keep, maxEpochs, checkpoint: storedCheckpoint(disk, m) }));
  };
  await assert.rejects(
    () => fewer("last", 5),
    /t: disk holds 8 epochs, so the last of the first 5 is gone; raise epochs or set another checkpointDir/,
  );
  await assert.rejects(
    () => fewer("best", 3),
    /the best at epoch 4, so the best of the first 3 is gone/,
  );
  assert.equal((await fewer("best", 5)).bestEpoch, 4);
});

Deno.test("epochLoop() stops at once when aborted, before or within an epoch", async () => {
  const model = { epochs: 0, w: 0 };
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    () => epochLoop(standIn(model, { signal: controller.signal })),
    { name: "AbortError" },
  );
  assert.deepEqual(model, { epochs: 0, w: 0 });

  const within = new AbortController();
  let batches = 0;
  await assert.rejects(
    () =>
      epochLoop(standIn(model, {
        signal: within.signal,
        onBatch: () => ++batches === 2 && within.abort(),
      })),
    { name: "AbortError" },
  );
  // The second batch ran; the third never started.
  assert.equal(batches, 2);
  assert.equal(model.epochs, 0);
});

Deno.test("epochLoop() refuses a non-finite training loss with advice", async () => {
  const model = { epochs: 0, w: 0 };
  await assert.rejects(
    () =>
      epochLoop(
        standIn(model, { train: (run) => Promise.resolve(checkLoss("t", run.epoch, NaN)) }),
      ),
    /t: the training loss became NaN in epoch 1; lower the learning rate/,
  );
});

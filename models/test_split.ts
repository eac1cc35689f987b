/**
 * The small synthetic split the model tests train on (hash "test", so
 * checkpoint keys and caches never collide with a real dataset's).
 *
 * @module
 */

import { historyAt } from "../harness/evaluate.ts";
import type { FitContext } from "../harness/plugin.ts";
import { silentProgress } from "../harness/progress.ts";
import type { Rng } from "../kernels/mod.ts";
import { buildSplitRaw } from "../harness/split.ts";
import { generateSynthetic } from "../harness/synthetic.ts";
import type { Split, Task } from "../harness/types.ts";

/** A seeded synthetic split of `users` x `items`. */
export async function tinySplit(users = 40, items = 150): Promise<Split> {
  const data = await generateSynthetic({ users, items });
  return { ...buildSplitRaw(data, { seed: 0 }), hash: "test" };
}

/**
 * A quiet fit context on `split` (seed 0, CPU, 2 threads), as the runner
 * would build it; `rng` serves as the cell's and the shared generator.
 */
export function testContext(split: Split, task: Task, rng: Rng): FitContext {
  return {
    split,
    task,
    seed: 0,
    rng,
    sharedRng: rng,
    device: "cpu",
    threads: 2,
    progress: silentProgress,
    history: (u, stage) => historyAt(split, u, stage),
    validate: () => Promise.resolve({}),
  };
}

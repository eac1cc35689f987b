/**
 * The small synthetic split the model tests train on (hash "test", so
 * checkpoint keys and caches never collide with a real dataset's).
 *
 * @module
 */

import { buildSplitRaw } from "../harness/split.ts";
import { generateSynthetic } from "../harness/synthetic.ts";
import type { Split } from "../harness/types.ts";

/** A seeded synthetic split of `users` x `items`. */
export async function tinySplit(users = 40, items = 150): Promise<Split> {
  const data = await generateSynthetic({ users, items });
  return { ...buildSplitRaw(data, { seed: 0 }), hash: "test" };
}

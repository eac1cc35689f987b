/**
 * `pop`: scores an item by how many users interacted with it in the training
 * split. With uniform negatives it is a strong direct-protocol baseline.
 *
 * @module
 */
import { definePlugin, type FitContext, type Scorer } from "../harness/plugin.ts";

/** Item popularity in the training split. */
export const pop = definePlugin({
  name: "pop",
  description: "Item popularity in the training split",
  tasks: ["direct", "sequential"],
  keys: {},
  requires: ["train-interactions"],
  fit(ctx: FitContext): Promise<Scorer> {
    const { split } = ctx;
    const counts = new Float32Array(split.nItems + 1);
    const items = split.train.values;
    for (let i = 0; i < items.length; i++) counts[items[i]]++;
    // Item 0 does not exist; it must never outrank a real item.
    counts[0] = -Infinity;
    return Promise.resolve({
      scoreCandidates({ candidates }) {
        const out = new Float32Array(candidates.length);
        for (let i = 0; i < candidates.length; i++) out[i] = counts[candidates[i]];
        return Promise.resolve(out);
      },
      scoreAll({ userRows }) {
        const out = new Float32Array(userRows.length * counts.length);
        for (let i = 0; i < userRows.length; i++) out.set(counts, i * counts.length);
        return Promise.resolve(out);
      },
    });
  },
});

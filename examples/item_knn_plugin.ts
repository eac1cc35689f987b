/**
 * A complete external plugin: item-to-item co-occurrence ("people who took
 * your last item also took ..."). Run it beside the built-ins with
 *
 *   ./elmbench run --data synthetic --task direct \
 *     --models pop,itemcooc --plugin ./examples/item_knn_plugin.ts
 *
 * It only imports the public API (`mod.ts`).
 *
 * @module
 */
import { definePlugin, type FitContext, row, type Scorer } from "../mod.ts";

export default definePlugin({
  name: "itemcooc",
  description: "Co-occurrence with the user's last few items (example plugin)",
  tasks: ["direct", "sequential"],
  keys: {
    lastItems: { default: 3, doc: "history items that vote" },
    popularityWeight: { default: 0.01, doc: "weight of popularity ties" },
  },
  presets: { tiny: { lastItems: 2 } },
  requires: ["train-sequences"],
  fit(ctx: FitContext, config): Promise<Scorer> {
    const { split } = ctx;
    const n = split.nItems + 1;
    // Successor counts: how often item b directly follows item a in training sequences.
    const next = new Map<number, Map<number, number>>();
    const popularity = new Float32Array(n);
    for (let u = 0; u < split.nUsers; u++) {
      const items = row(split.train, u);
      for (let i = 0; i < items.length; i++) {
        popularity[items[i]]++;
        if (i + 1 < items.length) {
          const m = next.get(items[i]) ?? new Map<number, number>();
          m.set(items[i + 1], (m.get(items[i + 1]) ?? 0) + 1);
          next.set(items[i], m);
        }
      }
    }
    const userScores = (u: number, stage: "valid" | "test"): Float32Array => {
      const s = new Float32Array(n);
      for (let i = 1; i < n; i++) s[i] = config.popularityWeight * popularity[i];
      const history = ctx.history(u, stage);
      for (const item of history.slice(-config.lastItems)) {
        for (const [b, c] of next.get(item) ?? []) s[b] += c;
      }
      s[0] = -Infinity;
      return s;
    };
    return Promise.resolve({
      scoreCandidates({ userRows, candidates, perUser, stage }) {
        const out = new Float32Array(candidates.length);
        userRows.forEach((u, i) => {
          const s = userScores(u, stage);
          for (let j = 0; j < perUser; j++) out[i * perUser + j] = s[candidates[i * perUser + j]];
        });
        return Promise.resolve(out);
      },
      scoreAll({ userRows, stage }) {
        const out = new Float32Array(userRows.length * n);
        userRows.forEach((u, i) => out.set(userScores(u, stage), i * n));
        return Promise.resolve(out);
      },
    });
  },
});

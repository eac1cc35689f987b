/**
 * `idleak`: the next-consecutive-id heuristic that exposes the first leak of
 * the P5-layout data (methods.md, section 1). Item ids were numbered by first
 * appearance over users, so a user's next item is often `max(history) + 1`.
 * The heuristic ranks `max + 1, max + 2, ...` (skipping history items) first,
 * then every other item in a tie. It learns nothing; whatever it scores is
 * leak. Under `--reindex random` it must collapse to chance.
 *
 * @module
 */
import { definePlugin, type FitContext, type Scorer } from "../harness/plugin.ts";
import type { Stage } from "../harness/types.ts";

/** Score of an item the heuristic does not rank: they all tie, last. */
const UNRANKED = -Infinity;

/** The id-leak heuristic: predict `max(history) + 1, + 2, ...`. */
export const idleak = definePlugin({
  name: "idleak",
  description: "Leak probe: ranks max(history)+1, +2, ... first (no learning)",
  tasks: ["direct", "sequential"],
  keys: {},
  requires: ["item-ids"],
  fit(ctx: FitContext): Promise<Scorer> {
    const nItems = ctx.split.nItems;
    // A stamp per item marks the current user's history without a Set per user.
    const stamp = new Int32Array(nItems + 1);
    let mark = 0;
    const prepare = (u: number, stage: Stage): number => {
      const history = ctx.history(u, stage);
      mark++;
      let max = 0;
      for (let i = 0; i < history.length; i++) {
        stamp[history[i]] = mark;
        if (history[i] > max) max = history[i];
      }
      return max;
    };
    const score = (item: number, max: number) =>
      item > max && stamp[item] !== mark ? -(item - max) : UNRANKED;
    const scoreRow = (u: number, stage: Stage, out: Float32Array, items?: Int32Array) => {
      const max = prepare(u, stage);
      if (items) {
        for (let j = 0; j < items.length; j++) out[j] = score(items[j], max);
        return;
      }
      out.fill(UNRANKED, 0, max + 1);
      for (let item = max + 1; item <= nItems; item++) out[item] = score(item, max);
    };
    return Promise.resolve({
      scoreCandidates({ userRows, candidates, perUser, stage }) {
        const out = new Float32Array(candidates.length);
        for (let i = 0; i < userRows.length; i++) {
          const at = i * perUser;
          scoreRow(
            userRows[i],
            stage,
            out.subarray(at, at + perUser),
            candidates.subarray(at, at + perUser),
          );
        }
        return Promise.resolve(out);
      },
      scoreAll({ userRows, stage }) {
        const width = nItems + 1;
        const out = new Float32Array(userRows.length * width);
        for (let i = 0; i < userRows.length; i++) {
          scoreRow(userRows[i], stage, out.subarray(i * width, (i + 1) * width));
        }
        return Promise.resolve(out);
      },
    });
  },
});

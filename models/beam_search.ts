/**
 * Beam search over a step function, Hugging Face style: each row keeps
 * `beams` live hypotheses; a candidate ending in eos among the top `beams`
 * of a step is finished with score `sum(log p) / length^lengthPenalty`; at
 * the maximum length the live hypotheses are finished as they are. A
 * {@linkcode TokenTrie} can restrict every step to valid continuations
 * (constrained decoding).
 *
 * @module
 */

/** Options of {@linkcode beamSearch}. */
export interface BeamSearchOptions {
  readonly beams: number;
  /** Hypotheses returned per row, best first. @default beams */
  readonly returns?: number;
  /** Generated tokens at most (eos included). */
  readonly maxLength: number;
  /** @default 1 */
  readonly eos?: number;
  /** HF's `length_penalty`. @default 1 */
  readonly lengthPenalty?: number;
  /** Valid next tokens of row `r` after `prefix` (null: any). */
  readonly allowed?: (r: number, prefix: readonly number[]) => readonly number[] | null;
}

/** A finished hypothesis. */
export interface Hypothesis {
  readonly tokens: number[];
  readonly score: number;
}

/**
 * Log-probabilities `[rows * beams, vocab]` of the next token after each
 * prefix; `prefixes` is `[rows * beams, t]` (generated tokens only, `t` may
 * be 0). Dead beams carry any prefix; their output is ignored. `parents[i]`
 * is the row of the previous step that prefix `i` extends (-1 at `t = 0` and
 * for dead beams), so a step can reorder cached state.
 */
export type StepFn = (
  prefixes: readonly (readonly number[])[],
  t: number,
  parents: Int32Array,
) => Promise<Float32Array>;

interface Live {
  tokens: number[];
  logp: number;
  /** The row this hypothesis's prefix was fed at in the previous step. */
  parent: number;
}

/**
 * Runs beam search for `rows` independent rows.
 *
 * @example
 * ```ts
 * import { beamSearch } from "./beam_search.ts";
 * // Vocabulary {0: a, 1: eos}; "a" then eos is the most likely sequence.
 * const step = (p: readonly (readonly number[])[]) =>
 *   Promise.resolve(Float32Array.from(p.flatMap((s) => s.length ? [Math.log(0.2), Math.log(0.8)] : [Math.log(0.9), Math.log(0.1)])));
 * const [[best]] = await beamSearch(1, step, { beams: 2, maxLength: 3 });
 * console.log(best.tokens); // [0, 1]
 * ```
 */
export async function beamSearch(
  rows: number,
  step: StepFn,
  options: BeamSearchOptions,
): Promise<Hypothesis[][]> {
  const { beams, maxLength, eos = 1, lengthPenalty = 1, allowed } = options;
  const returns = options.returns ?? beams;
  const live: Live[][] = Array.from({ length: rows }, () => [{ tokens: [], logp: 0, parent: -1 }]);
  const finished: Hypothesis[][] = Array.from({ length: rows }, () => []);
  const done = new Array<boolean>(rows).fill(false);
  const finish = (r: number, tokens: number[], logp: number) => {
    const list = finished[r];
    list.push({ tokens, score: logp / Math.max(1, tokens.length) ** lengthPenalty });
    list.sort((a, b) => b.score - a.score);
    if (list.length > beams) list.pop();
  };
  for (let t = 0; t < maxLength; t++) {
    if (done.every(Boolean)) break;
    const prefixes: (readonly number[])[] = [];
    const parents = new Int32Array(rows * beams).fill(-1);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < beams; j++) {
        const h = live[r][j];
        const ok = h !== undefined && h.tokens.length === t;
        prefixes.push(ok ? h.tokens : new Array<number>(t).fill(0));
        if (ok) parents[r * beams + j] = h.parent;
      }
    }
    const logp = await step(prefixes, t, parents);
    const vocab = logp.length / (rows * beams);
    for (let r = 0; r < rows; r++) {
      if (done[r]) continue;
      // Candidates: the 2 * beams best continuations over all live beams.
      const cands: { beam: number; token: number; logp: number }[] = [];
      live[r].forEach((h, j) => {
        const base = (r * beams + j) * vocab;
        const tokens = allowed?.(r, h.tokens) ?? null;
        const pick = (v: number) => {
          const s = h.logp + logp[base + v];
          if (s > -Infinity) cands.push({ beam: j, token: v, logp: s });
        };
        if (tokens) tokens.forEach(pick);
        else for (let v = 0; v < vocab; v++) pick(v);
        if (cands.length > 8 * beams) prune(cands, 2 * beams);
      });
      prune(cands, 2 * beams);
      const next: Live[] = [];
      for (let rank = 0; rank < cands.length && next.length < beams; rank++) {
        const c = cands[rank];
        const tokens = [...live[r][c.beam].tokens, c.token];
        if (c.token === eos) {
          if (rank < beams) finish(r, tokens, c.logp);
        } else next.push({ tokens, logp: c.logp, parent: r * beams + c.beam });
      }
      live[r] = next;
      const last = t === maxLength - 1;
      if (last) { for (const h of next) finish(r, h.tokens, h.logp); }
      // Log-probs only fall, so with no length bonus a full list cannot improve.
      const worst = finished[r][beams - 1]?.score ?? -Infinity;
      const best = next.length ? next[0].logp / (t + 1) ** lengthPenalty : -Infinity;
      if (
        last || next.length === 0 ||
        (finished[r].length >= beams && best <= worst && lengthPenalty <= 0)
      ) {
        done[r] = true;
      }
    }
  }
  return finished.map((list) => list.slice(0, returns));
}

/** Keeps the `n` best candidates, sorted best first (ties: earlier beam, lower token). */
function prune(cands: { beam: number; token: number; logp: number }[], n: number): void {
  cands.sort((a, b) => b.logp - a.logp || a.beam - b.beam || a.token - b.token);
  cands.length = Math.min(cands.length, n);
}

/**
 * A prefix trie over token sequences (each ending in eos): the valid next
 * tokens after any prefix.
 *
 * @example
 * ```ts
 * import { TokenTrie } from "./beam_search.ts";
 * const trie = new TokenTrie([[5, 6, 1], [5, 7, 1]]);
 * console.log(trie.next([5])); // [6, 7]
 * ```
 */
export class TokenTrie {
  readonly #root = new Map<number, unknown>();

  constructor(sequences: Iterable<readonly number[]>) {
    for (const seq of sequences) {
      let node = this.#root;
      for (const t of seq) {
        let child = node.get(t) as Map<number, unknown> | undefined;
        if (!child) node.set(t, child = new Map());
        node = child;
      }
    }
  }

  /** Valid next tokens after `prefix` (empty when the prefix is not in the trie). */
  next(prefix: readonly number[]): number[] {
    let node: Map<number, unknown> | undefined = this.#root;
    for (const t of prefix) {
      node = node.get(t) as Map<number, unknown> | undefined;
      if (!node) return [];
    }
    return [...node.keys()];
  }
}

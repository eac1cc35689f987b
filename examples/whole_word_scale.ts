/**
 * How large ELMRec's graph-aware whole-word vectors are at initialisation,
 * against the token embeddings they are added to (RMS 1 per dimension).
 *
 * The vector added to every sub-token of an id is alpha times the mean of
 * layers 0..L of `E0 ~ N(0, sigma^2)` propagated over the training graph, so
 * sigma, L and alpha all move its scale; a sweep over one of them also sweeps
 * that scale. This prints the RMS per dimension for L = 0..max, for users and
 * items, at sigma 1 and at the given sigma and alpha.
 *
 * ```sh
 * deno run -A examples/whole_word_scale.ts --data ../shared/data/beauty --sigma 6 --alpha 9
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadData } from "../harness/data_source.ts";
import { loadSplit } from "../harness/split.ts";
import { createRng, propagateMean } from "../kernels/mod.ts";
import { elmrecGraph } from "../models/elmrec_embeddings.ts";

/** RMS per dimension of rows `from` to `to` (exclusive) of a `d`-column table. */
export function rowsRms(x: Float32Array, d: number, from: number, to: number): number {
  let sum = 0;
  for (let i = from * d; i < to * d; i++) sum += x[i] * x[i];
  return Math.sqrt(sum / ((to - from) * d));
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      data: { type: "string", default: "synthetic" },
      sigma: { type: "string", default: "6" },
      alpha: { type: "string", default: "9" },
      layers: { type: "string", default: "4" },
      dim: { type: "string", default: "64" },
      edges: { type: "string", default: "train" },
    },
  });
  const [sigma, alpha, maxLayers, d] = (["sigma", "alpha", "layers", "dim"] as const).map((k) => {
    const v = Number(values[k]);
    if (!Number.isFinite(v)) {
      throw new RangeError(`Expected --${k} to be a number but found "${values[k]}"`);
    }
    return v;
  });
  const edges = values.edges;
  if (edges !== "train" && edges !== "leaky") {
    throw new RangeError(`Expected --edges train or leaky but found "${edges}"`);
  }
  const split = await loadSplit(await loadData(values.data as string));
  const rng = createRng(0);
  // The graph ELMRec itself builds (the training split, or the release's leaky 80%).
  const graph = elmrecGraph(split, edges, rng.fork("graph"));
  const n = split.nUsers + split.nItems + 1;
  const x0 = Float32Array.from({ length: n * d }, () => rng.normal());
  console.log(
    `| L | users, sigma 1 | items, sigma 1 | users x ${sigma * alpha} | items x ${sigma * alpha} |`,
  );
  console.log("|---|---:|---:|---:|---:|");
  for (let layers = 0; layers <= maxLayers; layers++) {
    const mean = layers === 0 ? x0 : propagateMean(graph, x0, { layers });
    const users = rowsRms(mean, d, 1, split.nUsers + 1);
    const items = rowsRms(mean, d, split.nUsers + 1, n);
    const f = (x: number) => x.toFixed(3);
    const g = (x: number) => (x * sigma * alpha).toFixed(1);
    console.log(`| ${layers} | ${f(users)} | ${f(items)} | ${g(users)} | ${g(items)} |`);
  }
}

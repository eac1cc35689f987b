/**
 * `elmbench embed-plot`: ELMRec's graph-aware whole-word vectors of users
 * and items after 1 and after L propagation rounds (`mean(E0, ..., Â^l E0)`,
 * l = 1 and L), laid out in 2-D by UMAP (`umap-js`) and coloured by Louvain
 * communities of the training graph (`graphology-communities-louvain`), as
 * SVG and PNG. `E0` is the seeded N(0, sigma^2) table ELMRec starts from,
 * or a trained one read from a checkpoint (`--checkpoint
 * .cache/checkpoints/elmrec-.../best.safetensors`).
 *
 * @module
 */
import { UndirectedGraph } from "graphology";
import louvainImport from "graphology-communities-louvain";
import { UMAP } from "umap-js";
import { parseArgs, UsageError } from "../harness/cli_args.ts";
import { loadData } from "../harness/data_source.ts";
import { type FigurePaths, writeFigure } from "../harness/figures.ts";
import { createRng, type Rng } from "../harness/rng.ts";
import { buildSplitRaw } from "../harness/split.ts";
import type { Split } from "../harness/types.ts";
import type { TopLevelSpec } from "vega-lite";
import type { CsrMatrix } from "../kernels/adjacency.ts";
import { normal } from "../kernels/init.ts";
import { ParamStore } from "../kernels/param_store.ts";
import { propagateMean } from "../kernels/spmm.ts";
import { readStore } from "./checkpoint.ts";
import { COMMANDS } from "./commands.ts";
import { ELMREC_DEFAULTS, resolveDatasetDefaults } from "./elmrec.ts";
import { elmrecGraph, GRAPH_TABLE } from "./elmrec_embeddings.ts";

/** Options of {@linkcode embedPoints}. */
export interface EmbedPlotOptions {
  readonly layers: number;
  /** Std of a fresh E0. */
  readonly sigma: number;
  readonly dim: number;
  /** A trained E0 (`graph_embeddings.weight`) instead of a fresh one. */
  readonly e0?: Float32Array;
  /** @default 3000 */
  readonly maxPoints?: number;
  /** Communities coloured by name; smaller ones are "other". @default 8 */
  readonly communities?: number;
  readonly seed: number;
}

/**
 * How much a panel's vectors follow the graph's communities, in the full
 * `d` dimensions rather than the 2-D picture: the share of each drawn
 * node's `k` nearest drawn neighbours (cosine) in its own Louvain
 * community, against the share a random neighbour would give.
 */
export interface CommunityAgreement {
  readonly panel: string;
  readonly k: number;
  readonly agreement: number;
  readonly chance: number;
}

/** One drawn point. */
export interface EmbedPoint {
  readonly x: number;
  readonly y: number;
  readonly kind: "user" | "item";
  readonly community: string;
  readonly panel: string;
}

// The package is CommonJS; its default export is the function at run time.
const louvain = louvainImport as unknown as (
  graph: UndirectedGraph,
  options: { rng: () => number },
) => Record<string, number>;

/** Louvain communities of the graph's non-isolated nodes (node -> community id). */
export function communities(a: CsrMatrix, rng: Rng): Map<number, number> {
  const g = new UndirectedGraph();
  for (let r = 1; r < a.nRows; r++) if (a.offsets[r + 1] > a.offsets[r]) g.addNode(String(r));
  for (let r = 1; r < a.nRows; r++) {
    for (let k = a.offsets[r]; k < a.offsets[r + 1]; k++) {
      const c = a.columns[k];
      if (c > r) g.addEdge(String(r), String(c));
    }
  }
  const found = louvain(g, { rng: () => rng.next() });
  return new Map(Object.entries(found).map(([node, c]) => [Number(node), c]));
}

function layout(rows: number[][], rng: Rng): number[][] {
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: Math.min(15, rows.length - 1),
    minDist: 0.1,
    nEpochs: 200,
    random: () => rng.next(),
  });
  return umap.fit(rows);
}

/**
 * Mean share of each row's `k` nearest other rows (cosine similarity) that
 * carry its label, over rows with a label (>= 0), and the share that `k`
 * rows drawn at random from the others would give.
 *
 * @example
 * ```ts
 * import { neighbourAgreement } from "./elmrec_embed_plot.ts";
 * const rows = new Float32Array([1, 0, 1, 0.1, 0, 1, 0.1, 1]); // two pairs
 * neighbourAgreement(rows, 2, Int32Array.from([0, 0, 1, 1]), 1); // { agreement: 1, chance: 1/3 }
 * ```
 */
export function neighbourAgreement(
  rows: Float32Array,
  d: number,
  labels: Int32Array,
  k: number,
): { agreement: number; chance: number } {
  const n = labels.length;
  if (rows.length !== n * d) {
    throw new RangeError(`Expected ${n} rows of ${d} values but found ${rows.length} values`);
  }
  if (!Number.isInteger(k) || k < 1 || k >= n) {
    throw new RangeError(`Expected k in 1..${n - 1} but found ${k}`);
  }
  const unit = new Float32Array(rows.length);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let j = 0; j < d; j++) norm += rows[i * d + j] ** 2;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let j = 0; j < d; j++) unit[i * d + j] = rows[i * d + j] * inv;
  }
  const count = new Map<number, number>();
  for (const l of labels) if (l >= 0) count.set(l, (count.get(l) ?? 0) + 1);
  let agree = 0, chance = 0, labelled = 0;
  // The k best so far, best first; ties keep the lower index (deterministic).
  const bestSim = new Float64Array(k), bestRow = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    if (labels[i] < 0) continue;
    bestSim.fill(-Infinity);
    bestRow.fill(-1);
    for (let m = 0; m < n; m++) {
      if (m === i) continue;
      let dot = 0;
      for (let j = 0; j < d; j++) dot += unit[i * d + j] * unit[m * d + j];
      if (dot <= bestSim[k - 1]) continue;
      let r = k - 1;
      for (; r > 0 && bestSim[r - 1] < dot; r--) {
        bestSim[r] = bestSim[r - 1];
        bestRow[r] = bestRow[r - 1];
      }
      bestSim[r] = dot;
      bestRow[r] = m;
    }
    let same = 0;
    for (let r = 0; r < k; r++) if (labels[bestRow[r]] === labels[i]) same++;
    agree += same / k;
    chance += (count.get(labels[i])! - 1) / (n - 1);
    labelled++;
  }
  return { agreement: agree / labelled, chance: chance / labelled };
}

/** The points of the two panels (after 1 and after L rounds). */
export function embedPoints(split: Split, options: EmbedPlotOptions): EmbedPoint[] {
  return embedPanels(split, options).points;
}

/** The points of the two panels and each panel's {@linkcode CommunityAgreement}. */
export function embedPanels(
  split: Split,
  options: EmbedPlotOptions,
): { points: EmbedPoint[]; agreement: CommunityAgreement[] } {
  const rng = createRng(options.seed);
  const a = elmrecGraph(split, "train", rng);
  const d = options.dim;
  const e0 = options.e0 ?? normal({ std: options.sigma })(rng.fork("e0"), [a.nRows, d]);
  if (e0.length !== a.nRows * d) {
    throw new RangeError(`Expected E0 of ${a.nRows} x ${d} values but found ${e0.length}`);
  }
  const community = communities(a, rng.fork("louvain"));
  const sizes = new Map<number, number>();
  for (const c of community.values()) sizes.set(c, (sizes.get(c) ?? 0) + 1);
  const top = [...sizes.entries()].sort((p, q) => q[1] - p[1] || p[0] - q[0])
    .slice(0, options.communities ?? 8).map(([c]) => c);
  const label = (node: number) => {
    const c = community.get(node);
    const k = c === undefined ? -1 : top.indexOf(c);
    return k < 0 ? "other" : `community ${k + 1}`;
  };
  const nodes = Array.from({ length: a.nRows - 1 }, (_, i) => i + 1);
  const max = options.maxPoints ?? 3000;
  const drawn = nodes.length <= max
    ? nodes
    : rng.fork("sample").shuffle(nodes).slice(0, max).sort((p, q) => p - q);
  const points: EmbedPoint[] = [];
  const agreement: CommunityAgreement[] = [];
  const labels = Int32Array.from(drawn, (n) => community.get(n) ?? -1);
  const k = Math.min(10, drawn.length - 1);
  for (const layers of [0, 1, options.layers]) {
    const p = layers === 0 ? e0 : propagateMean(a, e0, { layers });
    const panel = `after ${layers} round${layers === 1 ? "" : "s"}`;
    const vectors = new Float32Array(drawn.length * d);
    drawn.forEach((n, i) => vectors.set(p.subarray(n * d, (n + 1) * d), i * d));
    agreement.push({ panel, k, ...neighbourAgreement(vectors, d, labels, k) });
    // E0 itself is measured, not drawn: it is where the rounds start.
    if (layers === 0) continue;
    const coords = layout(
      drawn.map((_, i) => Array.from(vectors.subarray(i * d, (i + 1) * d))),
      rng.fork(`umap${layers}`),
    );
    drawn.forEach((node, k) =>
      points.push({
        x: coords[k][0],
        y: coords[k][1],
        kind: node <= split.nUsers ? "user" : "item",
        community: label(node),
        panel,
      })
    );
  }
  return { points, agreement };
}

/** The two-panel scatter plot (Vega-Lite). */
export function embedSpec(points: readonly EmbedPoint[], title: string): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    data: { values: points.map((p) => ({ ...p })) },
    facet: { column: { field: "panel", type: "nominal", title: null, sort: null } },
    spec: {
      width: 320,
      height: 320,
      mark: { type: "point", filled: true, size: 18, opacity: 0.7 },
      encoding: {
        x: { field: "x", type: "quantitative", axis: null, scale: { zero: false } },
        y: { field: "y", type: "quantitative", axis: null, scale: { zero: false } },
        color: { field: "community", type: "nominal", title: "Louvain community" },
        shape: { field: "kind", type: "nominal", title: null },
      },
    },
    resolve: { scale: { x: "independent", y: "independent" } },
  } as TopLevelSpec;
}

/** Runs `embed-plot`; returns the figure's paths. */
export async function embedPlotCommand(args: string[]): Promise<FigurePaths | undefined> {
  const { values } = parseArgs("embed-plot", args, {
    data: { type: "string" },
    synthetic: { type: "string" },
    layers: { type: "string" },
    sigma: { type: "string" },
    dim: { type: "string", default: "64" },
    checkpoint: { type: "string" },
    "max-points": { type: "string", default: "3000" },
    communities: { type: "string", default: "8" },
    seed: { type: "string", default: "0" },
    out: { type: "string" },
  });
  if (values.help) {
    console.log(COMMANDS["embed-plot"].help);
    return;
  }
  if (!values.data) throw new UsageError("embed-plot needs --data <dir|synthetic>");
  const num = (flag: string, fallback: number) => {
    const raw = values[flag] as string | undefined;
    const v = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(v) || v < 0) {
      throw new UsageError(`--${flag} expects a non-negative number but found "${raw}"`);
    }
    return v;
  };
  const dataset = await loadData(values.data as string, values.synthetic as string);
  const defaults = resolveDatasetDefaults(ELMREC_DEFAULTS, dataset.name);
  const split: Split = { ...buildSplitRaw(dataset, { seed: 0 }), hash: "" };
  let e0: Float32Array | undefined, dim = num("dim", 64);
  if (values.checkpoint) {
    const store = new ParamStore();
    await readStore(values.checkpoint as string, store);
    const entry = store.get(GRAPH_TABLE);
    if (!entry) {
      throw new RangeError(`Expected ${GRAPH_TABLE} in ${values.checkpoint} but found none`);
    }
    e0 = entry.data;
    dim = entry.shape[1];
  }
  const layers = num("layers", defaults.layers);
  const { points, agreement } = embedPanels(split, {
    layers,
    sigma: num("sigma", defaults.sigma),
    dim,
    e0,
    maxPoints: num("max-points", 3000),
    communities: num("communities", 8),
    seed: num("seed", 0),
  });
  const out = (values.out as string | undefined) ?? `out/embed-plot/${dataset.name}`;
  const source = e0 ? "trained E0" : "initial E0";
  const paths = await writeFigure(
    embedSpec(points, `ELMRec whole-word vectors (${dataset.name}, ${source}, UMAP)`),
    `${out}/embed-plot`,
  );
  console.log(`${points.length / 2} users and items per panel, L = ${layers}`);
  for (const a of agreement) {
    console.log(
      `${a.panel}: ${(100 * a.agreement).toFixed(1)}% of the ${a.k} nearest neighbours share ` +
        `the node's community (chance ${(100 * a.chance).toFixed(1)}%)`,
    );
  }
  console.log(`figure: ${paths.svg}\nfigure: ${paths.png}\nspec: ${paths.spec}`);
  return paths;
}

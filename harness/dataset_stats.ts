/**
 * Summary statistics of a dataset (`elmbench data stats`), in machine form
 * ({@linkcode DatasetStats}) and as an aligned text block.
 *
 * @module
 */

import type { Dataset, DatasetStats } from "./types.ts";

/**
 * Counts users, items and interactions and the spread of sequence lengths.
 * Sparsity is `1 - interactions / (users * items)`, as in S3-Rec's and P5's
 * tables.
 *
 * @example
 * ```ts
 * import { datasetStats } from "./dataset_stats.ts";
 * import { generateSynthetic } from "./synthetic.ts";
 * const stats = datasetStats(await generateSynthetic());
 * console.log(stats.users, stats.items); // 600 400
 * ```
 */
export function datasetStats(dataset: Dataset): DatasetStats {
  const { offsets } = dataset.sequences;
  const users = dataset.nUsers;
  let minLength = users > 0 ? Infinity : 0, maxLength = 0;
  for (let r = 0; r < users; r++) {
    const len = offsets[r + 1] - offsets[r];
    if (len < minLength) minLength = len;
    if (len > maxLength) maxLength = len;
  }
  const interactions = offsets[users] - offsets[0];
  const cells = users * dataset.nItems;
  return {
    name: dataset.name,
    users,
    items: dataset.nItems,
    interactions,
    sparsity: cells > 0 ? 1 - interactions / cells : 0,
    minLength,
    meanLength: users > 0 ? interactions / users : 0,
    maxLength,
    hasNegatives: dataset.negatives !== undefined,
    hash: dataset.hash,
    ...(dataset.rawHash && dataset.rawHash !== dataset.hash ? { rawHash: dataset.rawHash } : {}),
  };
}

const grouped = new Intl.NumberFormat("en-US");
const twoDecimals = new Intl.NumberFormat("en-US", {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

/**
 * A readable block, one `label value` row per statistic, values
 * right-aligned with thousands separators:
 *
 * ```text
 * dataset       beauty
 * users         22,363
 * items         12,101
 * ...
 * ```
 *
 * @example
 * ```ts
 * import { datasetStats, formatStats } from "./dataset_stats.ts";
 * import { generateSynthetic } from "./synthetic.ts";
 * console.log(formatStats(datasetStats(await generateSynthetic())));
 * ```
 */
export function formatStats(stats: DatasetStats): string {
  const numbers: [string, string][] = [
    ["users", grouped.format(stats.users)],
    ["items", grouped.format(stats.items)],
    ["interactions", grouped.format(stats.interactions)],
    ["sparsity", `${(stats.sparsity * 100).toFixed(4)}%`],
    ["min length", grouped.format(stats.minLength)],
    ["mean length", twoDecimals.format(stats.meanLength)],
    ["max length", grouped.format(stats.maxLength)],
  ];
  const width = Math.max(...numbers.map(([, v]) => v.length));
  const label = (s: string) => s.padEnd(14);
  return [
    `${label("dataset")}${stats.name}`,
    ...numbers.map(([k, v]) => `${label(k)}${v.padStart(width)}`),
    `${label("negatives")}${stats.hasNegatives ? "negative.txt" : "none (seeded draw)"}`,
    `${label("sha256")}${stats.hash}`,
    // Only files that are not written canonically (CRLF, no final newline) have a second hash.
    ...(stats.rawHash ? [`${label("file sha256")}${stats.rawHash}`] : []),
  ].join("\n");
}

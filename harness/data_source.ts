/**
 * Where a run's data comes from: a P5-layout directory, or the embedded
 * synthetic generator (`synthetic`, with `key=value` generator options).
 *
 * @module
 */
import { readDataset } from "./dataset_reader.ts";
import { generateSynthetic, type SyntheticOptions } from "./synthetic.ts";
import type { Dataset } from "./types.ts";

/** The name that selects the embedded synthetic data. */
export const SYNTHETIC = "synthetic";

const SYNTHETIC_KEYS: readonly (keyof SyntheticOptions)[] = [
  "users",
  "items",
  "communities",
  "meanLength",
  "minLength",
  "inCommunity",
  "popularitySkew",
  "habit",
  "successors",
  "seed",
];

/** Parses `--synthetic users=600,items=400` into generator options. */
export function parseSyntheticOptions(spec: string | undefined): SyntheticOptions {
  const out: Record<string, number> = {};
  for (const part of (spec ?? "").split(",").filter((s) => s.trim() !== "")) {
    const [key, raw] = part.split("=");
    if (!SYNTHETIC_KEYS.includes(key as keyof SyntheticOptions)) {
      throw new RangeError(
        `Unknown synthetic option "${key}"; valid options: ${SYNTHETIC_KEYS.join(", ")}`,
      );
    }
    const n = Number(raw);
    if (raw === undefined || !Number.isFinite(n)) {
      throw new TypeError(`Expected a number for synthetic option ${key} but found "${raw}"`);
    }
    out[key] = n;
  }
  return out as SyntheticOptions;
}

/**
 * Loads `source`: the synthetic generator or a dataset directory (a path
 * that is missing or not a folder is an error naming it and what a dataset
 * folder holds).
 */
export async function loadData(source: string, synthetic?: string): Promise<Dataset> {
  if (source === SYNTHETIC) return await generateSynthetic(parseSyntheticOptions(synthetic));
  return await readDataset(source);
}

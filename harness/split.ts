/**
 * The leave-one-out split every plugin scores against, built once per
 * (dataset hash, seed) and stored as an Arrow IPC file so that every plugin
 * in every process sees byte-identical splits.
 *
 * @module
 */
import { drawNegatives, flattenNegatives } from "./negatives.ts";
import { createRng, row } from "../kernels/mod.ts";
import { readSplitArrow, splitToArrow, StaleSplitError } from "./split_arrow.ts";
import type { Dataset, Ragged, Reindex, Split } from "./types.ts";

/** Negatives per user in the 100-candidate protocol. */
export const NEGATIVES_PER_USER = 99;

/** Options of {@linkcode buildSplit}. */
export interface SplitOptions {
  /** Seed of the negative draws. @default 0 */
  seed?: number;
  /** How item ids were renumbered before the split (recorded only). @default "none" */
  reindex?: Reindex;
}

/**
 * Splits every sequence into train = items[:-2], valid = items[-2],
 * test = items[-1] and fixes the direct-protocol negatives: the test
 * negatives come from `negative.txt` when the dataset has one, else from a
 * seeded draw; validation negatives are always a separate seeded draw.
 */
export function buildSplitRaw(dataset: Dataset, options: SplitOptions = {}): Omit<Split, "hash"> {
  const seed = options.seed ?? 0;
  const { nUsers, nItems, sequences } = dataset;
  const trainOffsets = new Uint32Array(nUsers + 1);
  for (let u = 0; u < nUsers; u++) {
    const len = sequences.offsets[u + 1] - sequences.offsets[u];
    if (len < 3) {
      throw new RangeError(
        `Expected at least 3 items for user ${u + 1} to leave two out but found ${len}`,
      );
    }
    trainOffsets[u + 1] = trainOffsets[u] + len - 2;
  }
  const trainValues = new Int32Array(trainOffsets[nUsers]);
  const valid = new Int32Array(nUsers);
  const test = new Int32Array(nUsers);
  for (let u = 0; u < nUsers; u++) {
    const seq = row(sequences, u);
    trainValues.set(seq.subarray(0, seq.length - 2), trainOffsets[u]);
    valid[u] = seq[seq.length - 2];
    test[u] = seq[seq.length - 1];
  }
  const train: Ragged = { offsets: trainOffsets, values: trainValues };
  const rng = createRng(seed);
  let testNegatives: Int32Array;
  let negativesPerUser = NEGATIVES_PER_USER;
  let testNegativeSource: Split["testNegativeSource"];
  if (dataset.negatives) {
    const flat = flattenNegatives(dataset.negatives, nUsers);
    testNegatives = flat.data;
    negativesPerUser = flat.perUser;
    testNegativeSource = "negative.txt";
  } else {
    testNegatives = drawNegatives(sequences, nItems, negativesPerUser, rng.fork("negatives:test"));
    testNegativeSource = "seeded";
  }
  const validNegatives = drawNegatives(
    sequences,
    nItems,
    negativesPerUser,
    rng.fork("negatives:valid"),
  );
  return {
    dataset,
    seed,
    reindex: options.reindex ?? "none",
    nUsers,
    nItems,
    train,
    valid,
    test,
    validNegatives,
    testNegatives,
    negativesPerUser,
    testNegativeSource,
  };
}

/** Options of {@linkcode loadSplit}. */
export interface LoadSplitOptions extends SplitOptions {
  /** Directory of cached splits; `null` disables the cache. @default ".cache/splits" */
  cacheDir?: string | null;
}

/**
 * Returns the split of `dataset` for `seed`, reading it from the Arrow cache
 * when present and writing it there (atomically) when not. The split's hash
 * is the sha256 of the Arrow bytes, so a result's `split_hash` pins exactly
 * what it was scored against; the bytes hold the data's content hash and the
 * split's parameters but not the dataset's name, so the same data in two
 * folders gives one `split_hash`.
 */
export async function loadSplit(dataset: Dataset, options: LoadSplitOptions = {}): Promise<Split> {
  const seed = options.seed ?? 0;
  const cacheDir = options.cacheDir === undefined ? ".cache/splits" : options.cacheDir;
  const path = cacheDir === null
    ? null
    : `${cacheDir}/${dataset.name}-${dataset.hash.slice(0, 16)}-seed${seed}.arrow`;
  if (path !== null) {
    try {
      const bytes = await Deno.readFile(path);
      return await readSplitArrow(bytes, dataset, path);
    } catch (e) {
      // An older format is rebuilt below and overwritten, so its hash follows the current rule.
      if (!(e instanceof Deno.errors.NotFound) && !(e instanceof StaleSplitError)) throw e;
    }
  }
  const raw = buildSplitRaw(dataset, options);
  const bytes = splitToArrow(raw);
  if (path !== null) {
    await Deno.mkdir(cacheDir!, { recursive: true });
    const tmp = `${path}.${Deno.pid}.tmp`;
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
  }
  return await readSplitArrow(bytes, dataset, path ?? "(memory)");
}

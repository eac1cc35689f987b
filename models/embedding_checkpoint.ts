/**
 * The `config.json` of the embedding plugins' checkpoints (`--save`,
 * `--load`): the plugin's config with the id-space sizes its tables were
 * built for, and the check that a loaded checkpoint fits the run. The
 * tensors themselves are the engine's checkpoints (`saveCheckpoint`,
 * `loadCheckpoint`).
 *
 * @module
 */

/**
 * The `config.json` of an embedding model: its plugin name, its config, and
 * the id-space sizes its tables were built for (checked on load).
 */
export function embeddingCheckpointConfig(
  plugin: string,
  config: Record<string, unknown>,
  sizes: { readonly nUsers: number; readonly nItems: number },
): Record<string, unknown> {
  return { plugin, ...config, n_users: sizes.nUsers, n_items: sizes.nItems };
}

/**
 * Throws unless `saved` (a loaded `config.json`) agrees with `config` on
 * every key in `keys`: a checkpoint of another shape cannot be scored.
 */
export function checkConfigMatches(
  dir: string,
  saved: Record<string, unknown>,
  config: Record<string, unknown>,
  keys: readonly string[],
): void {
  for (const k of keys) {
    if (saved[k] !== config[k]) {
      throw new RangeError(
        `Expected the checkpoint in ${dir} to have ${k} = ${JSON.stringify(config[k])} but found ${
          JSON.stringify(saved[k])
        }`,
      );
    }
  }
}

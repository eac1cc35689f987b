/**
 * Commands of the models that the CLI merges into its own (`elmbench
 * embed-plot`). Modules load when a command runs, so the plotting
 * libraries cost nothing to other commands.
 *
 * @module
 */
import type { ExtraCommand } from "../harness/cli_args.ts";

/** Commands by name. */
export const COMMANDS: Readonly<Record<string, ExtraCommand>> = {
  "embed-plot": {
    summary: "ELMRec's whole-word vectors after 1 and L rounds, UMAP, coloured by community",
    help: `elmbench embed-plot --data <dir|synthetic> [--synthetic ...]
    [--layers L] [--sigma S] [--dim D] [--checkpoint FILE.safetensors]
    [--max-points N] [--communities K] [--seed N] [--out out/embed-plot/<dataset>]
  Draws ELMRec's graph-aware whole-word vectors of users and items after 1
  and after L propagation rounds, in 2-D (UMAP), coloured by Louvain
  communities of the training graph (the K largest; the rest "other").
  E0 is ELMRec's seeded N(0, sigma^2) initial table (defaults: the dataset's
  L and sigma, d = 64), or the trained table of a checkpoint. At most N
  nodes are drawn (a seeded sample). Writes <out>/embed-plot.svg, .png and
  .vl.json, and prints per panel (and for E0) the share of each drawn
  node's 10 nearest neighbours (cosine) in its community, beside chance.`,
    run: async (args) => (await import("./elmrec_embed_plot.ts")).embedPlotCommand(args),
  },
};

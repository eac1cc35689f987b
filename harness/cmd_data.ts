/**
 * `elmbench data stats <dir>` and `elmbench data convert <reviews> <dir>`.
 *
 * @module
 */
import { readAmazonReviews, writeSequentialTxt } from "./amazon_reader.ts";
import { parseArgs, UsageError } from "./cli_args.ts";
import { loadData } from "./data_source.ts";
import { datasetStats, formatStats } from "./dataset_stats.ts";

/** Help text of `data`. */
export const DATA_HELP = `elmbench data stats <dir|synthetic> [--json] [--synthetic k=v,...]
  Users, items, interactions, sparsity, sequence lengths and content hash of a
  dataset directory in the P5 layout (sequential.txt, optional negative.txt).

elmbench data convert <reviews_<Category>_5.json[.gz]> <out dir>
  Converts an Amazon 5-core review file to the P5 layout (sorted by time,
  users and items numbered by first appearance, as P5 did).`;

/** Runs a `data` subcommand. */
export async function dataCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === "stats") {
    const { values, positionals } = parseArgs("data stats", rest, {
      json: { type: "boolean" },
      synthetic: { type: "string" },
    });
    if (values.help) return console.log(DATA_HELP);
    if (positionals.length !== 1) throw new UsageError("data stats expects one dataset directory");
    const stats = datasetStats(await loadData(positionals[0], values.synthetic as string));
    console.log(values.json ? JSON.stringify(stats) : formatStats(stats));
    return;
  }
  if (sub === "convert") {
    const { values, positionals } = parseArgs("data convert", rest, {});
    if (values.help) return console.log(DATA_HELP);
    if (positionals.length !== 2) {
      throw new UsageError("data convert expects a review file and an output directory");
    }
    const dataset = await readAmazonReviews(positionals[0]);
    await Deno.mkdir(positionals[1], { recursive: true });
    await writeSequentialTxt(dataset, `${positionals[1]}/sequential.txt`);
    console.log(formatStats(datasetStats(dataset)));
    return;
  }
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    return console.log(DATA_HELP);
  }
  throw new UsageError(`Unknown data subcommand "${sub}"; valid: stats, convert`);
}

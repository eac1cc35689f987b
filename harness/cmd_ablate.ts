/**
 * `elmbench ablate --data <dir|synthetic>`: runs an ablation experiment
 * (handed in by the caller, as `reproduce` gets its experiments) on one
 * dataset and prints one table per task. A thin wrapper over `reproduce`:
 * the dataset directory becomes `--data-root` + `--datasets`.
 *
 * @module
 */
import { basename, dirname, resolve } from "node:path";
import type { Experiment } from "./cells.ts";
import { parseArgs, UsageError } from "./cli_args.ts";
import { reproduceCommand } from "./cmd_reproduce.ts";
import type { PluginRecord } from "./registry.ts";

/** Help text of `ablate`. */
export const ABLATE_HELP = `elmbench ablate --data <dir|synthetic> [--preset tiny|cpu|paper]
    [--seeds 0,1,2] [--jobs N] [--out out/ablate/<dataset>-<preset>] [--no-published]
    [--set key=value | --set plugin.key=value]...
  Runs the ablation experiment (every arm of it, on both of its tasks) on one
  dataset and prints the direct and sequential tables, each arm a row of its
  own. Finished cells are kept in <out>/cells; rerun to finish the rest.
  --set overrides apply to every cell; the default --out then gets a suffix
  naming them, so differently configured runs never share cells.`;

/** Runs `ablate` with `experiment`. */
export async function ablateCommand(
  args: string[],
  plugins: PluginRecord,
  experiment: Experiment,
  signal?: AbortSignal,
): Promise<void> {
  const { values } = parseArgs("ablate", args, {
    data: { type: "string" },
    preset: { type: "string", default: "tiny" },
    seeds: { type: "string", default: "0" },
    jobs: { type: "string", default: "1" },
    out: { type: "string" },
    "no-published": { type: "boolean" },
    set: { type: "string", multiple: true },
  });
  if (values.help) return console.log(ABLATE_HELP);
  const data = values.data as string | undefined;
  if (!data) throw new UsageError("ablate needs --data <dir|synthetic>");
  const dataset = data === "synthetic" ? "synthetic" : basename(resolve(data));
  const root = data === "synthetic" ? "." : dirname(resolve(data));
  const sets = (values.set as string[] | undefined) ?? [];
  const suffix = sets.length ? `-${sets.join("-").replace(/[^A-Za-z0-9.=-]+/g, "_")}` : "";
  const out = (values.out as string | undefined) ??
    `out/ablate/${dataset}-${values.preset as string}${suffix}`;
  const forwarded = [
    experiment.name,
    ...["--datasets", dataset, "--data-root", root, "--preset", values.preset as string],
    ...["--seeds", values.seeds as string, "--jobs", values.jobs as string, "--out", out],
    ...(values["no-published"] ? ["--no-published"] : []),
    ...sets.flatMap((s) => ["--set", s]),
  ];
  await reproduceCommand(forwarded, plugins, { [experiment.name]: experiment }, signal);
}

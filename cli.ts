/**
 * The `elmbench` command line: one entry, one subcommand per stage of work.
 * Run it as `./elmbench <command> [args]` (the wrapper at the top level runs
 * Deno from npm when it is not installed) or `deno task elmbench <command>`.
 *
 * The face of the project, above everything it wires together: the
 * built-in plugins and the paper's experiments (`plugins.ts`) and the
 * models' own commands go into the harness's commands, which take them as
 * parameters and know no plugin by name.
 *
 * @module
 */
import { UsageError } from "./harness/cli_args.ts";
import { ABLATE_HELP, ablateCommand } from "./harness/cmd_ablate.ts";
import { BUNDLE_HELP, bundleCommand } from "./harness/cmd_bundle.ts";
import { CHECK_HELP, checkCommand } from "./harness/cmd_check.ts";
import { DATA_HELP, dataCommand } from "./harness/cmd_data.ts";
import { DEMO_HELP, demoCommand } from "./harness/cmd_demo.ts";
import { FATBIN_HELP, fatbinCommand } from "./harness/cmd_fatbin.ts";
import { PLAN_HELP, planCommand } from "./harness/cmd_plan.ts";
import { PLUGINS_HELP, pluginsCommand } from "./harness/cmd_plugins.ts";
import { REPORT_HELP, reportCommand } from "./harness/cmd_report.ts";
import { REPRODUCE_HELP, reproduceCommand } from "./harness/cmd_reproduce.ts";
import { RUN_HELP, runCommand } from "./harness/cmd_run.ts";
import { SETUP_HELP, setupCommand } from "./harness/cmd_setup.ts";
import { SWEEP_HELP, sweepCommand } from "./harness/cmd_sweep.ts";
import { TABLE_HELP, tableCommand } from "./harness/cmd_table.ts";
import { COMMANDS } from "./models/mod.ts";
import { BUILTIN_PLUGINS, EXPERIMENTS, TABLE_DEFAULTS } from "./plugins.ts";

const HELP = `elmbench: reproduce, compare and extend LLM-based recommenders

Usage: ./elmbench <command> [options]

Commands:
  demo       run every plugin (tiny preset) on the embedded synthetic data
  data       dataset statistics and conversion (data stats, data convert)
  run        fit and evaluate models on a dataset, append result records
  table      print result records as the paper's Table 2 or Table 3
  report     write a static page of result records: tables, curves, sweeps, leak audit
  reproduce  run an experiment's cells (table2, table3, ...) and print its tables
  ablate     run the ablation experiment on one dataset and print its tables
  sweep      one config key over a list of values: table and figure (HR@10, NDCG@10)
  plan       write an experiment's cells for a scheduler (shell, SLURM, JSON)
  check      rerun a baseline results file and fail when a metric moved
  plugins    list registered plugins with every config key, its default and doc
  setup      install ONNX Runtime's CUDA provider for --device cuda (setup cuda)
  bundle     write one archive (Deno, project, node_modules, CUDA provider) to run offline
  fatbin     list a CUDA library's device code per GPU arch, or keep one arch's
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`).join("\n")}
  help CMD   help for one command

Every command takes --help. Errors exit non-zero; set ELMBENCH_DEBUG=1 for stacks.`;

const HELPS: Record<string, string> = {
  data: DATA_HELP,
  run: RUN_HELP,
  table: TABLE_HELP,
  report: REPORT_HELP,
  demo: DEMO_HELP,
  reproduce: REPRODUCE_HELP,
  ablate: ABLATE_HELP,
  sweep: SWEEP_HELP,
  plan: PLAN_HELP,
  check: CHECK_HELP,
  setup: SETUP_HELP,
  bundle: BUNDLE_HELP,
  fatbin: FATBIN_HELP,
  ...Object.fromEntries(Object.entries(COMMANDS).map(([name, c]) => [name, c.help])),
  plugins: PLUGINS_HELP,
};

/** A command that does not exist: its own --help does not either. */
class UnknownCommand extends UsageError {}

/** Runs the CLI with `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) Deno.exit(130);
    console.error(
      "\ninterrupted: finishing nothing new; finished cells are saved (again to quit now)",
    );
    controller.abort(new Error("interrupted"));
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  const [command, ...rest] = args;
  try {
    switch (command) {
      case undefined:
      case "help":
      case "--help":
      case "-h":
        console.log(rest[0] && HELPS[rest[0]] ? HELPS[rest[0]] : HELP);
        return 0;
      case "data":
        await dataCommand(rest);
        return 0;
      case "run":
        await runCommand(rest, BUILTIN_PLUGINS, controller.signal, TABLE_DEFAULTS);
        return 0;
      case "table":
        await tableCommand(rest, TABLE_DEFAULTS);
        return 0;
      case "report":
        await reportCommand(rest, TABLE_DEFAULTS);
        return 0;
      case "demo":
        await demoCommand(rest, BUILTIN_PLUGINS, controller.signal, TABLE_DEFAULTS);
        return 0;
      case "reproduce":
        await reproduceCommand(rest, BUILTIN_PLUGINS, EXPERIMENTS, controller.signal);
        return 0;
      case "ablate":
        await ablateCommand(rest, BUILTIN_PLUGINS, EXPERIMENTS.ablation, controller.signal);
        return 0;
      case "sweep":
        await sweepCommand(rest, BUILTIN_PLUGINS, controller.signal);
        return 0;
      case "plan":
        await planCommand(rest, BUILTIN_PLUGINS, EXPERIMENTS);
        return 0;
      case "check":
        return await checkCommand(rest, BUILTIN_PLUGINS);
      case "plugins":
        pluginsCommand(rest, BUILTIN_PLUGINS);
        return 0;
      case "setup":
        await setupCommand(rest);
        return 0;
      case "bundle":
        await bundleCommand(rest);
        return 0;
      case "fatbin":
        await fatbinCommand(rest);
        return 0;
      default:
        if (command in COMMANDS) {
          await COMMANDS[command].run(rest);
          return 0;
        }
        throw new UnknownCommand(
          `Unknown command "${command}"; valid commands: ${Object.keys(HELPS).join(", ")}, help`,
        );
    }
  } catch (e) {
    const error = e as Error;
    if (controller.signal.aborted) {
      console.error("interrupted; rerun the same command to finish the remaining cells");
      return 130;
    }
    console.error(`error: ${error.message ?? String(e)}`);
    if (error instanceof UnknownCommand) console.error("(see: ./elmbench --help)");
    else if (error instanceof UsageError) console.error(`(see: ./elmbench ${command} --help)`);
    if (Deno.env.get("ELMBENCH_DEBUG")) console.error(error.stack);
    return 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));

/**
 * `elmbench setup cuda`: installs ONNX Runtime's CUDA provider for
 * `--device cuda` (see `cuda_setup.ts` for where it comes from).
 *
 * @module
 */
import { oneOf, parseArgs, UsageError } from "./cli_args.ts";
import { setupCuda } from "./cuda_setup.ts";

/** Help text of `setup`. */
export const SETUP_HELP = `elmbench setup cuda [--cuda 13|12] [--from DIR] [--cuda-libs DIR]...
  Puts ONNX Runtime's CUDA provider beside the ONNX Runtime library that
  onnxruntime-node loads, so that --device cuda runs. Sources:
    --cuda 13 (default)  the npm package com.github.asus4.onnxruntime.linux-x64-gpu
                         (ONNX Runtime 1.29.0's provider for CUDA 13), checked by sha512
    --cuda 12            ONNX Runtime's install script (NuGet; needs a network)
    --from DIR           a folder holding libonnxruntime_providers_cuda.so and
                         libonnxruntime_providers_shared.so (offline machines)
  Without --cuda or --from, a provider already in place (an unpacked bundle,
  an earlier setup) is checked and kept rather than fetched again.
  Refuses a provider whose ONNX Runtime version is not onnxruntime-node's.
  Resolves every CUDA library the provider links (--cuda-libs first, then
  LD_LIBRARY_PATH, CUDA_HOME, pip's nvidia packages, the loader's cache),
  records them so that no LD_LIBRARY_PATH is needed later, and prints each
  with its path and the GPU's name.`;

/** Runs `setup`. */
export async function setupCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs("setup", args, {
    cuda: { type: "string" },
    from: { type: "string" },
    "cuda-libs": { type: "string", multiple: true },
    target: { type: "string" },
  });
  if (values.help) return console.log(SETUP_HELP);
  if (positionals[0] !== "cuda" || positionals.length > 1) {
    throw new UsageError(
      `setup: expected "setup cuda" but found "setup ${positionals.join(" ")}"`,
    );
  }
  await setupCuda({
    cuda: values.cuda === undefined
      ? undefined
      : oneOf("cuda", values.cuda as string, ["13", "12"] as const),
    from: values.from as string | undefined,
    libDirs: (values["cuda-libs"] as string[] | undefined) ?? [],
    target: values.target as string | undefined,
  });
}

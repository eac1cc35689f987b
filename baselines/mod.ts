/**
 * The built-in plugins, in one static record. Adding a baseline means adding
 * one file here and one line below; nothing in `harness/` knows a name.
 *
 * @module
 */
import type { Plugin, PluginConfig } from "../harness/plugin.ts";
import { elmrec } from "../models/elmrec.ts";
import { bprmf } from "./bprmf.ts";
import { idleak } from "./idleak.ts";
import { lightgcn } from "./lightgcn.ts";
import { p5 } from "./p5.ts";
import { pod } from "./pod.ts";
import { pop } from "./pop.ts";
import { simplex } from "./simplex.ts";

/** Every built-in plugin by name. */
export const BUILTIN_PLUGINS: Readonly<Record<string, Plugin<PluginConfig>>> = {
  pop,
  idleak,
  bprmf,
  lightgcn,
  simplex,
  p5,
  pod,
  elmrec,
};

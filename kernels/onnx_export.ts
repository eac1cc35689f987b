/**
 * Serialises a {@linkcode Graph} to ONNX `ModelProto` bytes (opset 18). The
 * bytes are a pure function of the graph, so their sha256 names the graph:
 * the runtime caches sessions by it.
 *
 * @module
 */

import { createHash } from "node:crypto";
import onnxProto from "onnx-proto";
import type { DType, HostArray, Node, Tensor } from "./graph.ts";

// deno-lint-ignore no-explicit-any
const { onnx } = onnxProto as any;

/** The ONNX opset the exporter targets. */
export const OPSET = 18;

const ELEM_TYPE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 };

// Attributes that ONNX (opset >= 13/18) takes as int64 input tensors, in input order.
const ATTR_INPUTS: Partial<Record<Node["op"], readonly string[]>> = {
  ReduceSum: ["axes"],
  ReduceMean: ["axes"],
  ReduceMax: ["axes"],
  Reshape: ["shape"],
  Slice: ["starts", "ends", "axes"],
  Unsqueeze: ["axes"],
  Squeeze: ["axes"],
  Expand: ["shape"],
  Pad: ["pads"],
};

/** A graph value's name, dtype and shape as the session sees it. */
export interface ValueInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** Serialised model and what a caller needs to feed and fetch it. */
export interface OnnxModel {
  readonly bytes: Uint8Array;
  /** sha256 of `bytes`, hex. */
  readonly hash: string;
  /** Inputs and params the outputs depend on, in graph order. */
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
}

/** Options of {@linkcode exportOnnx}. */
export interface ExportOptions {
  /** Values for params to embed as initializers instead of inputs. @default none */
  initializers?: (name: string) => HostArray | undefined;
  /** The ONNX graph name. @default "elmbench" */
  name?: string;
}

function bytesOf(a: HostArray): Uint8Array {
  // Host arrays are little-endian on every platform ORT runs on, as ONNX raw_data requires.
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
}

function tensorProto(name: string, dtype: DType, shape: readonly number[], data: HostArray) {
  return { name, dataType: ELEM_TYPE[dtype], dims: [...shape], rawData: bytesOf(data) };
}

function valueInfo(v: ValueInfo) {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ELEM_TYPE[v.dtype],
        shape: { dim: v.shape.map((d) => ({ dimValue: d })) },
      },
    },
  };
}

/** The nodes the outputs depend on, in graph order, and the leaves they read. */
export function prune(outputs: readonly Tensor[]): { nodes: Node[]; leaves: Tensor[] } {
  const seen = new Set<number>();
  const stack = [...outputs];
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    if (t.node) stack.push(...t.node.inputs);
  }
  const graph = outputs[0]?.graph;
  const nodes = graph ? graph.nodes.filter((n) => seen.has(n.output.id)) : [];
  const leaves = graph ? graph.tensors.filter((t) => seen.has(t.id) && t.kind !== "op") : [];
  return { nodes, leaves };
}

/**
 * Serialises the subgraph that computes `outputs`, naming each graph output
 * by its key.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { exportOnnx } from "./onnx_export.ts";
 * const g = new Graph();
 * const x = g.input("x", "float32", [2]);
 * const model = exportOnnx({ y: g.exp(x) });
 * console.log(model.hash.length); // 64
 * ```
 */
export function exportOnnx(
  outputs: Record<string, Tensor>,
  options: ExportOptions = {},
): OnnxModel {
  const entries = Object.entries(outputs);
  const { nodes, leaves } = prune(entries.map(([, t]) => t));
  const names = new Map<number, string>();
  const onnxNodes: unknown[] = [];
  const initializer: unknown[] = [];
  const inputs: ValueInfo[] = [];
  const outInfo: ValueInfo[] = [];

  for (const t of leaves) {
    if (t.kind === "constant") {
      initializer.push(tensorProto(t.name, t.dtype, t.shape, t.value!));
    } else {
      const embedded = t.kind === "param" ? options.initializers?.(t.name) : undefined;
      if (embedded) initializer.push(tensorProto(t.name, t.dtype, t.shape, embedded));
      else inputs.push({ name: t.name, dtype: t.dtype, shape: t.shape });
    }
  }
  const taken = new Set([...leaves, ...nodes.map((n) => n.output)].map((t) => t.name));
  for (const [name, t] of entries) {
    if (taken.has(name) && (t.kind !== "op" || t.name !== name)) {
      throw new TypeError(`Expected an output name unused in the graph but found "${name}"`);
    }
  }
  // Outputs computed by a node take the output's name directly; anything else
  // (a leaf, or one tensor under two names) goes through an Identity.
  const aliases: [string, Tensor][] = [];
  for (const [name, t] of entries) {
    if (t.kind === "op" && !names.has(t.id)) names.set(t.id, name);
    else aliases.push([name, t]);
    outInfo.push({ name, dtype: t.dtype, shape: t.shape });
  }
  const nameOf = (t: Tensor) => names.get(t.id) ?? t.name;

  for (const n of nodes) {
    const out = nameOf(n.output);
    const input = n.inputs.map(nameOf);
    const attribute: unknown[] = [];
    const asInputs = ATTR_INPUTS[n.op] ?? [];
    for (const key of asInputs) {
      const v = n.attrs[key] as readonly number[];
      if (n.op.startsWith("Reduce") && v.length === 0) continue; // empty axes: reduce all
      const constName = `${out}_${key}`;
      initializer.push(tensorProto(constName, "int64", [v.length], BigInt64Array.from(v, BigInt)));
      input.push(constName);
    }
    for (const [key, v] of Object.entries(n.attrs)) {
      if (asInputs.includes(key) || (key === "reduction" && v === "none")) continue;
      if (key === "to") attribute.push({ name: key, type: 2, i: ELEM_TYPE[v as DType] });
      else if (typeof v === "string") {
        attribute.push({ name: key, type: 3, s: new TextEncoder().encode(v) });
      } else if (typeof v === "number") attribute.push({ name: key, type: 2, i: v });
      else attribute.push({ name: key, type: 7, ints: [...v] });
    }
    onnxNodes.push({ name: `n_${out}`, opType: n.op, input, output: [out], attribute });
  }
  for (const [name, t] of aliases) {
    onnxNodes.push({
      name: `n_${name}`,
      opType: "Identity",
      input: [nameOf(t)],
      output: [name],
      attribute: [],
    });
  }

  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "elmbench",
    opsetImport: [{ domain: "", version: OPSET }],
    graph: {
      name: options.name ?? "elmbench",
      node: onnxNodes,
      initializer,
      input: inputs.map(valueInfo),
      output: outInfo.map(valueInfo),
    },
  });
  const bytes: Uint8Array = onnx.ModelProto.encode(model).finish();
  const hash = createHash("sha256").update(bytes).digest("hex");
  return { bytes, hash, inputs, outputs: outInfo };
}

/**
 * Writes a standalone `.onnx` file computing `outputs`, with the current
 * values of every param embedded as initializers (so only true inputs remain).
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { writeOnnx } from "./onnx_export.ts";
 * const g = new Graph();
 * const x = g.input("x", "float32", [1, 2]);
 * const w = g.param("w", [2, 2]);
 * const values = new Map([["w", new Float32Array([1, 0, 0, 1])]]);
 * await writeOnnx(await Deno.makeTempFile({ suffix: ".onnx" }), { y: g.matMul(x, w) }, (n) => values.get(n));
 * ```
 */
export async function writeOnnx(
  path: string | URL,
  outputs: Record<string, Tensor>,
  values: (name: string) => HostArray | undefined,
): Promise<OnnxModel> {
  const model = exportOnnx(outputs, { initializers: values });
  const params = new Set(
    prune(Object.values(outputs)).leaves.filter((t) => t.kind === "param").map((t) => t.name),
  );
  const missing = model.inputs.filter((v) => params.has(v.name));
  if (missing.length) {
    throw new TypeError(
      `Expected values for every param but found none for ${missing.map((v) => v.name).join(", ")}`,
    );
  }
  await Deno.writeFile(path, model.bytes);
  return model;
}

/**
 * The values a graph is made of: dtypes, symbolic tensors, nodes and the
 * list of primitive ops, with the host arrays that carry each dtype.
 *
 * @module
 */

import type { Graph } from "./graph.ts";
import type { Initializer } from "./init.ts";
import type { Shape } from "./_shape.ts";

export type { Shape } from "./_shape.ts";

/** Element types a tensor may have. */
export type DType = "float32" | "float64" | "int64" | "int32" | "bool";

/** The typed array that holds each {@linkcode DType} on the host. */
export interface DTypeArray {
  float32: Float32Array;
  float64: Float64Array;
  int64: BigInt64Array;
  int32: Int32Array;
  bool: Uint8Array;
}

/** Any host array a tensor's values may live in. */
export type HostArray = DTypeArray[DType];

/** Every primitive op, by its ONNX name. The gradient table is keyed by this. */
export const OP_TYPES = [
  "MatMul",
  "Add",
  "Sub",
  "Mul",
  "Div",
  "Mod",
  "Pow",
  "Max",
  "Min",
  "Neg",
  "Abs",
  "Exp",
  "Log",
  "Sqrt",
  "Relu",
  "Tanh",
  "Sigmoid",
  "Erf",
  "Where",
  "Equal",
  "Less",
  "Cast",
  "ReduceSum",
  "ReduceMean",
  "ReduceMax",
  "ArgMax",
  "Softmax",
  "LogSoftmax",
  "Gather",
  "ScatterElements",
  "Reshape",
  "Transpose",
  "Concat",
  "Slice",
  "Pad",
  "Unsqueeze",
  "Squeeze",
  "Expand",
] as const;

/** A primitive op's ONNX name. */
export type OpType = typeof OP_TYPES[number];

/** Static attributes of a node; the exporter turns some into ONNX inputs. */
export type Attrs = Record<string, number | readonly number[] | string>;

/** Where a tensor's value comes from. */
export type TensorKind = "input" | "param" | "constant" | "op";

/** A symbolic tensor: a value of known dtype and shape in one {@linkcode Graph}. */
export interface Tensor {
  readonly id: number;
  readonly kind: TensorKind;
  /** The ONNX value name: the given name for inputs and params. */
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly graph: Graph;
  /** The node that computes it (kind `op`). */
  readonly node?: Node;
  /** The values of a constant. */
  readonly value?: HostArray;
  /** How to draw a parameter's first values. */
  readonly init?: Initializer;
}

/** One primitive op application with a single output. */
export interface Node {
  readonly op: OpType;
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly attrs: Readonly<Attrs>;
}

/** A tensor, or a number lifted to a scalar constant of the other operand's dtype. */
export type Operand = Tensor | number;

const FLOATS: ReadonlySet<DType> = new Set(["float32", "float64"]);

/** Whether a dtype is a floating-point type (the only ones gradients flow through). */
export function isFloat(dtype: DType): boolean {
  return FLOATS.has(dtype);
}

/** Allocates a host array of the dtype's kind. */
export function hostArray(dtype: DType, n: number): HostArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    case "int64":
      return new BigInt64Array(n);
    case "int32":
      return new Int32Array(n);
    case "bool":
      return new Uint8Array(n);
  }
}

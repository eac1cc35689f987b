/**
 * The graph builder: typed symbolic tensors with static shapes, and the small
 * set of primitive ops, named exactly as ONNX names them. Shapes are checked
 * as the graph is built, so a mistake surfaces at the line that made it, as a
 * `TypeError` naming the op and the shapes.
 *
 * @module
 */

import { GraphBase } from "./_graph_base.ts";
import type { DType, Operand, OpType, Tensor } from "./tensor.ts";
import { broadcastShapes, fmt, normAxes, normAxis, sameShape, type Shape, size } from "./_shape.ts";

export type { ParamOptions } from "./_graph_base.ts";
export * from "./tensor.ts";

/**
 * A graph under construction. Nodes are appended in build order, which is
 * therefore a topological order. Numbers given as operands become scalar
 * constants of the other operand's dtype.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * const g = new Graph();
 * const x = g.input("x", "float32", [2, 3]);
 * const w = g.param("layer.weight", [3, 4]);
 * const y = g.relu(g.add(g.matMul(x, w), 1));
 * console.log(y.shape); // [2, 4]
 * ```
 */
export class Graph extends GraphBase {
  /** A tensor of zeros of the given shape, without materialising a constant. */
  zeros(shape: Shape, dtype: DType = "float32"): Tensor {
    return this.expand(this.scalar(0, dtype), shape);
  }

  #binary(op: OpType, a: Operand, b: Operand, boolOut = false): Tensor {
    const x = this.lift(a, b), y = this.lift(b, a);
    this.sameDtype(op, [x, y]);
    return this.node(op, [x, y], boolOut ? "bool" : x.dtype, this.broadcast(op, [x, y]));
  }

  #unary(op: OpType, x: Tensor, floatOnly = true): Tensor {
    if (floatOnly) this.float(op, x);
    return this.node(op, [x], x.dtype, x.shape);
  }

  /** Matrix product of rank >= 2 tensors with numpy-broadcast batch dims. */
  matMul(a: Tensor, b: Tensor): Tensor {
    const found = `${fmt(a.shape)} and ${fmt(b.shape)}`;
    if (a.shape.length < 2 || b.shape.length < 2) {
      throw new TypeError(`MatMul expects rank >= 2 tensors but found ${found}`);
    }
    this.sameDtype("MatMul", [a, b]);
    const [m, k] = a.shape.slice(-2), [k2, n] = b.shape.slice(-2);
    if (k !== k2) {
      throw new TypeError(`MatMul expects inner dimensions to match but found ${found}`);
    }
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    if (!batch) {
      throw new TypeError(`MatMul expects broadcastable batch dimensions but found ${found}`);
    }
    return this.node("MatMul", [a, b], a.dtype, [...batch, m, n]);
  }

  /** `a + b`, broadcasting. */
  add(a: Operand, b: Operand): Tensor {
    return this.#binary("Add", a, b);
  }
  /** `a - b`, broadcasting. */
  sub(a: Operand, b: Operand): Tensor {
    return this.#binary("Sub", a, b);
  }
  /** `a * b`, broadcasting. */
  mul(a: Operand, b: Operand): Tensor {
    return this.#binary("Mul", a, b);
  }
  /** `a / b`, broadcasting. */
  div(a: Operand, b: Operand): Tensor {
    return this.#binary("Div", a, b);
  }
  /** `a mod b` of integers (ONNX `Mod`, fmod 0), broadcasting; no gradient. */
  mod(a: Operand, b: Operand): Tensor {
    const x = this.lift(a, b);
    if (x.dtype !== "int64" && x.dtype !== "int32") {
      throw new TypeError(`Mod expects int32 or int64 operands but found ${x.dtype}`);
    }
    return this.#binary("Mod", a, b);
  }
  /** `a ** b`, broadcasting. */
  pow(a: Operand, b: Operand): Tensor {
    return this.#binary("Pow", a, b);
  }
  /** Elementwise maximum (ONNX `Max` with two inputs). */
  max(a: Operand, b: Operand): Tensor {
    return this.#binary("Max", a, b);
  }
  /** Elementwise minimum (ONNX `Min` with two inputs). */
  min(a: Operand, b: Operand): Tensor {
    return this.#binary("Min", a, b);
  }
  /** `a == b` as bool. */
  equal(a: Operand, b: Operand): Tensor {
    return this.#binary("Equal", a, b, true);
  }
  /** `a < b` as bool. */
  less(a: Operand, b: Operand): Tensor {
    return this.#binary("Less", a, b, true);
  }
  /** `-x`. */
  neg(x: Tensor): Tensor {
    return this.#unary("Neg", x, false);
  }
  /** `|x|`. */
  abs(x: Tensor): Tensor {
    return this.#unary("Abs", x, false);
  }
  /** `e^x`. */
  exp(x: Tensor): Tensor {
    return this.#unary("Exp", x);
  }
  /** Natural log. */
  log(x: Tensor): Tensor {
    return this.#unary("Log", x);
  }
  /** Square root. */
  sqrt(x: Tensor): Tensor {
    return this.#unary("Sqrt", x);
  }
  /** `max(x, 0)`. */
  relu(x: Tensor): Tensor {
    return this.#unary("Relu", x);
  }
  /** Hyperbolic tangent. */
  tanh(x: Tensor): Tensor {
    return this.#unary("Tanh", x);
  }
  /** `1 / (1 + e^-x)`. */
  sigmoid(x: Tensor): Tensor {
    return this.#unary("Sigmoid", x);
  }
  /** The error function (ORT has float32 kernels only). */
  erf(x: Tensor): Tensor {
    return this.#unary("Erf", x);
  }

  /** `cond ? a : b`, broadcasting all three. */
  where(cond: Tensor, a: Operand, b: Operand): Tensor {
    if (cond.dtype !== "bool") {
      throw new TypeError(`Where expects a bool condition but found ${cond.dtype}`);
    }
    const x = this.lift(a, b), y = this.lift(b, a);
    this.sameDtype("Where", [x, y]);
    return this.node("Where", [cond, x, y], x.dtype, this.broadcast("Where", [cond, x, y]));
  }

  /** Converts to another dtype (a no-op when it already has it). */
  cast(x: Tensor, to: DType): Tensor {
    if (x.dtype === to) return x;
    return this.node("Cast", [x], to, x.shape, { to });
  }

  #reduce(op: OpType, x: Tensor, axes: readonly number[] | undefined, keepdims: boolean) {
    const r = x.shape.length;
    const ax = axes === undefined
      ? [...Array(r).keys()]
      : normAxes(op, axes, r).sort((p, q) => p - q);
    const shape = keepdims
      ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !ax.includes(i));
    if (op !== "ReduceSum") this.float(op, x);
    return this.node(op, [x], x.dtype, shape, { axes: ax, keepdims: keepdims ? 1 : 0 });
  }

  /** Sum over `axes` (all when omitted); `keepdims` defaults to true, as in ONNX. */
  reduceSum(x: Tensor, axes?: readonly number[], keepdims = true): Tensor {
    return this.#reduce("ReduceSum", x, axes, keepdims);
  }
  /** Mean over `axes` (all when omitted). */
  reduceMean(x: Tensor, axes?: readonly number[], keepdims = true): Tensor {
    return this.#reduce("ReduceMean", x, axes, keepdims);
  }
  /** Maximum over `axes` (all when omitted). */
  reduceMax(x: Tensor, axes?: readonly number[], keepdims = true): Tensor {
    return this.#reduce("ReduceMax", x, axes, keepdims);
  }

  /** Index of the largest entry along `axis`, the first of ties (int64, ONNX `ArgMax`); no gradient. */
  argMax(x: Tensor, axis = -1, keepdims = false): Tensor {
    this.float("ArgMax", x);
    const a = normAxis("ArgMax", axis, x.shape.length);
    const shape = keepdims
      ? x.shape.map((d, i) => (i === a ? 1 : d))
      : x.shape.filter((_, i) => i !== a);
    return this.node("ArgMax", [x], "int64", shape, { axis: a, keepdims: keepdims ? 1 : 0 });
  }

  /** Softmax along one axis. */
  softmax(x: Tensor, axis = -1): Tensor {
    this.float("Softmax", x);
    const a = normAxis("Softmax", axis, x.shape.length);
    return this.node("Softmax", [x], x.dtype, x.shape, { axis: a });
  }
  /** Log of the softmax along one axis, computed stably. */
  logSoftmax(x: Tensor, axis = -1): Tensor {
    this.float("LogSoftmax", x);
    const a = normAxis("LogSoftmax", axis, x.shape.length);
    return this.node("LogSoftmax", [x], x.dtype, x.shape, { axis: a });
  }

  /** Slabs of `data` along `axis` picked by `indices` (int64 or int32). */
  gather(data: Tensor, indices: Tensor, axis = 0): Tensor {
    if (indices.dtype !== "int64" && indices.dtype !== "int32") {
      throw new TypeError(`Gather expects int64 or int32 indices but found ${indices.dtype}`);
    }
    const a = normAxis("Gather", axis, data.shape.length);
    const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
    return this.node("Gather", [data, indices], data.dtype, shape, { axis: a });
  }

  /**
   * `out = data; out[..., indices[i], ...] (+)= updates[i]` along `axis`, with
   * `indices` (int64) shaped like `updates`. With `"add"`, repeated indices
   * accumulate; ORT runs it sequentially, so the sums are exact and repeatable.
   */
  scatterElements(
    data: Tensor,
    indices: Tensor,
    updates: Tensor,
    options: { axis?: number; reduction?: "none" | "add" } = {},
  ): Tensor {
    const r = data.shape.length, axis = normAxis("ScatterElements", options.axis ?? 0, r);
    const fits = updates.shape.length === r &&
      updates.shape.every((d, i) => i === axis || d <= data.shape[i]);
    if (indices.dtype !== "int64" || !sameShape(indices.shape, updates.shape) || !fits) {
      throw new TypeError(
        `ScatterElements expects int64 indices shaped like updates and fitting ${
          fmt(data.shape)
        } ` +
          `but found ${indices.dtype} ${fmt(indices.shape)} and ${fmt(updates.shape)}`,
      );
    }
    this.sameDtype("ScatterElements", [data, updates]);
    const attrs = { axis, reduction: options.reduction ?? "none" };
    return this.node("ScatterElements", [data, indices, updates], data.dtype, data.shape, attrs);
  }

  /** The same elements in a new shape; one dim may be -1. */
  reshape(x: Tensor, shape: readonly number[]): Tensor {
    const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
    const out = shape.map((d) => (d === -1 ? size(x.shape) / known : d));
    const holes = shape.filter((d) => d === -1).length;
    if (holes > 1 || size(out) !== size(x.shape) || !out.every(Number.isInteger)) {
      throw new TypeError(
        `Reshape expects the same number of elements but found ${fmt(x.shape)} and ${fmt(shape)}`,
      );
    }
    if (sameShape(out, x.shape)) return x;
    return this.node("Reshape", [x], x.dtype, out, { shape: out });
  }

  /** Permutes axes (reverses them when `perm` is omitted). */
  transpose(x: Tensor, perm?: readonly number[]): Tensor {
    const r = x.shape.length;
    const p = perm ?? [...Array(r).keys()].reverse();
    if (p.length !== r || normAxes("Transpose", p, r).some((a, i) => a !== p[i])) {
      throw new TypeError(
        `Transpose expects a permutation of ${r} axes but found [${p}] for ${fmt(x.shape)}`,
      );
    }
    if (p.every((a, i) => a === i)) return x;
    // Fold a transpose of a transpose into one (or none): backward passes
    // produce these pairs around weights stored as [out, in].
    if (x.node?.op === "Transpose") {
      const inner = x.node.attrs.perm as number[];
      return this.transpose(x.node.inputs[0], p.map((a) => inner[a]));
    }
    return this.node("Transpose", [x], x.dtype, p.map((a) => x.shape[a]), { perm: p });
  }

  /** Joins tensors along an axis. */
  concat(xs: readonly Tensor[], axis: number): Tensor {
    if (xs.length === 0) throw new TypeError("Concat expects at least one tensor but found none");
    const first = xs[0].shape, a = normAxis("Concat", axis, first.length);
    this.sameDtype("Concat", xs);
    for (const { shape: s } of xs) {
      if (s.length !== first.length || s.some((d, i) => i !== a && d !== first[i])) {
        throw new TypeError(
          `Concat expects shapes equal off axis ${a} but found ${fmt(first)} and ${fmt(s)}`,
        );
      }
    }
    const shape = [...first];
    shape[a] = xs.reduce((s, t) => s + t.shape[a], 0);
    return this.node("Concat", [...xs], xs[0].dtype, shape, { axis: a });
  }

  /** `x[starts:ends]` along `axes` (default: the leading ones), step 1, numpy clamping. */
  slice(x: Tensor, starts: readonly number[], ends: readonly number[], axes?: readonly number[]) {
    const ax = normAxes("Slice", axes ?? starts.map((_, i) => i), x.shape.length);
    if (starts.length !== ax.length || ends.length !== ax.length) {
      throw new TypeError(
        `Slice expects one start and end per axis but found ${starts.length} starts, ` +
          `${ends.length} ends and ${ax.length} axes`,
      );
    }
    const shape = [...x.shape], st: number[] = [], en: number[] = [];
    ax.forEach((a, i) => {
      const d = x.shape[a];
      const clamp = (v: number) => Math.min(d, Math.max(0, v < 0 ? v + d : v));
      st.push(clamp(starts[i]));
      en.push(Math.max(st[i], clamp(ends[i])));
      shape[a] = en[i] - st[i];
    });
    return this.node("Slice", [x], x.dtype, shape, { starts: st, ends: en, axes: ax });
  }

  /** Zero padding: `pads` lists the begins of every axis, then the ends. */
  pad(x: Tensor, pads: readonly number[]): Tensor {
    const r = x.shape.length;
    if (pads.length !== 2 * r || pads.some((p) => !Number.isInteger(p) || p < 0)) {
      throw new TypeError(
        `Pad expects ${2 * r} non-negative pads for ${fmt(x.shape)} but found [${pads}]`,
      );
    }
    const shape = x.shape.map((d, i) => d + pads[i] + pads[i + r]);
    return this.node("Pad", [x], x.dtype, shape, { pads: [...pads] });
  }

  /** Inserts size-1 axes at the given output positions. */
  unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
    const r = x.shape.length + axes.length;
    const ax = normAxes("Unsqueeze", axes, r).sort((p, q) => p - q);
    const shape: number[] = [];
    for (let i = 0, j = 0; i < r; i++) shape.push(ax.includes(i) ? 1 : x.shape[j++]);
    return this.node("Unsqueeze", [x], x.dtype, shape, { axes: ax });
  }

  /** Removes the given size-1 axes. */
  squeeze(x: Tensor, axes: readonly number[]): Tensor {
    const ax = normAxes("Squeeze", axes, x.shape.length).sort((p, q) => p - q);
    if (ax.some((a) => x.shape[a] !== 1)) {
      throw new TypeError(`Squeeze expects size-1 axes [${axes}] but found ${fmt(x.shape)}`);
    }
    const shape = x.shape.filter((_, i) => !ax.includes(i));
    return this.node("Squeeze", [x], x.dtype, shape, { axes: ax });
  }

  /** Broadcasts `x` against `shape` (numpy rules, as ONNX `Expand`). */
  expand(x: Tensor, shape: readonly number[]): Tensor {
    const out = broadcastShapes(x.shape, shape);
    if (!out) {
      throw new TypeError(
        `Expand expects broadcastable shapes but found ${fmt(x.shape)} and ${fmt(shape)}`,
      );
    }
    if (sameShape(out, x.shape)) return x;
    return this.node("Expand", [x], x.dtype, out, { shape: out });
  }
}

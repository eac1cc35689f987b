/**
 * The gradient table: one rule per primitive op, `null` where an op is not
 * differentiable. Keyed by {@linkcode OpType}, so adding an op without
 * deciding its gradient is a type error.
 *
 * @module
 */

import { type Graph, isFloat, type Node, type OpType, type Tensor } from "./graph.ts";
import { invertPerm, sameShape, type Shape } from "./_shape.ts";

/** What a rule sees: the node, the gradient of its output, and which inputs need one. */
export interface GradContext {
  readonly g: Graph;
  readonly node: Node;
  /** d loss / d output, shaped like the output. */
  readonly dy: Tensor;
  /** `need[i]`: whether input `i` wants a gradient; a rule may skip the others. */
  readonly need: readonly boolean[];
}

/** Returns one gradient per input (shaped like that input), or `null` for none. */
export type GradRule = (ctx: GradContext) => (Tensor | null)[];

/**
 * Sums a broadcast gradient back to the shape of the operand it came from:
 * leading extra axes and axes the operand had as 1 are summed away.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { reduceToShape } from "./gradients.ts";
 * const g = new Graph();
 * const dy = g.input("dy", "float32", [4, 2, 3]);
 * console.log(reduceToShape(dy, [2, 1]).shape); // [2, 1]
 * ```
 */
export function reduceToShape(t: Tensor, shape: Shape): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const g = t.graph;
  const lead = t.shape.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < t.shape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && t.shape[i] !== 1)) axes.push(i);
  }
  return g.reshape(axes.length ? g.reduceSum(t, axes, true) : t, shape);
}

const mT = (g: Graph, t: Tensor) => {
  const r = t.shape.length;
  return g.transpose(t, [...Array(r - 2).keys(), r - 1, r - 2]);
};

/** Undoes broadcasting for both operands of a binary op. */
function both(ctx: GradContext, da: () => Tensor, db: () => Tensor): (Tensor | null)[] {
  const [a, b] = ctx.node.inputs;
  return [
    ctx.need[0] ? reduceToShape(da(), a.shape) : null,
    ctx.need[1] ? reduceToShape(db(), b.shape) : null,
  ];
}

/** Puts a reduced gradient back on the reduced axes, then broadcasts it. */
function unreduce(g: Graph, node: Node, dy: Tensor): Tensor {
  const axes = node.attrs.axes as number[];
  const kept = node.attrs.keepdims ? dy : g.unsqueeze(dy, axes);
  return g.expand(kept, node.inputs[0].shape);
}

function matMulGrad({ g, node, dy, need }: GradContext): (Tensor | null)[] {
  const [a, b] = node.inputs;
  let db: Tensor | null = null;
  if (need[1]) {
    if (b.shape.length === 2) {
      // A shared weight: fold the batch into rows for one large GEMM instead
      // of a batched product and a reduction. When b is a transposed weight
      // (x @ W^T), produce dW^T so the two transposes cancel and dW comes
      // straight from dy^T @ a.
      const k = a.shape[a.shape.length - 1], n = b.shape[1];
      const a2 = g.reshape(a, [-1, k]), dy2 = g.reshape(dy, [-1, n]);
      db = b.node?.op === "Transpose"
        ? g.transpose(g.matMul(g.transpose(dy2), a2))
        : g.matMul(g.transpose(a2), dy2);
    } else {
      db = reduceToShape(g.matMul(mT(g, a), dy), b.shape);
    }
  }
  const da = need[0] ? reduceToShape(g.matMul(dy, mT(g, b)), a.shape) : null;
  return [da, db];
}

function gatherGrad({ g, node, dy }: GradContext): (Tensor | null)[] {
  const [data, indices] = node.inputs;
  const axis = node.attrs.axis as number;
  // View everything as [outer, rows, inner] and accumulate rows with
  // ScatterElements(reduction="add"). Not ScatterND: ORT's CPU ScatterND
  // splits updates across threads and races on repeated indices.
  const outer = data.shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const inner = data.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const n = indices.shape.reduce((p, d) => p * d, 1);
  const idx = g.reshape(g.cast(indices, "int64"), [1, n, 1]);
  const scattered = g.scatterElements(
    g.zeros([outer, data.shape[axis], inner], data.dtype),
    g.expand(idx, [outer, n, inner]),
    g.reshape(dy, [outer, n, inner]),
    { axis: 1, reduction: "add" },
  );
  return [g.reshape(scattered, data.shape), null];
}

/** The gradient rule of every primitive op; `null` = not differentiable. */
export const GRADIENTS: Record<OpType, GradRule | null> = {
  MatMul: matMulGrad,
  Add: (c) => both(c, () => c.dy, () => c.dy),
  Sub: (c) => both(c, () => c.dy, () => c.g.neg(c.dy)),
  Mul: (c) => both(c, () => c.g.mul(c.dy, c.node.inputs[1]), () => c.g.mul(c.dy, c.node.inputs[0])),
  Div: ({ g, node, dy, need }) => {
    const [, b] = node.inputs;
    return both(
      { g, node, dy, need },
      () => g.div(dy, b),
      () => g.neg(g.div(g.mul(dy, node.output), b)),
    );
  },
  Pow: ({ g, node, dy, need }) => {
    const [a, b] = node.inputs;
    return both(
      { g, node, dy, need },
      () => g.mul(dy, g.mul(b, g.pow(a, g.sub(b, 1)))),
      () => g.mul(dy, g.mul(node.output, g.log(a))),
    );
  },
  // Ties send the whole gradient to the first operand.
  Max: (c) => {
    const lt = c.g.less(c.node.inputs[0], c.node.inputs[1]);
    return both(c, () => c.g.where(lt, 0, c.dy), () => c.g.where(lt, c.dy, 0));
  },
  Min: (c) => {
    const gt = c.g.less(c.node.inputs[1], c.node.inputs[0]);
    return both(c, () => c.g.where(gt, 0, c.dy), () => c.g.where(gt, c.dy, 0));
  },
  Neg: ({ g, dy }) => [g.neg(dy)],
  // The subgradient at 0 is taken as +1.
  Abs: ({ g, node, dy }) => [g.where(g.less(node.inputs[0], 0), g.neg(dy), dy)],
  Exp: ({ g, node, dy }) => [g.mul(dy, node.output)],
  Log: ({ g, node, dy }) => [g.div(dy, node.inputs[0])],
  Sqrt: ({ g, node, dy }) => [g.div(g.mul(dy, 0.5), node.output)],
  // The subgradient at 0 is taken as 0. A float mask product is several
  // times faster in ORT than Where with a broadcast scalar.
  Relu: ({ g, node, dy }) => [g.mul(dy, g.cast(g.less(0, node.inputs[0]), dy.dtype))],
  Tanh: ({ g, node, dy }) => [g.mul(dy, g.sub(1, g.mul(node.output, node.output)))],
  Sigmoid: ({ g, node, dy }) => [g.mul(dy, g.mul(node.output, g.sub(1, node.output)))],
  Erf: ({ g, node, dy }) => {
    const x = node.inputs[0];
    return [g.mul(dy, g.mul(g.exp(g.neg(g.mul(x, x))), 2 / Math.sqrt(Math.PI)))];
  },
  Where: ({ g, node, dy, need }) => {
    const [c, a, b] = node.inputs;
    return [
      null,
      need[1] ? reduceToShape(g.where(c, dy, 0), a.shape) : null,
      need[2] ? reduceToShape(g.where(c, 0, dy), b.shape) : null,
    ];
  },
  Equal: null,
  ArgMax: null,
  Less: null,
  Mod: null,
  Cast: (
    { g, node, dy },
  ) => [isFloat(node.inputs[0].dtype) ? g.cast(dy, node.inputs[0].dtype) : null],
  ReduceSum: ({ g, node, dy }) => [unreduce(g, node, dy)],
  ReduceMean: ({ g, node, dy }) => {
    const x = node.inputs[0];
    const n = (node.attrs.axes as number[]).reduce((p, a) => p * x.shape[a], 1);
    return [unreduce(g, node, g.div(dy, n))];
  },
  // Ties share the gradient equally, as the mean of the maxima.
  ReduceMax: ({ g, node, dy }) => {
    const x = node.inputs[0];
    const axes = node.attrs.axes as number[];
    const keep = node.attrs.keepdims ? node.output : g.unsqueeze(node.output, axes);
    const mask = g.cast(g.equal(x, keep), x.dtype);
    const share = g.div(
      node.attrs.keepdims ? dy : g.unsqueeze(dy, axes),
      g.reduceSum(mask, axes, true),
    );
    return [g.mul(mask, share)];
  },
  Softmax: ({ g, node, dy }) => {
    const y = node.output, axis = node.attrs.axis as number;
    return [g.mul(y, g.sub(dy, g.reduceSum(g.mul(dy, y), [axis], true)))];
  },
  LogSoftmax: ({ g, node, dy }) => {
    const axis = node.attrs.axis as number;
    return [g.sub(dy, g.mul(g.exp(node.output), g.reduceSum(dy, [axis], true)))];
  },
  Gather: gatherGrad,
  ScatterElements: null,
  Reshape: ({ g, node, dy }) => [g.reshape(dy, node.inputs[0].shape)],
  Transpose: ({ g, node, dy }) => [g.transpose(dy, invertPerm(node.attrs.perm as number[]))],
  Concat: ({ g, node, dy, need }) => {
    const axis = node.attrs.axis as number;
    let start = 0;
    return node.inputs.map((x, i) => {
      const s = start;
      start += x.shape[axis];
      return need[i] ? g.slice(dy, [s], [s + x.shape[axis]], [axis]) : null;
    });
  },
  Slice: ({ g, node, dy }) => {
    const x = node.inputs[0], r = x.shape.length;
    const pads = new Array<number>(2 * r).fill(0);
    (node.attrs.axes as number[]).forEach((a, i) => {
      pads[a] = (node.attrs.starts as number[])[i];
      pads[a + r] = x.shape[a] - (node.attrs.ends as number[])[i];
    });
    return [g.pad(dy, pads)];
  },
  Pad: ({ g, node, dy }) => {
    const x = node.inputs[0], pads = node.attrs.pads as number[];
    return [g.slice(dy, x.shape.map((_, i) => pads[i]), x.shape.map((d, i) => pads[i] + d))];
  },
  Unsqueeze: ({ g, node, dy }) => [g.reshape(dy, node.inputs[0].shape)],
  Squeeze: ({ g, node, dy }) => [g.reshape(dy, node.inputs[0].shape)],
  Expand: ({ node, dy }) => [reduceToShape(dy, node.inputs[0].shape)],
};

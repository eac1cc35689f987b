/**
 * The bookkeeping half of {@linkcode Graph}: tensors, names, leaves (inputs,
 * params, constants) and node creation with the checks every op shares.
 * Private to `kernels/`; use `Graph` from `graph.ts`.
 *
 * @module
 */

import type { Rng } from "./rng.ts";
import type { Initializer } from "./init.ts";
import {
  type Attrs,
  type DType,
  type HostArray,
  hostArray,
  isFloat,
  type Node,
  type Operand,
  type OpType,
  type Tensor,
} from "./tensor.ts";
import { broadcastShapes, fmt, type Shape, size } from "./_shape.ts";

/** Options of {@linkcode GraphBase.param}. */
export interface ParamOptions {
  /** How the first values are drawn. @default zeros */
  init?: Initializer;
  /** @default "float32" */
  dtype?: DType;
}

/** Tensors, leaves and node plumbing; {@linkcode Graph} adds the ops. */
export class GraphBase {
  /** Every node, in build (topological) order. */
  readonly nodes: Node[] = [];
  /** Every tensor, by id. */
  readonly tensors: Tensor[] = [];
  /** Inputs whose values are drawn afresh on every call (e.g. dropout masks). */
  readonly random: Map<string, (rng: Rng) => HostArray> = new Map();
  readonly #names = new Map<string, Tensor>();
  readonly #scalars = new Map<string, Tensor>();

  #add(t: Omit<Tensor, "id" | "graph">): Tensor {
    // The base is only ever instantiated as a Graph.
    const tensor = { ...t, id: this.tensors.length, graph: this } as unknown as Tensor;
    this.tensors.push(tensor);
    return tensor;
  }

  #named(kind: "input" | "param", name: string, dtype: DType, shape: Shape, init?: Initializer) {
    if (this.#names.has(name)) {
      throw new TypeError(`Expected a unique tensor name but found "${name}" twice`);
    }
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new TypeError(
        `Expected non-negative integer dims for "${name}" but found ${fmt(shape)}`,
      );
    }
    const t = this.#add({ kind, name, dtype, shape: [...shape], init });
    this.#names.set(name, t);
    return t;
  }

  /** A value fed on every call. */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    return this.#named("input", name, dtype, shape);
  }

  /**
   * An input the runner draws on every call from its seeded {@linkcode Rng},
   * so randomness stays on the JS side and runs repeat exactly.
   */
  randomInput(name: string, dtype: DType, shape: Shape, draw: (rng: Rng) => HostArray): Tensor {
    const t = this.#named("input", name, dtype, shape);
    this.random.set(name, draw);
    return t;
  }

  /** A trainable value, named by structure (`encoder.block.0.attn.q.weight`). */
  param(name: string, shape: Shape, options: ParamOptions = {}): Tensor {
    return this.#named("param", name, options.dtype ?? "float32", shape, options.init);
  }

  /** The named input or param, if any. */
  byName(name: string): Tensor | undefined {
    return this.#names.get(name);
  }

  /** Every param, in declaration order. */
  params(): Tensor[] {
    return this.tensors.filter((t) => t.kind === "param");
  }

  /** A constant with the given values. */
  constant(value: HostArray | readonly number[], dtype: DType, shape: Shape): Tensor {
    const n = size(shape);
    if (value.length !== n) {
      throw new TypeError(
        `Expected ${n} values for a constant of shape ${fmt(shape)} but found ${value.length}`,
      );
    }
    const data = hostArray(dtype, n) as { [i: number]: number | bigint } & HostArray;
    for (let i = 0; i < n; i++) data[i] = dtype === "int64" ? BigInt(value[i]) : Number(value[i]);
    const name = `const_${this.tensors.length}`;
    return this.#add({ kind: "constant", name, dtype, shape: [...shape], value: data });
  }

  /** A scalar constant, shared between uses. */
  scalar(value: number, dtype: DType = "float32"): Tensor {
    const key = `${dtype}:${Object.is(value, -0) ? "-0" : value}`;
    let t = this.#scalars.get(key);
    if (!t) this.#scalars.set(key, t = this.constant([value], dtype, []));
    return t;
  }

  /** Lifts a number to a scalar of the other operand's dtype. */
  protected lift(x: Operand, like: Operand): Tensor {
    if (typeof x !== "number") return x;
    return this.scalar(x, typeof like === "number" ? "float32" : like.dtype);
  }

  /** Appends a node; its shape and dtype were checked by the caller. */
  protected node(op: OpType, inputs: Tensor[], dtype: DType, shape: Shape, attrs: Attrs = {}) {
    for (const t of inputs) {
      if ((t.graph as unknown) !== this) {
        throw new TypeError(`${op} expects tensors of one graph but found a foreign one`);
      }
    }
    // The node and its output refer to each other; the output is set right after.
    const node = { op, inputs, attrs, output: undefined as unknown as Tensor };
    const name = `t${this.tensors.length}`;
    node.output = this.#add({ kind: "op", name, dtype, shape: [...shape], node });
    this.nodes.push(node);
    return node.output;
  }

  /** Throws unless `x` is a float tensor. */
  protected float(op: string, x: Tensor): void {
    if (!isFloat(x.dtype)) throw new TypeError(`${op} expects a float tensor but found ${x.dtype}`);
  }

  /** Throws unless all tensors share a dtype. */
  protected sameDtype(op: string, ts: readonly Tensor[]): void {
    for (const t of ts) {
      if (t.dtype !== ts[0].dtype) {
        throw new TypeError(
          `${op} expects matching dtypes but found ${ts[0].dtype} and ${t.dtype}`,
        );
      }
    }
  }

  /** The broadcast shape, or a TypeError naming the op and every shape. */
  protected broadcast(op: string, ts: readonly Tensor[]): number[] {
    const out = broadcastShapes(...ts.map((t) => t.shape));
    if (!out) {
      const shapes = ts.map((t) => fmt(t.shape)).join(" and ");
      throw new TypeError(`${op} expects broadcastable shapes but found ${shapes}`);
    }
    return out;
  }
}

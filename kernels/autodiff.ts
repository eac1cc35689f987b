/**
 * Reverse-mode differentiation over a {@linkcode Graph}: prune to the nodes
 * that lie between the requested tensors and the loss, walk them in reverse
 * build order, apply each op's rule from {@linkcode GRADIENTS} and
 * accumulate. The gradient nodes are appended to the same graph.
 *
 * @module
 */

import { isFloat, type Tensor } from "./graph.ts";
import { GRADIENTS } from "./gradients.ts";
import { fmt, sameShape } from "./_shape.ts";

/** Options of {@linkcode gradients}. */
export interface GradientsOptions {
  /** d loss / d loss; required when the loss is not a scalar. @default 1 */
  seed?: Tensor;
}

/**
 * d `loss` / d `wrt[i]` for each requested tensor, each shaped like it. A
 * tensor the loss does not depend on gets zeros.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { gradients } from "./autodiff.ts";
 * const g = new Graph();
 * const x = g.input("x", "float32", [3]);
 * const [dx] = gradients(g.reduceSum(g.mul(x, x), undefined, false), [x]);
 * console.log(dx.shape); // [3]
 * ```
 */
export function gradients(
  loss: Tensor,
  wrt: readonly Tensor[],
  options: GradientsOptions = {},
): Tensor[] {
  const g = loss.graph;
  if (!isFloat(loss.dtype)) throw new TypeError(`Expected a float loss but found ${loss.dtype}`);
  const seed = options.seed ?? (loss.shape.length === 0 ? g.scalar(1, loss.dtype) : undefined);
  if (!seed || !sameShape(seed.shape, loss.shape)) {
    throw new TypeError(
      `Expected a scalar loss or a seed of shape ${fmt(loss.shape)} but found ${
        seed ? fmt(seed.shape) : "none"
      }`,
    );
  }
  for (const t of wrt) {
    if (!isFloat(t.dtype)) {
      throw new TypeError(`Expected float tensors to differentiate but "${t.name}" is ${t.dtype}`);
    }
  }

  // Forward: float tensors that depend on something in `wrt`.
  const depends = new Set(wrt.map((t) => t.id));
  const nodes = g.nodes.slice(0, (loss.node ? g.nodes.indexOf(loss.node) : -1) + 1);
  for (const n of nodes) {
    if (isFloat(n.output.dtype) && n.inputs.some((t) => depends.has(t.id))) {
      depends.add(n.output.id);
    }
  }
  // Backward: tensors the loss depends on.
  const feeds = new Set([loss.id]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    if (feeds.has(nodes[i].output.id)) { for (const t of nodes[i].inputs) feeds.add(t.id); }
  }

  const grads = new Map<number, Tensor>([[loss.id, seed]]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    const dy = grads.get(node.output.id);
    if (!dy || !depends.has(node.output.id) || !feeds.has(node.output.id)) continue;
    const need = node.inputs.map((t) => depends.has(t.id) && feeds.has(t.id));
    if (!need.some(Boolean)) continue;
    const rule = GRADIENTS[node.op];
    if (!rule) {
      throw new TypeError(
        `${node.op} is not differentiable but lies between the loss and an input`,
      );
    }
    const results = rule({ g, node, dy, need });
    node.inputs.forEach((x, j) => {
      const dx = results[j];
      if (!need[j] || !dx) return;
      if (!sameShape(dx.shape, x.shape)) {
        throw new TypeError(
          `${node.op} gradient expects shape ${fmt(x.shape)} for input ${j} but found ${
            fmt(dx.shape)
          }`,
        );
      }
      const prev = grads.get(x.id);
      grads.set(x.id, prev ? g.add(prev, dx) : dx);
    });
  }
  return wrt.map((t) => grads.get(t.id) ?? g.zeros(t.shape, t.dtype));
}

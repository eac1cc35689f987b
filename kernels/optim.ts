/**
 * Optimizers as pure update rules, `(param, grad, state) -> (param', state')`,
 * emitted into the step graph. State tensors are explicit and named
 * (`opt.m.<param>`, `opt.step.<param>`), so they checkpoint like params. The
 * learning rate is an input (`opt.lr`), so schedules need no recompiling.
 *
 * @module
 */

import type { Graph, Tensor } from "./graph.ts";

/** A state tensor an optimizer keeps per param. */
export interface StateSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/** An update rule for one param. */
export interface Optimizer {
  /** The learning rate used when a run does not override it. */
  readonly lr: number;
  /** The state tensors kept for a param (all start at zero). */
  state(param: string, shape: readonly number[]): StateSpec[];
  /** Emits `(param', state')`; `state` is in the order of {@linkcode Optimizer.state}. */
  update(param: Tensor, grad: Tensor, state: readonly Tensor[], lr: Tensor): {
    param: Tensor;
    state: Tensor[];
  };
}

/** Name of the learning-rate input of every step graph. */
export const LR_INPUT = "opt.lr";

/** Options of {@linkcode sgd}. */
export interface SgdOptions {
  lr: number;
  /** @default 0 (no velocity state) */
  momentum?: number;
  /** Coupled L2 penalty added to the gradient. @default 0 */
  weightDecay?: number;
}

/**
 * Stochastic gradient descent, optionally with (PyTorch-style) momentum:
 * `v' = momentum * v + g; p' = p - lr * v'`.
 *
 * @example
 * ```ts
 * import { sgd } from "./optim.ts";
 * const opt = sgd({ lr: 0.1, momentum: 0.9 });
 * ```
 */
export function sgd(options: SgdOptions): Optimizer {
  const { lr, momentum = 0, weightDecay = 0 } = options;
  return {
    lr,
    state: (name, shape) => (momentum ? [{ name: `opt.velocity.${name}`, shape }] : []),
    update(p, grad, state, lrT) {
      const g = p.graph;
      const d = weightDecay ? g.add(grad, g.mul(p, weightDecay)) : grad;
      if (!momentum) return { param: g.sub(p, g.mul(d, lrT)), state: [] };
      const v = g.add(g.mul(state[0], momentum), d);
      return { param: g.sub(p, g.mul(v, lrT)), state: [v] };
    },
  };
}

/** Options of {@linkcode adam} and {@linkcode adamw}. */
export interface AdamOptions {
  lr: number;
  /** @default 0.9 */
  beta1?: number;
  /** @default 0.999 */
  beta2?: number;
  /** @default 1e-8 */
  eps?: number;
  /** Adam: coupled L2 on the gradient; AdamW: decoupled decay. @default 0 for adam, 0.01 for adamw */
  weightDecay?: number;
  /** Params (by name) exempt from decay, e.g. norms and biases. @default none */
  noDecay?: (name: string) => boolean;
}

function adamLike(options: AdamOptions, decoupled: boolean): Optimizer {
  const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, noDecay = () => false } = options;
  const weightDecay = options.weightDecay ?? (decoupled ? 0.01 : 0);
  return {
    lr,
    state: (name, shape) => [
      { name: `opt.m.${name}`, shape },
      { name: `opt.v.${name}`, shape },
      { name: `opt.step.${name}`, shape: [] },
    ],
    update(p, grad, [m, v, step], lrT) {
      const g: Graph = p.graph;
      const wd = noDecay(p.name) ? 0 : weightDecay;
      const d = wd && !decoupled ? g.add(grad, g.mul(p, wd)) : grad;
      const t = g.add(step, 1);
      const m2 = g.add(g.mul(m, beta1), g.mul(d, 1 - beta1));
      const v2 = g.add(g.mul(v, beta2), g.mul(g.mul(d, d), 1 - beta2));
      // Bias corrections fold into two scalars, as in PyTorch:
      // p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
      // They are computed in float64 (as PyTorch does on the host): in float32,
      // 1 - 0.999^t loses about 1e-4 of its value at small t.
      const t64 = g.cast(t, "float64");
      const bc = (beta: number) => g.sub(1, g.pow(g.scalar(beta, "float64"), t64));
      const stepSize = g.div(lrT, g.cast(bc(beta1), "float32"));
      const rootBc2 = g.cast(g.sqrt(bc(beta2)), "float32");
      const denom = g.add(g.div(g.sqrt(v2), rootBc2), eps);
      const base = wd && decoupled ? g.mul(p, g.sub(1, g.mul(lrT, wd))) : p;
      return { param: g.sub(base, g.mul(g.div(m2, denom), stepSize)), state: [m2, v2, t] };
    },
  };
}

/**
 * Adam (Kingma & Ba) with bias correction; weight decay, if any, is the
 * coupled L2 kind.
 *
 * @example
 * ```ts
 * import { adam } from "./optim.ts";
 * const opt = adam({ lr: 1e-3 });
 * ```
 */
export function adam(options: AdamOptions): Optimizer {
  return adamLike(options, false);
}

/**
 * AdamW (Loshchilov & Hutter): Adam with decoupled weight decay,
 * `p' = p * (1 - lr * wd) - lr * mhat / (sqrt(vhat) + eps)`.
 *
 * @example
 * ```ts
 * import { adamw } from "./optim.ts";
 * const opt = adamw({ lr: 1e-3, weightDecay: 0.01, noDecay: (n) => n.endsWith(".bias") });
 * ```
 */
export function adamw(options: AdamOptions): Optimizer {
  return adamLike(options, true);
}

/**
 * Test support: compares reverse-mode gradients with central finite
 * differences. Private to `kernels/` tests.
 *
 * @module
 */

import type { Rng } from "./rng.ts";
import { gradients } from "./autodiff.ts";
import { Graph, type Tensor } from "./graph.ts";
import { exportOnnx } from "./onnx_export.ts";
import { type HostTensor, loadSession } from "./runtime.ts";

/** How test points are drawn: `any` includes exact zeros and negatives. */
export type PointKind = "any" | "nonzero" | "positive" | "dyadic";

/** Draws a test point: normals, with every fifth entry 0 for `any`. */
export function points(rng: Rng, n: number, kind: PointKind = "any"): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    if (kind === "positive") out[i] = 0.3 + Math.abs(z);
    else if (kind === "dyadic") out[i] = Math.round(z * 64) / 64;
    else if (kind === "nonzero") out[i] = Math.sign(z || 1) * (0.2 + Math.abs(z));
    else out[i] = i % 5 === 2 ? 0 : z;
  }
  return out;
}

/** One differentiable input of a check. */
export interface CheckInput {
  readonly shape: readonly number[];
  readonly values: Float64Array;
}

/** Options of {@linkcode gradCheck}. */
export interface GradCheckOptions {
  /** @default 1e-6 */
  h?: number;
  /** Graph dtype; float32 only where ORT lacks a float64 kernel. @default "float64" */
  dtype?: "float64" | "float32";
  /** A float64 JS forward (of inputs, then params) for the differences when the graph cannot run in float64. */
  reference?: (xs: Float64Array[]) => Float64Array;
}

/**
 * Builds `loss = sum(build(xs) * w)` for a fixed random `w`, and returns the
 * relative error `|analytic - numeric| / (|analytic| + |numeric|)` (2-norms
 * over all inputs together).
 */
export async function gradCheck(
  rng: Rng,
  build: (g: Graph, xs: Tensor[]) => Tensor,
  inputs: readonly CheckInput[],
  options: GradCheckOptions = {},
): Promise<number> {
  const { h = 1e-6, dtype = "float64", reference } = options;
  const g = new Graph();
  const xs = inputs.map((x, i) => g.input(`x${i}`, dtype, x.shape));
  const out = build(g, xs);
  const wv = points(rng, out.shape.reduce((p, d) => p * d, 1), "nonzero");
  const w = g.constant(wv, dtype, out.shape);
  const loss = g.reduceSum(g.mul(out, w), undefined, false);
  // Params made by composites are checked too, at random points.
  const params = g.params();
  const leaves = [...xs, ...params];
  const grads = gradients(loss, leaves);
  const outputs: Record<string, Tensor> = {};
  grads.forEach((t, i) => (outputs[`g${i}`] = t));
  const analyticSession = await loadSession(exportOnnx(outputs));
  const raw = [
    ...inputs.map((x) => x.values),
    ...params.map((p) => points(rng, p.shape.reduce((a, d) => a * d, 1))),
  ];
  const values = raw.map((
    v,
  ) => (dtype === "float32" ? Float64Array.from(Float32Array.from(v)) : v));
  const feedsOf = (vs: Float64Array[]) => {
    const feeds: Record<string, HostTensor> = {};
    vs.forEach((
      v,
      i,
    ) => (feeds[leaves[i].name] = {
      data: dtype === "float32" ? Float32Array.from(v) : v,
      shape: leaves[i].shape,
    }));
    return feeds;
  };
  const analytic = await analyticSession.run(feedsOf(values));

  let lossOf: (vs: Float64Array[]) => Promise<number>;
  if (reference) {
    lossOf = (vs) => Promise.resolve(reference(vs).reduce((s, v, i) => s + v * wv[i], 0));
  } else {
    const lossSession = await loadSession(exportOnnx({ loss }));
    lossOf = async (vs) => Number((await lossSession.run(feedsOf(vs))).loss.data[0]);
  }
  let num2 = 0, ana2 = 0, diff2 = 0;
  for (let i = 0; i < values.length; i++) {
    const a = analytic[`g${i}`].data as Float64Array | Float32Array;
    for (let j = 0; j < values[i].length; j++) {
      const plus = values.map((v) => v.slice()), minus = values.map((v) => v.slice());
      plus[i][j] += h;
      minus[i][j] -= h;
      const n = ((await lossOf(plus)) - (await lossOf(minus))) / (2 * h);
      num2 += n * n;
      ana2 += a[j] * a[j];
      diff2 += (a[j] - n) ** 2;
    }
  }
  const denom = Math.sqrt(num2) + Math.sqrt(ana2);
  return denom === 0 ? 0 : Math.sqrt(diff2) / denom;
}

/** A float64 erf (series; accurate to ~1e-15 for |x| <= 3) for references. */
export function erf64(x: number): number {
  if (Math.abs(x) > 3) return Math.sign(x) * (1 - erfcTail(Math.abs(x)));
  let term = x, sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

function erfcTail(x: number): number {
  // Continued fraction, converges fast for x > 3.
  let f = 0;
  for (let k = 60; k >= 1; k--) f = (k / 2) / (x + f);
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / (x + f);
}

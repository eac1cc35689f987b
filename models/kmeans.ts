/**
 * Lloyd's k-means as NCL's E-step uses it (RecBole calls faiss'
 * `Kmeans(d, k)` with its defaults: 25 iterations, `k` points drawn at
 * random as the first centroids, squared Euclidean distance). The
 * assignment step, `argmax_c (x . c - |c|^2 / 2)` for every point, is one
 * compiled ONNX Runtime session (`MatMul`, then `ArgMax`); the update step
 * averages the assigned points in JS. An empty cluster takes a random point
 * as its centroid, as faiss moves an empty centroid next to a populated one.
 *
 * @module
 */
import {
  compileInference,
  type Device,
  Graph,
  type Inference,
  ParamStore,
  type Rng,
} from "../kernels/mod.ts";

/** Options of {@linkcode createKmeans}. */
export interface KmeansOptions {
  /** Points per run (fixed: the session's static shape). */
  readonly points: number;
  readonly clusters: number;
  readonly dim: number;
  /** Lloyd iterations. @default 25 (faiss) */
  readonly iterations?: number;
  /** ONNX Runtime intra-op threads. @default 1 */
  readonly threads?: number;
  readonly device?: Device;
}

/** The result of one clustering. */
export interface KmeansResult {
  /** `clusters x dim`, row-major. */
  readonly centroids: Float32Array;
  /** The cluster of each point. */
  readonly assignment: Int32Array;
}

/** A compiled k-means over `points x dim` inputs. */
export interface Kmeans {
  run(x: Float32Array, rng: Rng): Promise<KmeansResult>;
}

/**
 * Compiles the assignment session for `points` points.
 *
 * @example
 * ```ts
 * import { createRng } from "../kernels/mod.ts";
 * import { createKmeans } from "./kmeans.ts";
 * const km = await createKmeans({ points: 4, clusters: 2, dim: 1 });
 * const { assignment } = await km.run(new Float32Array([0, 0.1, 5, 5.1]), createRng(0));
 * console.log(assignment[0] === assignment[1], assignment[0] !== assignment[2]); // true true
 * ```
 */
export async function createKmeans(options: KmeansOptions): Promise<Kmeans> {
  const { points: n, clusters: k, dim: d } = options;
  if (!(k >= 1 && k <= n)) {
    throw new RangeError(`Expected between 1 and ${n} clusters for ${n} points but found ${k}`);
  }
  const g = new Graph();
  const x = g.input("x", "float32", [n, d]);
  const c = g.input("c", "float32", [k, d]);
  const halfNorms = g.mul(g.reduceSum(g.mul(c, c), [1], false), 0.5);
  const nearest = g.argMax(g.sub(g.matMul(x, g.transpose(c)), halfNorms), 1);
  const assign: Inference = await compileInference({ nearest }, new ParamStore(), {
    intraOpThreads: options.threads ?? 1,
    device: options.device,
  });
  const iterations = options.iterations ?? 25;
  return {
    async run(points, rng) {
      if (points.length !== n * d) {
        throw new TypeError(`Expected ${n} x ${d} floats but found ${points.length}`);
      }
      const centroids = new Float32Array(k * d);
      const first = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i)).subarray(0, k);
      first.forEach((p, j) => centroids.set(points.subarray(p * d, (p + 1) * d), j * d));
      const assignment = new Int32Array(n);
      const sums = new Float64Array(k * d), counts = new Int32Array(k);
      for (let it = 0; it <= iterations; it++) {
        const { nearest } = await assign.run({ x: points, c: centroids });
        const idx = nearest.data as BigInt64Array;
        for (let i = 0; i < n; i++) assignment[i] = Number(idx[i]);
        if (it === iterations) break;
        sums.fill(0);
        counts.fill(0);
        for (let i = 0; i < n; i++) {
          const j = assignment[i];
          counts[j]++;
          for (let t = 0; t < d; t++) sums[j * d + t] += points[i * d + t];
        }
        for (let j = 0; j < k; j++) {
          if (counts[j] === 0) {
            const p = rng.int(n);
            centroids.set(points.subarray(p * d, (p + 1) * d), j * d);
          } else {
            for (let t = 0; t < d; t++) centroids[j * d + t] = sums[j * d + t] / counts[j];
          }
        }
      }
      return { centroids, assignment };
    },
  };
}

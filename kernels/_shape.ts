/**
 * Static shape arithmetic shared by the graph builder and the gradient rules.
 * Private to `kernels/`.
 *
 * @module
 */

/** A static tensor shape: every dimension is known when the graph is built. */
export type Shape = readonly number[];

/** Formats a shape the way error messages quote it: `[2,3]`. */
export function fmt(shape: Shape): string {
  return `[${shape.join(",")}]`;
}

/** Number of elements of a shape (1 for a scalar). */
export function size(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Whether two shapes are equal dimension by dimension. */
export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Numpy broadcasting of any number of shapes, or `undefined` when they do not
 * broadcast.
 */
export function broadcastShapes(...shapes: Shape[]): number[] | undefined {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = new Array(rank).fill(1);
  for (const s of shapes) {
    const off = rank - s.length;
    for (let i = 0; i < s.length; i++) {
      const d = s[i];
      const o = out[off + i];
      if (o === 1) out[off + i] = d;
      else if (d !== 1 && d !== o) return undefined;
    }
  }
  return out;
}

/**
 * Resolves a possibly negative axis against `rank`, throwing a `RangeError`
 * that names the op when it is out of range.
 */
export function normAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new RangeError(`${op} expects an axis in [${-rank}, ${rank - 1}] but found ${axis}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Resolves a list of axes and rejects repeats. */
export function normAxes(op: string, axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => normAxis(op, a, rank));
  if (new Set(out).size !== out.length) {
    throw new RangeError(`${op} expects distinct axes but found [${axes.join(",")}]`);
  }
  return out;
}

/** The inverse of a permutation. */
export function invertPerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

import assert from "node:assert/strict";
import { Graph } from "./graph.ts";

Deno.test("MatMul shape errors name the op and both shapes", () => {
  const g = new Graph();
  const a = g.input("a", "float32", [2, 3]), b = g.input("b", "float32", [4, 5]);
  assert.throws(() => g.matMul(a, b), {
    name: "TypeError",
    message: "MatMul expects inner dimensions to match but found [2,3] and [4,5]",
  });
});

Deno.test("elementwise, Concat, Reshape and Expand shape errors name the op and the shapes", () => {
  const g = new Graph();
  const a = g.input("a", "float32", [2, 3]), b = g.input("b", "float32", [4]);
  assert.throws(() => g.add(a, b), {
    name: "TypeError",
    message: "Add expects broadcastable shapes but found [2,3] and [4]",
  });
  assert.throws(
    () => g.where(g.less(a, 0), a, b),
    /^TypeError: Where expects broadcastable shapes but found \[2,3\] and \[2,3\] and \[4\]/,
  );
  assert.throws(
    () => g.concat([a, g.input("c", "float32", [3, 3])], 1),
    /Concat expects shapes equal off axis 1 but found \[2,3\] and \[3,3\]/,
  );
  assert.throws(
    () => g.reshape(a, [4, 2]),
    /Reshape expects the same number of elements but found \[2,3\] and \[4,2\]/,
  );
  assert.throws(
    () => g.expand(a, [3, 3]),
    /Expand expects broadcastable shapes but found \[2,3\] and \[3,3\]/,
  );
});

Deno.test("dtype mismatches and bad axes are rejected at build time", () => {
  const g = new Graph();
  const a = g.input("a", "float32", [2, 3]), i = g.input("i", "int64", [2]);
  assert.throws(() => g.add(a, i), {
    name: "TypeError",
    message: "Add expects matching dtypes but found float32 and int64",
  });
  assert.throws(() => g.exp(i), {
    name: "TypeError",
    message: "Exp expects a float tensor but found int64",
  });
  assert.throws(() => g.reduceSum(a, [2]), {
    name: "RangeError",
    message: "ReduceSum expects an axis in [-2, 1] but found 2",
  });
  assert.throws(() => g.gather(a, a), /Gather expects int64 or int32 indices but found float32/);
});

Deno.test("static shapes follow numpy rules", () => {
  const g = new Graph();
  const a = g.input("a", "float32", [5, 1, 3, 4]), b = g.input("b", "float32", [2, 4, 6]);
  assert.deepEqual(g.matMul(a, b).shape, [5, 2, 3, 6]);
  assert.deepEqual(g.add(a, g.input("c", "float32", [2, 1, 1])).shape, [5, 2, 3, 4]);
  assert.deepEqual(g.reduceMean(a, [1, -1], false).shape, [5, 3]);
  assert.deepEqual(g.gather(b, g.input("i", "int64", [7, 8]), 1).shape, [2, 7, 8, 6]);
  assert.deepEqual(g.slice(b, [1, -2], [99, 6], [0, 2]).shape, [1, 4, 2]);
  assert.deepEqual(g.unsqueeze(b, [0, -1]).shape, [1, 2, 4, 6, 1]);
  assert.deepEqual(g.reshape(b, [-1, 6]).shape, [8, 6]);
});

Deno.test("tensor names are unique within a graph", () => {
  const g = new Graph();
  g.param("encoder.block.0.attn.q.weight", [2, 2]);
  assert.throws(
    () => g.input("encoder.block.0.attn.q.weight", "float32", [2]),
    /found "encoder.block.0.attn.q.weight" twice/,
  );
});

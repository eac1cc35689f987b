import { ok, strictEqual } from "node:assert/strict";
import { DataError, DataRangeError, isDataError } from "./errors.ts";

Deno.test("DataError message names the file, the line and the value", () => {
  const e = new DataError(
    "beauty/sequential.txt",
    17,
    "12a",
    'expected an integer item id but found "12a"',
  );
  strictEqual(
    e.message,
    'beauty/sequential.txt line 17: expected an integer item id but found "12a"',
  );
  ok(e instanceof SyntaxError);
  strictEqual(e.name, "DataError");
  strictEqual(e.value, "12a");
});

Deno.test("DataRangeError is a RangeError and omits the line when there is none", () => {
  const e = new DataRangeError("toys/negative.txt", undefined, "7", "user 7 has none");
  strictEqual(e.message, "toys/negative.txt: user 7 has none");
  ok(e instanceof RangeError);
  strictEqual(e.line, undefined);
});

Deno.test("isDataError() accepts both data errors and nothing else", () => {
  ok(isDataError(new DataError("a", 1, "x", "bad")));
  ok(isDataError(new DataRangeError("a", 1, "x", "bad")));
  ok(!isDataError(new SyntaxError("bad")));
  ok(!isDataError("bad"));
});

import { deepStrictEqual, notStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { generateSynthetic } from "./synthetic.ts";
import { formatSequentialTxt, sha256Text } from "./dataset_hash.ts";
import { parseDataset } from "./dataset_reader.ts";
import { row } from "../kernels/mod.ts";
import type { Dataset } from "./types.ts";

/** Share of transitions whose next item is max(history) + 1: the id leak. */
function leakRate(ds: Dataset): number {
  let hits = 0, total = 0;
  for (let u = 0; u < ds.nUsers; u++) {
    const seq = row(ds.sequences, u);
    let max = seq[0];
    for (let p = 1; p < seq.length; p++) {
      total++;
      if (seq[p] === max + 1) hits++;
      if (seq[p] > max) max = seq[p];
    }
  }
  return hits / total;
}

/**
 * How predictable the next item is from the previous one alone: the share of
 * transitions whose next item is the most frequent follower of the previous
 * item (in-sample, so an upper bound a bigram model could reach).
 */
function bigramTop1(ds: Dataset): number {
  const follow = new Map<number, Map<number, number>>();
  let total = 0;
  for (let u = 0; u < ds.nUsers; u++) {
    const seq = row(ds.sequences, u);
    for (let p = 1; p < seq.length; p++) {
      const m = follow.get(seq[p - 1]) ?? new Map<number, number>();
      m.set(seq[p], (m.get(seq[p]) ?? 0) + 1);
      follow.set(seq[p - 1], m);
      total++;
    }
  }
  let hits = 0;
  for (const m of follow.values()) hits += Math.max(...m.values());
  return hits / total;
}

Deno.test("generateSynthetic() is deterministic for the same options", async () => {
  const a = await generateSynthetic({ seed: 3 });
  const b = await generateSynthetic({ seed: 3 });
  deepStrictEqual(a.sequences, b.sequences);
  strictEqual(a.hash, b.hash);
  strictEqual(a.hash, await sha256Text(formatSequentialTxt(a.sequences)));
  const c = await generateSynthetic({ seed: 4 });
  notStrictEqual(c.hash, a.hash);
});

Deno.test("generateSynthetic() has the default shape: every id present, lengths >= 5, no repeats", async () => {
  const ds = await generateSynthetic();
  strictEqual(ds.name, "synthetic");
  strictEqual(ds.nUsers, 600);
  strictEqual(ds.nItems, 400);
  strictEqual(ds.negatives, undefined);
  const seen = new Uint8Array(ds.nItems + 1);
  let total = 0;
  for (let u = 0; u < ds.nUsers; u++) {
    const seq = row(ds.sequences, u);
    ok(seq.length >= 5, `user ${u + 1} has ${seq.length} items`);
    strictEqual(new Set(seq).size, seq.length, `user ${u + 1} repeats an item`);
    for (const i of seq) {
      ok(i >= 1 && i <= ds.nItems);
      seen[i] = 1;
    }
    total += seq.length;
  }
  strictEqual(seen.indexOf(0, 1), -1, "an item id never appears");
  const mean = total / ds.nUsers;
  ok(mean > 10 && mean < 14, `mean length ${mean}`);
});

Deno.test("generateSynthetic() output passes the dataset reader's validation", async () => {
  const ds = await generateSynthetic({ users: 50, items: 80, seed: 9 });
  const text = new TextEncoder().encode(formatSequentialTxt(ds.sequences));
  const back = await parseDataset({ sequential: text }, { minSequenceLength: 5 });
  deepStrictEqual(back.sequences, ds.sequences);
  strictEqual(back.hash, ds.hash);
});

Deno.test("generateSynthetic() ids do not leak the next item", async () => {
  const rate = leakRate(await generateSynthetic());
  ok(rate < 0.02, `next == max(history) + 1 in ${(rate * 100).toFixed(2)}% of transitions`);
});

Deno.test("generateSynthetic() habit makes the next item predictable from the previous one", async () => {
  const strong = bigramTop1(await generateSynthetic({ habit: 0.9 }));
  const none = bigramTop1(await generateSynthetic({ habit: 0 }));
  const dflt = bigramTop1(await generateSynthetic());
  console.log(
    `bigram top-1: habit 0 -> ${none.toFixed(3)}, 0.5 -> ${dflt.toFixed(3)}, 0.9 -> ${
      strong.toFixed(3)
    }`,
  );
  ok(none < dflt && dflt < strong && strong > 1.5 * none);
});

Deno.test("generateSynthetic() rejects unknown and out-of-range options", async () => {
  await rejects(
    generateSynthetic({ user: 5 } as unknown as { users: number }),
    (e: unknown) => e instanceof TypeError && e.message.includes("valid options: users, items"),
  );
  await rejects(generateSynthetic({ habit: 1.5 }), RangeError);
  await rejects(generateSynthetic({ users: 0 }), RangeError);
  await rejects(generateSynthetic({ minLength: 6, meanLength: 5 }), RangeError);
});

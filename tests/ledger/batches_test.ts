import assert from "node:assert/strict";
import { ATOMIC_LIMITS, estimateCost, splitBatches } from "../../lib/ledger/batches.ts";

Deno.test("splitBatches() returns one empty batch for no items", () => {
  assert.deepEqual(splitBatches([], () => ({ keyBytes: 1, valueBytes: 1 })), [[]]);
});

Deno.test("splitBatches() keeps order and splits on the mutation count", () => {
  const items = Array.from({ length: 2000 }, (_, i) => i);
  const batches = splitBatches(items, () => ({ keyBytes: 10, valueBytes: 10 }), 1);
  assert.deepEqual(batches.flat(), items);
  assert.ok(batches.length >= 3);
  for (const b of batches) assert.ok(b.length < ATOMIC_LIMITS.mutations);
});

Deno.test("splitBatches() splits on key bytes and on total bytes", () => {
  const byKeys = splitBatches(
    Array.from({ length: 100 }, (_, i) => i),
    () => ({ keyBytes: 2000, valueBytes: 0 }),
  );
  for (const b of byKeys) assert.ok(b.length * 2000 <= ATOMIC_LIMITS.keyBytes);
  assert.equal(byKeys.flat().length, 100);
  const byValues = splitBatches(
    Array.from({ length: 100 }, (_, i) => i),
    () => ({ keyBytes: 10, valueBytes: 60_000 }),
  );
  for (const b of byValues) assert.ok(b.length * 60_010 <= ATOMIC_LIMITS.mutationBytes);
  assert.ok(byValues.length > 1);
});

Deno.test("splitBatches() rejects a single write beyond the limits", () => {
  assert.throws(() => splitBatches([1], () => ({ keyBytes: 100_000, valueBytes: 0 })), RangeError);
});

Deno.test("estimateCost() grows with the key text and value", () => {
  const small = estimateCost("a", { x: 1 });
  const big = estimateCost("a".repeat(100), { x: "y".repeat(100) });
  assert.equal(big.keyBytes - small.keyBytes, 99);
  assert.ok(big.valueBytes >= small.valueBytes + 200);
  assert.equal(estimateCost("é", undefined).keyBytes, 2 + 32);
});

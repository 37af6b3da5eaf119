import assert from "node:assert/strict";
import { PriceLadder } from "../../lib/book/price_ladder.ts";

function levels(ladder: PriceLadder): number[][] {
  const prices = new Float64Array(ladder.size);
  const qtys = new Float64Array(ladder.size);
  const k = ladder.top(ladder.size, prices, qtys);
  return Array.from({ length: k }, (_, i) => [prices[i]!, qtys[i]!]);
}

Deno.test("PriceLadder orders bids highest first and asks lowest first", () => {
  const bids = new PriceLadder(1, 1);
  const asks = new PriceLadder(-1, 1);
  for (const p of [5, 1, 3, 4, 2]) {
    bids.set(p, p * 10);
    asks.set(p, p * 10);
  }
  assert.deepEqual(levels(bids), [[5, 50], [4, 40], [3, 30], [2, 20], [1, 10]]);
  assert.deepEqual(levels(asks), [[1, 10], [2, 20], [3, 30], [4, 40], [5, 50]]);
  assert.equal(bids.best(), 5);
  assert.equal(asks.best(), 1);
});

Deno.test("PriceLadder deletes in the middle, at the top and at the bottom", () => {
  const bids = new PriceLadder(1);
  for (const p of [1, 2, 3, 4, 5]) bids.set(p, 1);
  bids.set(3, 0);
  bids.set(5, 0);
  bids.set(1, 0);
  assert.deepEqual(levels(bids), [[4, 1], [2, 1]]);
});

Deno.test("PriceLadder.reset() grows to fit a large snapshot and replaces the old levels", () => {
  const asks = new PriceLadder(-1, 2);
  asks.set(999, 1);
  const snapshot = Array.from({ length: 5000 }, (_, i) => [100 + i / 100, i + 1] as [number, number]);
  asks.reset(snapshot);
  assert.equal(asks.size, 5000);
  assert.equal(asks.best(), 100);
  assert.deepEqual(levels(asks).slice(0, 2), [[100, 1], [100.01, 2]]);
  asks.set(999, 0); // gone with the reset: a no-op
  assert.equal(asks.size, 5000);
});

Deno.test("PriceLadder rejects a non-positive capacity", () => {
  assert.throws(() => new PriceLadder(1, 0), RangeError);
});

Deno.test("PriceLadder keeps at most maxLevels (plus an eighth): the worst levels go, the best stay exact", () => {
  const bids = new PriceLadder(1, 4, 8);
  for (let i = 1; i <= 9; i++) bids.set(i, i * 10); // 9 levels: within 8 + 1
  assert.equal(bids.size, 9);
  bids.set(10, 100); // 10 > 9: trimmed to the best 8
  assert.equal(bids.size, 8);
  assert.deepEqual(Array.from(bids.levels()).filter((_, i) => i % 2 === 0), [10, 9, 8, 7, 6, 5, 4, 3]);
  const asks = new PriceLadder(-1, 4, 3);
  asks.reset([[1, 1], [2, 2], [3, 3], [4, 4], [5, 5]]);
  assert.deepEqual(Array.from(asks.levels()), [1, 1, 2, 2, 3, 3], "a deep snapshot keeps its best levels");
  assert.throws(() => new PriceLadder(1, 4, 0), RangeError);
});

Deno.test("PriceLadder allocates with its first level and never grows past its trim point", () => {
  const bids = new PriceLadder(1, 256, 2000);
  assert.equal(bids.capacity, 0, "a side waiting for its snapshot holds no arrays");
  bids.set(1, 0); // a deletion of an absent level allocates nothing
  assert.equal(bids.capacity, 0);
  bids.set(1, 1);
  assert.equal(bids.capacity, 256);
  bids.reset(Array.from({ length: 1000 }, (_, i) => [5000 - i, 1] as [number, number]));
  assert.equal(bids.capacity, 1024);
  // Levels beyond the snapshot's depth arrive one by one: 2,250 are held (2,000 + an eighth), then trimmed.
  for (let i = 0; i < 3000; i++) bids.set(4000 - i, 1);
  assert.equal(bids.capacity, 2251, "doubling would have reached 4096 levels, 2,250 never used");
  assert.ok(bids.size <= 2250);
  assert.equal(bids.best(), 5000);
  const unbounded = new PriceLadder(-1, 2);
  for (let i = 0; i < 5; i++) unbounded.set(i + 1, 1);
  assert.equal(unbounded.capacity, 8, "without maxLevels the arrays double as needed");
  assert.equal(unbounded.size, 5);
});

import assert from "node:assert/strict";
import type { DepthDiff, Level } from "../../lib/binance/types.ts";
import { DiffBuffer } from "../../lib/book/diff_buffer.ts";

function diff(u: number, bids: Level[] = [[100 + u, u]], asks: Level[] = [], futures = false): DepthDiff {
  return {
    symbol: "BTCUSDT",
    eventTime: 1_700_000_000_000 + u,
    transactionTime: futures ? 1_700_000_000_000 + u - 1 : null,
    firstUpdateId: u * 10,
    finalUpdateId: u * 10 + 5,
    prevFinalUpdateId: futures ? u * 10 - 5 : null,
    bids,
    asks,
  };
}

function drain(buffer: DiffBuffer): DepthDiff[] {
  const out: DepthDiff[] = [];
  for (let d = buffer.shift(); d !== undefined; d = buffer.shift()) out.push(d);
  return out;
}

Deno.test("DiffBuffer gives back each diff as it was pushed, nulls and arrival times included", () => {
  const buffer = new DiffBuffer("BTCUSDT", 10);
  const spot = { ...diff(1, [[0.0024, 10], [0.0023, 0]], [[0.0026, 100]]), localUs: 1_700_000_000_123_456 };
  const futures = { ...diff(2, [], [[27_000.5, 1.25]], true), localUs: 1_700_000_000_223_456 };
  const empty = diff(3, [], []);
  for (const d of [spot, futures, empty]) assert.equal(buffer.push(d), false);
  assert.equal(buffer.size, 3);
  assert.deepEqual(buffer.ids(1), {
    symbol: "BTCUSDT",
    firstUpdateId: 20,
    finalUpdateId: 25,
    prevFinalUpdateId: 15,
  });
  assert.deepEqual(drain(buffer), [spot, futures, empty]);
  assert.equal(buffer.shift(), undefined);
});

Deno.test("DiffBuffer evicts the oldest diff when full", () => {
  const buffer = new DiffBuffer("BTCUSDT", 3);
  assert.deepEqual([1, 2, 3].map((u) => buffer.push(diff(u))), [false, false, false]);
  assert.equal(buffer.push(diff(4)), true);
  assert.equal(buffer.push(diff(5)), true);
  assert.equal(buffer.size, 3);
  assert.equal(buffer.max, 3);
  assert.deepEqual(drain(buffer), [diff(3), diff(4), diff(5)]);
});

Deno.test("DiffBuffer.drop() and clear() remove from the front; ids() rejects a position out of range", () => {
  const buffer = new DiffBuffer("BTCUSDT", 10);
  for (let u = 1; u <= 5; u++) buffer.push(diff(u));
  buffer.drop(2);
  assert.equal(buffer.ids(0).finalUpdateId, 35);
  assert.throws(() => buffer.ids(3), RangeError);
  assert.throws(() => buffer.ids(-1), RangeError);
  buffer.drop(99);
  assert.equal(buffer.size, 0);
  buffer.push(diff(6));
  buffer.clear();
  assert.equal(buffer.size, 0);
  buffer.push(diff(7));
  assert.deepEqual(drain(buffer), [diff(7)]);
});

Deno.test("DiffBuffer keeps order through growth, wrap-around and compaction (against a plain array)", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const buffer = new DiffBuffer("BTCUSDT", 300);
  const model: DepthDiff[] = [];
  for (let u = 1; u < 20_000; u++) {
    const roll = random();
    if (roll < 0.6) {
      // Sizes from empty to far above the initial storage, so the level store grows and compacts.
      const size = random() < 0.02 ? 600 : Math.floor(random() * 8);
      const levels: Level[] = Array.from({ length: size }, (_, i) => [u + i / 1000, i]);
      const d = diff(u, levels.slice(0, size >> 1), levels.slice(size >> 1), u % 2 === 0);
      if (buffer.push(d)) model.shift();
      model.push(d);
    } else if (roll < 0.9) {
      assert.deepEqual(buffer.shift(), model.shift());
    } else if (roll < 0.99) {
      const n = Math.floor(random() * 5);
      buffer.drop(n);
      model.splice(0, n);
    } else {
      buffer.clear();
      model.length = 0;
    }
    assert.equal(buffer.size, model.length);
    if (model.length > 0) {
      assert.equal(buffer.ids(model.length - 1).finalUpdateId, model.at(-1)!.finalUpdateId);
    }
  }
  assert.deepEqual(drain(buffer), model);
});

Deno.test("DiffBuffer rejects a non-positive or fractional max", () => {
  assert.throws(() => new DiffBuffer("BTCUSDT", 0), RangeError);
  assert.throws(() => new DiffBuffer("BTCUSDT", 2.5), RangeError);
});

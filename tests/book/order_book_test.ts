import assert from "node:assert/strict";
import type { Level } from "../../lib/binance/types.ts";
import { Prng } from "../../lib/sim/prng.ts";
import { OrderBook, type Side } from "../../lib/book/order_book.ts";

/** mulberry32: a small seeded PRNG, so a failure replays exactly. */
/** A seeded random source in [0, 1) (the simulator's PRNG). */
function prng(seed: number): () => number {
  const rng = new Prng(seed);
  return () => rng.next();
}

/** The obvious implementation: a Map per side, sorted on every read. */
class NaiveBook {
  readonly sides = { bid: new Map<number, number>(), ask: new Map<number, number>() };

  set(side: Side, price: number, qty: number): void {
    if (qty === 0) this.sides[side].delete(price);
    else this.sides[side].set(price, qty);
  }

  reset(bids: Level[], asks: Level[]): void {
    this.sides.bid.clear();
    this.sides.ask.clear();
    for (const [p, q] of bids) this.set("bid", p, q);
    for (const [p, q] of asks) this.set("ask", p, q);
  }

  top(side: Side, n: number): Level[] {
    const sorted = [...this.sides[side]].sort((a, b) => side === "bid" ? b[0] - a[0] : a[0] - b[0]);
    return sorted.slice(0, n);
  }
}

function topOf(book: OrderBook, side: Side, n: number): Level[] {
  const prices = new Float64Array(n);
  const qtys = new Float64Array(n);
  const k = book.top(side, n, prices, qtys);
  return Array.from({ length: k }, (_, i) => [prices[i]!, qtys[i]!]);
}

function assertSame(book: OrderBook, ref: NaiveBook, n: number, where: string): void {
  for (const side of ["bid", "ask"] as const) {
    assert.deepEqual(topOf(book, side, n), ref.top(side, n), `${where}: top ${n} ${side}s`);
    assert.equal(book.depth(side), ref.sides[side].size, `${where}: ${side} depth`);
  }
  assert.equal(book.bestBid(), ref.top("bid", 1)[0]?.[0], `${where}: best bid`);
  assert.equal(book.bestAsk(), ref.top("ask", 1)[0]?.[0], `${where}: best ask`);
  assert.equal(book.size, ref.sides.bid.size + ref.sides.ask.size, `${where}: size`);
}

/** A price on a 0.01 grid, as parsing Binance's decimal string would produce it. */
const price = (ticks: number) => Number((ticks / 100).toFixed(2));

/**
 * Random levels skewed toward the top of each side (most real updates are near the touch): bids at or below
 * 60000, asks at or above 60000.01, quantity 0 (a removal) a third of the time.
 */
function randomLevel(rand: () => number, side: Side): Level {
  const distance = Math.floor(rand() ** 3 * 3000);
  const p = side === "bid" ? price(6_000_000 - distance) : price(6_000_001 + distance);
  const qty = rand() < 1 / 3 ? 0 : Number((rand() * 5).toFixed(3)) || 0.001;
  return [p, qty];
}

Deno.test("OrderBook matches a naive Map+sort book on 20,000 random level updates (top-20 after each)", () => {
  for (const seed of [1, 2, 3]) {
    const rand = prng(seed);
    const book = new OrderBook(4); // tiny start: exercises doubling
    const ref = new NaiveBook();
    for (let step = 0; step < 20_000 / 3; step++) {
      const side: Side = rand() < 0.5 ? "bid" : "ask";
      const [p, q] = randomLevel(rand, side);
      book.set(side, p, q);
      ref.set(side, p, q);
      if (step % 7 === 0) assertSame(book, ref, 20, `seed ${seed} step ${step}`);
    }
    assertSame(book, ref, 100_000, `seed ${seed} full book`);
    assert.ok(book.depth("bid") > 500 && book.depth("ask") > 500, "the random walk built a deep book");
  }
});

Deno.test("OrderBook.reset() and apply() match the naive book on random snapshots and diffs", () => {
  const rand = prng(42);
  const book = new OrderBook();
  const ref = new NaiveBook();
  for (let round = 0; round < 20; round++) {
    // A snapshot: distinct levels, best first, like Binance's REST depth.
    const bidMap = new Map<number, number>();
    const askMap = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      const [bp, bq] = randomLevel(rand, "bid");
      const [ap, aq] = randomLevel(rand, "ask");
      if (bq > 0) bidMap.set(bp, bq);
      if (aq > 0) askMap.set(ap, aq);
    }
    const bids = [...bidMap].sort((a, b) => b[0] - a[0]);
    const asks = [...askMap].sort((a, b) => a[0] - b[0]);
    book.reset({ lastUpdateId: round * 1000, bids, asks });
    ref.reset(bids, asks);
    assert.equal(book.lastUpdateId, round * 1000);
    assertSame(book, ref, 50, `round ${round} snapshot`);
    for (let u = 1; u <= 50; u++) {
      const diffBids = Array.from({ length: 1 + Math.floor(rand() * 10) }, () => randomLevel(rand, "bid"));
      const diffAsks = Array.from({ length: 1 + Math.floor(rand() * 10) }, () => randomLevel(rand, "ask"));
      book.apply({ finalUpdateId: round * 1000 + u, bids: diffBids, asks: diffAsks });
      for (const [p, q] of diffBids) ref.set("bid", p, q);
      for (const [p, q] of diffAsks) ref.set("ask", p, q);
      assert.equal(book.lastUpdateId, round * 1000 + u);
      assertSame(book, ref, 20, `round ${round} diff ${u}`);
    }
  }
});

Deno.test("OrderBook.reset() accepts unsorted or duplicated snapshot levels and skips zero quantities", () => {
  const book = new OrderBook();
  const ref = new NaiveBook();
  const bids: Level[] = [[99, 1], [101, 2], [100, 0], [98, 3], [101, 4]];
  const asks: Level[] = [[105, 1], [103, 0], [104, 2]];
  book.reset({ lastUpdateId: 7, bids, asks });
  ref.reset(bids, asks);
  assertSame(book, ref, 10, "unsorted snapshot");
  assert.deepEqual(topOf(book, "bid", 10), [[101, 4], [99, 1], [98, 3]]);
  assert.deepEqual(topOf(book, "ask", 10), [[104, 2], [105, 1]]);
});

Deno.test("OrderBook.set() removes with quantity 0 and treats removing an absent level as a no-op", () => {
  const book = new OrderBook();
  book.set("bid", 100, 1);
  book.set("bid", 100, 0);
  book.set("bid", 100, 0);
  book.set("ask", 101, 0);
  assert.equal(book.size, 0);
  assert.equal(book.bestBid(), undefined);
  assert.equal(book.bestAsk(), undefined);
  book.set("ask", 101, 2);
  book.set("ask", 101, 3); // overwrite, not add
  assert.deepEqual(topOf(book, "ask", 5), [[101, 3]]);
});

Deno.test("OrderBook.top() fills caller arrays best first, returns the count, and checks their length", () => {
  const book = new OrderBook();
  book.reset({ lastUpdateId: 1, bids: [[10, 1], [9, 2], [8, 3]], asks: [[11, 4]] });
  const prices = new Float64Array(5).fill(-1);
  const qtys = new Float64Array(5).fill(-1);
  assert.equal(book.top("bid", 2, prices, qtys), 2);
  assert.deepEqual([...prices], [10, 9, -1, -1, -1]);
  assert.deepEqual([...qtys], [1, 2, -1, -1, -1]);
  assert.equal(book.top("ask", 5, prices, qtys), 1);
  assert.equal(prices[0], 11);
  assert.throws(() => book.top("bid", 6, prices, qtys), RangeError);
  assert.equal(book.top("bid", 0, prices, qtys), 0);
});

Deno.test("OrderBook.clear() empties the book and forgets its id", () => {
  const book = new OrderBook();
  book.reset({ lastUpdateId: 5, bids: [[1, 1]], asks: [[2, 1]] });
  book.clear();
  assert.equal(book.size, 0);
  assert.equal(book.lastUpdateId, 0);
  assert.equal(book.top("bid", 3, new Float64Array(3), new Float64Array(3)), 0);
});

import assert from "node:assert/strict";
import { BookModel } from "../../lib/sim/book_model.ts";
import type { AggTradeEvent, DiffEvent, SimEvent } from "../../lib/sim/events.ts";
import { Exchange, ExchangeOptionError } from "../../lib/sim/exchange.ts";
import { eventFrame } from "../../lib/sim/frames.ts";

const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

function run(ex: Exchange, steps: number, dt = 10, from = T0): SimEvent[] {
  const all: SimEvent[] = [];
  for (let i = 1; i <= steps; i++) all.push(...ex.step(from + i * dt, null));
  return all;
}

const diffsOf = (events: SimEvent[], market: string, stream: string) =>
  events.filter((e): e is DiffEvent => e.kind === "depth" && e.spec.market === market && e.stream === stream);

Deno.test("Exchange is deterministic: same seed and times give the same frames", () => {
  const a = run(new Exchange({ symbols: ["BTCUSDT", "ETHUSDT"], seed: 3 }, T0), 300).map(eventFrame);
  const b = run(new Exchange({ symbols: ["BTCUSDT", "ETHUSDT"], seed: 3 }, T0), 300).map(eventFrame);
  const c = run(new Exchange({ symbols: ["BTCUSDT", "ETHUSDT"], seed: 4 }, T0), 300).map(eventFrame);
  assert.ok(a.length > 1000);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

Deno.test("adding a symbol does not change another symbol's market", () => {
  const only = run(new Exchange({ symbols: ["BTCUSDT"], seed: 3 }, T0), 200)
    .filter((e) => e.spec.symbol === "BTCUSDT").map(eventFrame);
  const both = run(new Exchange({ symbols: ["ETHUSDT", "BTCUSDT"], seed: 3 }, T0), 200)
    .filter((e) => e.spec.symbol === "BTCUSDT").map(eventFrame);
  assert.deepEqual(only, both);
});

Deno.test("spot diff ids are contiguous on every speed; USD-M chains pu with jumping ids", () => {
  const ex = new Exchange({ symbols: ["BTCUSDT"], seed: 5 }, T0);
  const spotStart = ex.engine("spot", "BTCUSDT")!.initial.updateId;
  const usdmStart = ex.engine("usdm", "BTCUSDT")!.initial.updateId;
  const events = run(ex, 500);
  for (const stream of ["btcusdt@depth@100ms", "btcusdt@depth"]) {
    const diffs = diffsOf(events, "spot", stream);
    assert.ok(diffs.length >= 4, stream);
    let prev = spotStart;
    for (const d of diffs) {
      assert.equal(d.firstId, prev + 1, stream);
      assert.ok(d.finalId >= d.firstId);
      prev = d.finalId;
    }
  }
  for (const stream of ["btcusdt@depth@100ms", "btcusdt@depth", "btcusdt@depth@500ms"]) {
    const diffs = diffsOf(events, "usdm", stream);
    let prev = usdmStart;
    for (const d of diffs) {
      assert.equal(d.prevFinalId, prev, stream);
      assert.ok(d.firstId > prev);
      prev = d.finalId;
    }
  }
  const fast = diffsOf(events, "usdm", "btcusdt@depth@100ms");
  assert.ok(fast.some((d) => d.firstId !== d.prevFinalId + 1), "USD-M ids jump");
  assert.ok(usdmStart > 5e12 && usdmStart < 2 ** 53);
  assert.equal(fast.length, 50, "one event per 100 ms window");
  assert.equal(diffsOf(events, "usdm", "btcusdt@depth").length, 20, "250 ms windows");
});

Deno.test("replaying the initial book and every 100 ms diff gives the engine's book", () => {
  const ex = new Exchange({ symbols: ["ETHUSDT"], seed: 8 }, T0);
  const events = run(ex, 400);
  // Changes after the last closed window are in no diff yet: one more step flushes them (before it makes
  // changes of its own), so the expected state is the one before that step.
  const expected = ex.engines().map((e) => ({ id: e.updateId, book: e.book.top(5000) }));
  events.push(...ex.step(T0 + 401 * 10 + 100, null));
  for (const [i, market] of (["spot", "usdm"] as const).entries()) {
    const engine = ex.engine(market, "ETHUSDT")!;
    const book = new BookModel();
    book.apply("bid", engine.initial.bids);
    book.apply("ask", engine.initial.asks);
    let last = engine.initial.updateId;
    for (const d of diffsOf(events, market, "ethusdt@depth@100ms")) {
      book.apply("bid", d.bids);
      book.apply("ask", d.asks);
      last = d.finalId;
    }
    assert.equal(last, expected[i]!.id);
    assert.deepEqual(book.top(5000), expected[i]!.book);
    assert.ok(engine.book.bids.bestTick()! < engine.book.asks.bestTick()!, "book is not crossed");
    assert.ok(engine.book.bids.size > 100 && engine.book.asks.size > 100);
  }
});

Deno.test("trades: consecutive aggregate ids, contiguous trade ids, klines add up", () => {
  const ex = new Exchange({ symbols: ["BTCUSDT"], seed: 2 }, T0);
  const events = run(ex, 700, 10);
  const trades = events.filter((e): e is AggTradeEvent => e.kind === "aggTrade" && e.spec.market === "spot");
  assert.ok(trades.length > 20);
  for (let i = 1; i < trades.length; i++) {
    assert.equal(trades[i]!.aggId, trades[i - 1]!.aggId + 1);
    assert.equal(trades[i]!.firstTradeId, trades[i - 1]!.lastTradeId + 1);
    assert.equal(trades[i]!.fills.reduce((s, q) => s + q, 0), trades[i]!.lots);
  }
  const closed = events.filter((e) =>
    e.kind === "kline" && e.closed && e.spec.market === "spot" && e.candle.interval === "1s"
  );
  assert.ok(closed.length >= 6);
  for (const k of closed) {
    if (k.kind !== "kline") continue;
    const inside = trades.filter((t) =>
      t.tradeTime >= k.candle.openTime && t.tradeTime <= k.candle.closeTime
    );
    assert.equal(k.candle.volumeLots, inside.reduce((s, t) => s + t.lots, 0));
    assert.equal(k.candle.trades, inside.reduce((s, t) => s + t.lastTradeId - t.firstTradeId + 1, 0));
  }
  const history = ex.engine("spot", "BTCUSDT")!.trades.query({ fromId: trades[5]!.aggId, limit: 3 });
  assert.deepEqual(history.map((t) => t.aggId), [trades[5]!.aggId, trades[6]!.aggId, trades[7]!.aggId]);
});

Deno.test("USD-M pushes mark prices each second and at most one liquidation per second", () => {
  const ex = new Exchange({ symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT"], seed: 4 }, T0);
  const events = run(ex, 2000, 10);
  const marks = events.filter((e) => e.kind === "markPrice" && e.stream === "btcusdt@markPrice@1s");
  assert.equal(marks.length, 20);
  assert.ok(!events.some((e) => e.kind === "markPrice" && e.spec.market === "spot"));
  const liquidations = events.filter((e) => e.kind === "forceOrder");
  assert.ok(liquidations.length > 0);
  const perSecond = new Map<string, number>();
  for (const l of liquidations) {
    const key = `${l.spec.symbol}:${Math.floor(l.eventTime / 1000)}`;
    perSecond.set(key, (perSecond.get(key) ?? 0) + 1);
  }
  assert.ok([...perSecond.values()].every((n) => n === 1));
});

Deno.test("bursts add many changes to one step of the targeted engines only", () => {
  const ex = new Exchange({ symbols: ["BTCUSDT"], seed: 6 }, T0);
  run(ex, 10);
  const spotBefore = ex.engine("spot", "BTCUSDT")!.updateId;
  const usdmBefore = ex.engine("usdm", "BTCUSDT")!.updateId;
  ex.step(T0 + 110, { market: "spot", updates: 2000, trades: 30 });
  assert.ok(ex.engine("spot", "BTCUSDT")!.updateId - spotBefore >= 2000);
  assert.ok(ex.engine("usdm", "BTCUSDT")!.updateId - usdmBefore < 200);
});

Deno.test("snapshots truncate to the limit; stale snapshots are older", () => {
  const ex = new Exchange({ symbols: ["BTCUSDT"], seed: 6 }, T0);
  run(ex, 500);
  const engine = ex.engine("spot", "BTCUSDT")!;
  const snap = engine.snapshot(5, T0 + 5000);
  assert.equal(snap.bids.length, 10);
  assert.equal(snap.updateId, engine.updateId);
  const stale = engine.staleSnapshot(100);
  assert.ok(stale.updateId < engine.updateId);
  assert.ok(stale.bids.length <= 200);
});

Deno.test("Exchange rejects bad symbols and rates", () => {
  assert.throws(() => new Exchange({ symbols: ["btcusdt"] }, T0), ExchangeOptionError);
  assert.throws(() => new Exchange({ symbols: ["BTC USDT"] }, T0), ExchangeOptionError);
  assert.throws(() => new Exchange({ symbols: ["BTCUSDT"], changesPerSec: -1 }, T0), ExchangeOptionError);
  const ex = new Exchange({ symbols: ["测试USDT"] }, T0);
  assert.equal(ex.engine("spot", "测试USDT")!.streams.aggTrade, "测试usdt@aggTrade");
});

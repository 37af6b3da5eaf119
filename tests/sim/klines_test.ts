import assert from "node:assert/strict";
import type { KlineEvent, SimEvent } from "../../lib/sim/events.ts";
import { KlineSeries } from "../../lib/sim/klines.ts";
import { symbolSpec } from "../../lib/sim/symbol_spec.ts";

const spec = symbolSpec("spot", "BTCUSDT");
const interval = { name: "1m", ms: 60_000, pushMs: 2000 };
const T0 = 1_767_225_600_000;

Deno.test("KlineSeries pushes open candles every pushMs and closes with x:true", () => {
  const k = new KlineSeries(spec, interval, "btcusdt@kline_1m", T0 + 500, 100, 100);
  k.addTrade(105, 2, true, 10, 11);
  k.addTrade(99, 3, false, 12, 12);
  const out: SimEvent[] = [];
  k.advance(T0 + 1999, out);
  assert.equal(out.length, 0);
  k.advance(T0 + 2000, out);
  const open = out[0] as KlineEvent;
  assert.equal(open.closed, false);
  assert.deepEqual(
    [
      open.candle.open,
      open.candle.high,
      open.candle.low,
      open.candle.close,
      open.candle.trades,
      open.candle.volumeLots,
    ],
    [105, 105, 99, 99, 3, 5],
  );
  assert.equal(open.candle.takerBuyQuote, 210);
  out.length = 0;
  k.advance(T0 + 180_001, out);
  const closed = out.filter((e) => e.kind === "kline" && e.closed) as KlineEvent[];
  assert.deepEqual(closed.map((c) => c.candle.openTime), [T0, T0 + 60_000, T0 + 120_000]);
  assert.deepEqual([closed[1]!.candle.trades, closed[1]!.candle.open, closed[1]!.candle.firstTradeId], [
    0,
    99,
    -1,
  ]);
  assert.deepEqual(k.query(undefined, undefined, 2).map((c) => c.openTime), [T0 + 120_000, T0 + 180_000]);
  assert.deepEqual(k.query(T0 + 60_000, T0 + 60_000, 10).map((c) => c.openTime), [T0 + 60_000]);
});

Deno.test("KlineSeries skips ahead after a long stall instead of emitting every empty candle", () => {
  const k = new KlineSeries(spec, { name: "1s", ms: 1000, pushMs: 1000 }, "btcusdt@kline_1s", T0, 100, 100);
  const out: SimEvent[] = [];
  k.advance(T0 + 5_000_000, out);
  assert.equal(out.length, 1);
  assert.deepEqual(k.query(undefined, undefined, 5).map((c) => c.openTime), [T0, T0 + 5_000_000]);
});

Deno.test("KlineSeries history answers exactly the candles it closed, across trade-free runs, halts and trimming", () => {
  const k = new KlineSeries(spec, { name: "1s", ms: 1000, pushMs: 1000 }, "btcusdt@kline_1s", T0, 100, 40);
  const closed: KlineEvent[] = [];
  let id = 1;
  for (let s = 0; s < 90; s++) {
    // Trades in a few seconds only, at changing prices; a halt-like hole from 50 s to 55 s.
    if (s % 7 === 0 || s % 11 === 0) k.addTrade(100 + s, 1 + (s % 3), s % 2 === 0, id, id++);
    const out: SimEvent[] = [];
    if (s === 50) {
      k.resume(T0 + 56_000, out);
      s = 55;
    } else {
      k.advance(T0 + (s + 1) * 1000, out);
    }
    closed.push(...out.filter((e): e is KlineEvent => e.kind === "kline" && e.closed));
  }
  const kept = k.query(0, T0 + 1_000_000, 1000);
  assert.ok(kept.length >= 20 && kept.length <= 41, `${kept.length} kept`);
  const byOpen = new Map(closed.map((e) => [e.candle.openTime, e.candle]));
  for (const c of kept.slice(0, -1)) assert.deepEqual(c, byOpen.get(c.openTime), `candle ${c.openTime - T0}`);
  assert.ok(
    !kept.some((c) => c.openTime > T0 + 50_000 && c.openTime < T0 + 56_000),
    "no candles in the hole",
  );
  assert.deepEqual(
    k.query(undefined, undefined, 5).map((c) => c.openTime),
    kept.slice(-5).map((c) => c.openTime),
  );
  const one = kept[Math.floor(kept.length / 2)]!;
  assert.deepEqual(k.query(one.openTime, one.openTime, 10), [one]);
});

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

import assert from "node:assert/strict";
import type { AggTradeEvent } from "../../lib/sim/events.ts";
import { symbolSpec } from "../../lib/sim/symbol_spec.ts";
import { type StoredTrade, TradeHistory } from "../../lib/sim/trade_history.ts";

const spec = symbolSpec("spot", "BTCUSDT");
const trade = (aggId: number, tradeTime: number): AggTradeEvent => ({
  kind: "aggTrade",
  spec,
  stream: "btcusdt@aggTrade",
  tradeStream: "btcusdt@trade",
  eventTime: tradeTime,
  tradeTime,
  aggId,
  priceTicks: 1,
  lots: 1,
  firstTradeId: aggId,
  lastTradeId: aggId,
  buyerMaker: false,
  fills: [1],
});

Deno.test("TradeHistory answers fromId, time-range and latest queries", () => {
  const h = new TradeHistory(1000);
  for (let i = 0; i < 10; i++) h.add(trade(100 + i, 1000 + 10 * i));
  const ids = (ts: StoredTrade[]) => ts.map((t) => t.aggId);
  assert.deepEqual(ids(h.query({ fromId: 107, limit: 10 })), [107, 108, 109]);
  assert.deepEqual(ids(h.query({ fromId: 50, limit: 2 })), [100, 101]);
  assert.deepEqual(ids(h.query({ startTime: 1015, endTime: 1040, limit: 10 })), [102, 103, 104]);
  assert.deepEqual(ids(h.query({ endTime: 1030, limit: 2 })), [102, 103]);
  assert.deepEqual(ids(h.query({ limit: 2 })), [108, 109]);
});

Deno.test("TradeHistory drops its oldest half at the limit", () => {
  const h = new TradeHistory(10);
  for (let i = 0; i < 11; i++) h.add(trade(i, i));
  assert.equal(h.size, 6);
  assert.deepEqual(h.query({ fromId: 0, limit: 1 }).map((t) => t.aggId), [5]);
});

Deno.test("TradeHistory keeps every field a REST aggTrades answer needs, across growth and trimming", () => {
  const h = new TradeHistory(100);
  const made: AggTradeEvent[] = [];
  for (let i = 0; i < 250; i++) {
    const t = { ...trade(7000 + i, 5000 + i), priceTicks: 6_160_000 + i, lots: 3 + (i % 5) };
    Object.assign(t, {
      firstTradeId: 9000 + 3 * i,
      lastTradeId: 9000 + 3 * i + (i % 3),
      buyerMaker: i % 2 === 0,
    });
    made.push(t);
    h.add(t);
  }
  const kept = h.query({ fromId: 0, limit: 1000 });
  assert.equal(kept.length, h.size);
  assert.ok(h.size <= 100 && h.size >= 50);
  const fields = (t: StoredTrade | AggTradeEvent) => [
    t.aggId,
    t.priceTicks,
    t.lots,
    t.firstTradeId,
    t.lastTradeId,
    t.tradeTime,
    t.buyerMaker,
  ];
  assert.deepEqual(kept.map(fields), made.slice(-h.size).map(fields));
});

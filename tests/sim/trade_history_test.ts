import assert from "node:assert/strict";
import type { AggTradeEvent } from "../../lib/sim/events.ts";
import { symbolSpec } from "../../lib/sim/symbol_spec.ts";
import { TradeHistory } from "../../lib/sim/trade_history.ts";

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
  const ids = (ts: AggTradeEvent[]) => ts.map((t) => t.aggId);
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

import assert from "node:assert/strict";
import type {
  AggTradeEvent,
  BookTickerEvent,
  DiffEvent,
  ForceOrderEvent,
  MarkPriceEvent,
} from "../../lib/sim/events.ts";
import {
  aggTradeFrame,
  bookTickerFrame,
  combinedFrame,
  depthFrame,
  forceOrderFrame,
  markPriceFrame,
  serverShutdownFrame,
  tradeFrames,
} from "../../lib/sim/frames.ts";
import { symbolSpec } from "../../lib/sim/symbol_spec.ts";

const spot = symbolSpec("spot", "BTCUSDT");
const usdm = symbolSpec("usdm", "BTCUSDT");

function diff(spec = spot): DiffEvent {
  return {
    kind: "depth",
    spec,
    stream: "btcusdt@depth@100ms",
    speedMs: 100,
    eventTime: 1000,
    transactionTime: 990,
    firstId: 157,
    finalId: 160,
    prevFinalId: 149,
    bids: [spec.market === "spot" ? 6160201 : 616002, 150],
    asks: [],
  };
}

Deno.test("depthFrame: spot has no T/pu and prints 8 decimals; USD-M adds T and pu", () => {
  assert.equal(
    depthFrame(diff()),
    '{"e":"depthUpdate","E":1000,"s":"BTCUSDT","U":157,"u":160,"b":[["61602.01000000","0.00150000"]],"a":[]}',
  );
  assert.equal(
    depthFrame(diff(usdm)),
    '{"e":"depthUpdate","E":1000,"T":990,"s":"BTCUSDT","U":157,"u":160,"pu":149,"b":[["61600.20","0.150"]],"a":[]}',
  );
});

Deno.test("aggTrade and trade frames per market", () => {
  const t = (spec = spot): AggTradeEvent => ({
    kind: "aggTrade",
    spec,
    stream: "btcusdt@aggTrade",
    tradeStream: "btcusdt@trade",
    eventTime: 5,
    tradeTime: 4,
    aggId: 12345,
    priceTicks: 6160201,
    lots: 3,
    firstTradeId: 100,
    lastTradeId: 101,
    buyerMaker: true,
    fills: [1, 2],
  });
  const s = JSON.parse(aggTradeFrame(t()));
  assert.deepEqual(Object.keys(s), ["e", "E", "s", "a", "p", "q", "f", "l", "T", "m", "M"]);
  assert.equal(s.q, "0.00003000");
  const u = JSON.parse(aggTradeFrame(t(usdm)));
  assert.deepEqual(Object.keys(u), ["e", "E", "s", "a", "p", "q", "nq", "f", "l", "T", "m"]);
  const trades = tradeFrames(t()).map((f) => JSON.parse(f));
  assert.deepEqual(trades.map((x) => [x.t, x.q]), [[100, "0.00001000"], [101, "0.00002000"]]);
});

Deno.test("bookTicker: spot has only u/s/b/B/a/A, USD-M adds e/E/T", () => {
  const ev = (spec = spot): BookTickerEvent => ({
    kind: "bookTicker",
    spec,
    stream: "btcusdt@bookTicker",
    updateId: 400900217,
    eventTime: 7,
    bidTicks: 100,
    bidLots: 1,
    askTicks: 101,
    askLots: 2,
  });
  assert.deepEqual(Object.keys(JSON.parse(bookTickerFrame(ev()))), ["u", "s", "b", "B", "a", "A"]);
  assert.deepEqual(Object.keys(JSON.parse(bookTickerFrame(ev(usdm)))), [
    "e",
    "u",
    "E",
    "T",
    "s",
    "b",
    "B",
    "a",
    "A",
  ]);
});

Deno.test("markPrice and forceOrder frames", () => {
  const m: MarkPriceEvent = {
    kind: "markPrice",
    spec: usdm,
    stream: "btcusdt@markPrice@1s",
    eventTime: 1,
    mark: 61600200,
    markAverage: 61600000,
    index: 61599000,
    settle: 61599000,
    fundingRate: 10000,
    nextFundingTime: 28_800_000,
  };
  assert.equal(
    markPriceFrame(m),
    '{"e":"markPriceUpdate","E":1,"s":"BTCUSDT","p":"61600.20000000","ap":"61600.00000000","i":"61599.00000000",' +
      '"P":"61599.00000000","r":"0.00010000","T":28800000}',
  );
  const f: ForceOrderEvent = {
    kind: "forceOrder",
    spec: usdm,
    stream: "btcusdt@forceOrder",
    eventTime: 2,
    side: "SELL",
    priceTicks: 616000,
    averageTicks: 616001,
    lots: 14,
    tradeTime: 1,
  };
  const o = JSON.parse(forceOrderFrame(f)).o;
  assert.deepEqual([o.S, o.o, o.f, o.q, o.p, o.ap, o.X, o.z], [
    "SELL",
    "LIMIT",
    "IOC",
    "0.014",
    "61600.00",
    "61600.10",
    "FILLED",
    "0.014",
  ]);
});

Deno.test("combined envelope and serverShutdown", () => {
  assert.equal(combinedFrame("btcusdt@trade", '{"x":1}'), '{"stream":"btcusdt@trade","data":{"x":1}}');
  assert.deepEqual(JSON.parse(serverShutdownFrame(9)), { e: "serverShutdown", E: 9 });
});

import assert from "node:assert/strict";
import { normalizeStreamName, routeDelivers, symbolStreams, usdmRouteOf } from "../../lib/sim/streams.ts";

Deno.test("symbolStreams names every stream of a symbol", () => {
  const s = symbolStreams("usdm", "btcusdt");
  assert.deepEqual([...s.depth.values()], ["btcusdt@depth@100ms", "btcusdt@depth", "btcusdt@depth@500ms"]);
  assert.equal(s.kline.get("1m"), "btcusdt@kline_1m");
  assert.equal(symbolStreams("spot", "btcusdt").kline.get("1s"), "btcusdt@kline_1s");
  assert.equal(s.markPrice1s, "btcusdt@markPrice@1s");
});

Deno.test("USD-M routes: depth and bookTicker on /public, the rest on /market", () => {
  assert.equal(usdmRouteOf("btcusdt@depth@100ms"), "public");
  assert.equal(usdmRouteOf("btcusdt@bookTicker"), "public");
  assert.equal(usdmRouteOf("btcusdt@markPrice@1s"), "market");
  assert.ok(routeDelivers("usdm", "legacy", "btcusdt@depth"));
  assert.ok(!routeDelivers("usdm", "legacy", "btcusdt@aggTrade"));
  assert.ok(!routeDelivers("usdm", "public", "btcusdt@forceOrder"));
  assert.ok(routeDelivers("spot", "legacy", "btcusdt@aggTrade"));
});

Deno.test("normalizeStreamName lower-cases the symbol only", () => {
  assert.equal(normalizeStreamName("BTCUSDT@kline_1M"), "btcusdt@kline_1M");
  assert.equal(normalizeStreamName("!markPrice@arr"), "!markPrice@arr");
  for (const bad of ["", "btcusdt", "@depth", "btcusdt@", "a b@depth"]) {
    assert.equal(normalizeStreamName(bad), null);
  }
});

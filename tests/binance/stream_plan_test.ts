import assert from "node:assert/strict";
import {
  asciiLower,
  extendPlan,
  type MarketStreamConfig,
  parseStream,
  planStreams,
  StreamPlanError,
} from "../../lib/binance/stream_plan.ts";

const USDM_ALL = [
  "depth@100ms",
  "bookTicker",
  "aggTrade",
  "kline_1m",
  "markPrice@1s",
  "markPrice",
  "forceOrder",
];

Deno.test("asciiLower() folds ASCII letters only", () => {
  assert.equal(asciiLower("BTCUSDT"), "btcusdt");
  assert.equal(asciiLower("测试USDT"), "测试usdt");
  // toLowerCase() would fold these too and produce names Binance does not know.
  assert.equal(asciiLower("ＡBC"), "Ａbc");
  assert.equal(asciiLower("İX"), "İx");
  assert.equal(asciiLower("ΣA1"), "Σa1");
});

Deno.test("planStreams() routes every USD-M stream kind to its category", () => {
  const plan = planStreams({
    market: "usdm",
    wsUrl: "wss://fstream.binance.com/",
    symbols: ["BTCUSDT"],
    streams: USDM_ALL,
  });
  const byName = new Map(plan.connections.flatMap((c) => c.streams.map((s) => [s.stream, c.url])));
  const pub = "wss://fstream.binance.com/public/stream";
  const market = "wss://fstream.binance.com/market/stream";
  assert.deepEqual(Object.fromEntries(byName), {
    "depth@100ms": pub,
    bookTicker: pub,
    aggTrade: market,
    kline_1m: market,
    "markPrice@1s": market,
    markPrice: market,
    forceOrder: market,
  });
  assert.deepEqual(plan.connections.map((c) => [c.key, c.route]), [["usdm/public/0", "public"], [
    "usdm/market/0",
    "market",
  ]]);
});

Deno.test("planStreams() puts all spot streams on /stream and builds the routing table", () => {
  const plan = planStreams({
    market: "spot",
    wsUrl: "wss://stream.binance.com:9443",
    symbols: ["BTCUSDT", "测试USDT"],
    streams: ["depth@100ms", "trade", "kline_1s"],
  });
  assert.equal(plan.connections.length, 1);
  assert.equal(plan.connections[0]!.url, "wss://stream.binance.com:9443/stream");
  assert.deepEqual(plan.streams.map((s) => s.name), [
    "btcusdt@depth@100ms",
    "btcusdt@trade",
    "btcusdt@kline_1s",
    "测试usdt@depth@100ms",
    "测试usdt@trade",
    "测试usdt@kline_1s",
  ]);
  assert.deepEqual(plan.streams.map((s) => s.index), [0, 1, 2, 3, 4, 5]);
  const route = plan.routes.get("测试usdt@kline_1s");
  assert.deepEqual(route, {
    index: 5,
    name: "测试usdt@kline_1s",
    symbol: "测试USDT",
    stream: "kline_1s",
    kind: "kline",
    param: "1s",
  });
  assert.equal(plan.routes.get("btcusdt@depth@100ms")?.kind, "depth");
  assert.equal(plan.routes.get("btcusdt@depth@100ms")?.param, "100ms");
  assert.equal(plan.routes.get("BTCUSDT@trade"), undefined);
});

Deno.test("planStreams() splits at the stream limit per route", () => {
  const symbols = Array.from({ length: 1100 }, (_, i) => `X${i}USDT`);
  const plan = planStreams({
    market: "usdm",
    wsUrl: "wss://f",
    symbols,
    streams: ["depth@100ms", "aggTrade"],
  });
  assert.deepEqual(
    plan.connections.map((c) => [c.key, c.streams.length]),
    [["usdm/public/0", 1024], ["usdm/public/1", 76], ["usdm/market/0", 1024], ["usdm/market/1", 76]],
  );
  // COIN-M keeps to 200 a connection (docs/binance-api.md §9: the page said 200 before it said 1024).
  const coinm = planStreams({
    market: "coinm",
    wsUrl: "wss://d",
    symbols: symbols.slice(0, 150),
    streams: ["aggTrade", "bookTicker"],
  });
  assert.deepEqual(coinm.connections.map((c) => c.streams.length), [200, 100]);
  const small = planStreams({
    market: "spot",
    wsUrl: "wss://s",
    symbols: ["A", "B", "C"],
    streams: ["aggTrade"],
  }, {
    maxStreamsPerConnection: 2,
  });
  assert.deepEqual(small.connections.map((c) => c.streams.map((s) => s.symbol)), [["A", "B"], ["C"]]);
  // Every stream lands on exactly one connection.
  const names = plan.connections.flatMap((c) => c.streams.map((s) => s.name));
  assert.equal(new Set(names).size, 2200);
  assert.throws(() =>
    planStreams({ market: "spot", wsUrl: "wss://s", symbols: [], streams: [] }, {
      maxStreamsPerConnection: 1025,
    }), RangeError);
});

Deno.test("parseStream() accepts each market's streams and rejects the rest", () => {
  assert.deepEqual(parseStream("depth", "usdm"), { kind: "depth", param: "" });
  assert.deepEqual(parseStream("depth@500ms", "usdm"), { kind: "depth", param: "500ms" });
  assert.deepEqual(parseStream("markPrice", "usdm"), { kind: "markPrice", param: "" });
  assert.deepEqual(parseStream("kline_1M", "spot"), { kind: "kline", param: "1M" });
  const bad: [string, "spot" | "usdm"][] = [
    ["depth@500ms", "spot"],
    ["kline_1s", "usdm"],
    ["kline_2m", "spot"],
    ["markPrice@1s", "spot"],
    ["forceOrder", "spot"],
    ["trade", "usdm"],
    ["depth5", "spot"],
    ["ticker", "spot"],
    ["AGGTRADE", "spot"],
  ];
  for (const [stream, market] of bad) {
    assert.throws(() => parseStream(stream, market), StreamPlanError, stream);
  }
});

Deno.test("planStreams() rejects malformed and duplicate symbols", () => {
  const base: MarketStreamConfig = { market: "spot", wsUrl: "wss://s", symbols: [], streams: ["aggTrade"] };
  for (const symbols of [[""], ["BTC USDT"], ["BTC@USDT"], ["BTC/USDT"], ["BTCUSDT", "btcusdt"]]) {
    assert.throws(() => planStreams({ ...base, symbols }), StreamPlanError, symbols.join());
  }
  assert.throws(
    () => planStreams({ ...base, symbols: ["A"], streams: ["aggTrade", "aggTrade"] }),
    StreamPlanError,
  );
});

Deno.test("extendPlan() adds new symbols' streams on new connections, skips planned ones, and is deterministic", () => {
  const make = () =>
    planStreams(
      { market: "usdm", wsUrl: "wss://f", symbols: ["BTCUSDT"], streams: ["depth@100ms", "aggTrade"] },
      { maxStreamsPerConnection: 2 },
    );
  const plan = make();
  assert.deepEqual(plan.connections.map((c) => c.key), ["usdm/public/0", "usdm/market/0"]);
  const fresh = extendPlan(plan, ["ETHUSDT", "BTCUSDT", "SOLUSDT", "XRPUSDT"]);
  assert.deepEqual(fresh.map((c) => [c.key, c.streams.map((s) => s.name)]), [
    ["usdm/public/1", ["ethusdt@depth@100ms", "solusdt@depth@100ms"]],
    ["usdm/public/2", ["xrpusdt@depth@100ms"]],
    ["usdm/market/1", ["ethusdt@aggTrade", "solusdt@aggTrade"]],
    ["usdm/market/2", ["xrpusdt@aggTrade"]],
  ]);
  assert.deepEqual(plan.streams.map((s) => s.index), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(plan.routes.get("xrpusdt@aggTrade")?.index, 7);
  assert.deepEqual(extendPlan(plan, ["BTCUSDT"]), [], "a planned symbol adds nothing");
  const again = make();
  extendPlan(again, ["ETHUSDT", "BTCUSDT", "SOLUSDT", "XRPUSDT"]);
  assert.deepEqual(again.connections.map((c) => c.key), plan.connections.map((c) => c.key));
  assert.throws(() => extendPlan(plan, ["ADAUSDT", "ADAUSDT"]), StreamPlanError);
});

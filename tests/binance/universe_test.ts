import assert from "node:assert/strict";
import { selectSymbols, universeChange } from "../../lib/binance/universe.ts";

const info = [
  { symbol: "BTCUSDT", status: "TRADING", baseAsset: "BTC", quoteAsset: "USDT" },
  { symbol: "ETHUSDT", status: "TRADING", baseAsset: "ETH", quoteAsset: "USDT" },
  { symbol: "ETHBTC", status: "TRADING", baseAsset: "ETH", quoteAsset: "BTC" },
  { symbol: "DOGEUSDT", status: "TRADING", baseAsset: "DOGE", quoteAsset: "USDT" },
  { symbol: "OLDUSDT", status: "BREAK", baseAsset: "OLD", quoteAsset: "USDT" },
  { symbol: "HALTUSDT", status: "HALT", baseAsset: "HALT", quoteAsset: "USDT" },
  { symbol: "测试USDT", status: "TRADING", baseAsset: "测试", quoteAsset: "USDT" },
];
const none = { quoteAssets: [], include: [], exclude: [], minQuoteVolume: 0, refreshSec: 300 };

Deno.test("selectSymbols() keeps TRADING symbols only, sorted, and filters by quote asset", () => {
  assert.deepEqual(selectSymbols(info, null, none), ["BTCUSDT", "DOGEUSDT", "ETHBTC", "ETHUSDT", "测试USDT"]);
  assert.deepEqual(selectSymbols(info, null, { ...none, quoteAssets: ["BTC"] }), ["ETHBTC"]);
});

Deno.test("selectSymbols() applies the 24 h quote volume minimum; include wins over filters, exclude over all", () => {
  const tickers = [
    { symbol: "BTCUSDT", quoteVolume: 5e9, volume: 1 },
    { symbol: "ETHUSDT", quoteVolume: 2e9, volume: 1 },
    { symbol: "DOGEUSDT", quoteVolume: 1e5, volume: 1 },
    { symbol: "ETHBTC", quoteVolume: 10, volume: 1 },
  ];
  const f = { ...none, quoteAssets: ["USDT"], minQuoteVolume: 1e6 };
  assert.deepEqual(selectSymbols(info, tickers, f), ["BTCUSDT", "ETHUSDT"], "no ticker counts as no volume");
  assert.deepEqual(selectSymbols(info, tickers, { ...f, include: ["ETHBTC", "OLDUSDT"] }), [
    "BTCUSDT",
    "ETHBTC",
    "ETHUSDT",
  ], "an included symbol still has to trade");
  assert.deepEqual(selectSymbols(info, tickers, { ...f, exclude: ["ETHUSDT"], include: ["ETHUSDT"] }), [
    "BTCUSDT",
  ]);
});

Deno.test("selectSymbols() on COIN-M: tickers have no quote volume, so contracts × contract size (USD) count", () => {
  const coinm = [
    { symbol: "BTCUSD_PERP", status: "TRADING", baseAsset: "BTC", quoteAsset: "USD", contractSize: 100 },
    { symbol: "ETHUSD_PERP", status: "TRADING", baseAsset: "ETH", quoteAsset: "USD", contractSize: 10 },
    { symbol: "BTCUSD_261225", status: "DELIVERING", baseAsset: "BTC", quoteAsset: "USD", contractSize: 100 },
  ];
  const tickers = [
    { symbol: "BTCUSD_PERP", quoteVolume: null, volume: 20_000 }, // 2,000,000 USD
    { symbol: "ETHUSD_PERP", quoteVolume: null, volume: 20_000 }, // 200,000 USD
    { symbol: "BTCUSD_261225", quoteVolume: null, volume: 1e9 },
  ];
  assert.deepEqual(selectSymbols(coinm, tickers, { ...none, minQuoteVolume: 1e6 }), ["BTCUSD_PERP"]);
  assert.deepEqual(selectSymbols(coinm, tickers, { ...none, minQuoteVolume: 1e5 }), [
    "BTCUSD_PERP",
    "ETHUSD_PERP",
  ]);
});

Deno.test("universeChange() lists additions and removals, sorted", () => {
  assert.deepEqual(universeChange(["B", "A", "C"], ["D", "A", "B"]), { add: ["D"], remove: ["C"] });
  assert.deepEqual(universeChange([], ["X"]), { add: ["X"], remove: [] });
  assert.deepEqual(universeChange(["X"], ["X"]), { add: [], remove: [] });
});

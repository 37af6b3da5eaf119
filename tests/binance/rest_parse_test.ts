import assert from "node:assert/strict";
import { MalformedMessageError } from "../../lib/binance/messages.ts";
import {
  parseAggTrades,
  parseDepthSnapshot,
  parseExchangeInfo,
  parseKlines,
  parsePremiumIndex,
  parseServerTime,
  parseTickers24h,
} from "../../lib/binance/rest_parse.ts";

Deno.test("parseKlines() reads REST kline rows", () => {
  const body = '[[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",' +
    '1499644799999,"2434.19055334",308,"1756.87402397","28.46694368","0"]]';
  assert.deepEqual(parseKlines(body), [{
    openTime: 1499040000000,
    open: 0.0163479,
    high: 0.8,
    low: 0.015758,
    close: 0.015771,
    volume: 148976.11427815,
    closeTime: 1499644799999,
    quoteVolume: 2434.19055334,
    tradeCount: 308,
    takerBuyVolume: 1756.87402397,
    takerBuyQuoteVolume: 28.46694368,
  }]);
  assert.throws(() => parseKlines('[[1,"x"]]'), MalformedMessageError);
});

Deno.test("parseAggTrades() reads REST aggTrades", () => {
  const t = parseAggTrades(
    '[{"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1498793709153,' +
      '"m":true,"M":true}]',
  );
  assert.equal(t.length, 1);
  assert.equal(t[0]!.aggTradeId, 26129);
  assert.equal(t[0]!.price, 0.01633102);
  assert.equal(t[0]!.tradeTime, 1498793709153);
  assert.equal(t[0]!.isBuyerMaker, true);
});

Deno.test("parseExchangeInfo() keeps rate limits, symbol status and assets (empty where left out)", () => {
  const info = parseExchangeInfo(
    '{"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":2400}],' +
      '"symbols":[{"symbol":"测试USDT","status":"TRADING","baseAsset":"测试","quoteAsset":"USDT","filters":[]},' +
      '{"symbol":"OLD","status":"BREAK"}],"assets":[]}',
  );
  const spot = { marginAsset: null, pair: null, contractType: null, contractSize: null };
  assert.deepEqual(info, {
    rateLimits: [{ rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: 2400 }],
    symbols: [
      {
        symbol: "测试USDT",
        status: "TRADING",
        baseAsset: "测试",
        quoteAsset: "USDT",
        ...spot,
        deliveryDate: null,
        onboardDate: null,
      },
      {
        symbol: "OLD",
        status: "BREAK",
        baseAsset: "",
        quoteAsset: "",
        ...spot,
        deliveryDate: null,
        onboardDate: null,
      },
    ],
  });
});

Deno.test("parseExchangeInfo() reads COIN-M contracts: contractStatus, size, delivery (none for perpetuals)", () => {
  // Shapes from Binance's COIN-M exchangeInfo documentation (docs/binance-api.md).
  const info = parseExchangeInfo(
    '{"rateLimits":[],"symbols":[' +
      '{"symbol":"BTCUSD_PERP","pair":"BTCUSD","contractType":"PERPETUAL","deliveryDate":4133404800000,' +
      '"onboardDate":1597042800000,"contractStatus":"TRADING","contractSize":100,"marginAsset":"BTC",' +
      '"baseAsset":"BTC","quoteAsset":"USD"},' +
      '{"symbol":"BTCUSD_261225","pair":"BTCUSD","contractType":"CURRENT_QUARTER","deliveryDate":1798185600000,' +
      '"onboardDate":1782460800000,"contractStatus":"DELIVERING","contractSize":100,"marginAsset":"BTC",' +
      '"baseAsset":"BTC","quoteAsset":"USD"}]}',
  );
  assert.deepEqual(
    info.symbols.map((s) => [s.symbol, s.status, s.contractType, s.contractSize, s.deliveryDate]),
    [
      ["BTCUSD_PERP", "TRADING", "PERPETUAL", 100, null],
      ["BTCUSD_261225", "DELIVERING", "CURRENT_QUARTER", 100, 1798185600000],
    ],
  );
  assert.deepEqual([info.symbols[0]!.pair, info.symbols[0]!.marginAsset, info.symbols[0]!.onboardDate], [
    "BTCUSD",
    "BTC",
    1597042800000,
  ]);
});

Deno.test("parseTickers24h() reads each symbol's quote volume, from one object or an array", () => {
  assert.deepEqual(parseTickers24h('{"symbol":"BTCUSDT","quoteVolume":"123.5","volume":"1"}'), [
    { symbol: "BTCUSDT", quoteVolume: 123.5, volume: 1 },
  ]);
  assert.deepEqual(
    parseTickers24h(
      '[{"symbol":"A","quoteVolume":"0","volume":"0"},{"symbol":"B","quoteVolume":"7","volume":"1"}]',
    ).length,
    2,
  );
  assert.throws(() => parseTickers24h('[{"symbol":"A"}]'));
  // COIN-M: volume in contracts and baseVolume in the base asset, no quoteVolume.
  assert.deepEqual(
    parseTickers24h('[{"symbol":"BTCUSD_PERP","pair":"BTCUSD","volume":"81","baseVolume":"0.2"}]'),
    [
      { symbol: "BTCUSD_PERP", quoteVolume: null, volume: 81 },
    ],
  );
});

Deno.test("parsePremiumIndex() accepts one object or an array; empty funding fields are null", () => {
  const one = parsePremiumIndex(
    '{"symbol":"BTCUSDT","markPrice":"11793.63","indexPrice":"11781.80","estimatedSettlePrice":"11781.16",' +
      '"lastFundingRate":"0.00038246","interestRate":"0.00010000","nextFundingTime":1597392000000,"time":1597370495002}',
  );
  assert.equal(one.length, 1);
  assert.equal(one[0]!.lastFundingRate, 0.00038246);
  const many = parsePremiumIndex(
    '[{"symbol":"X","markPrice":"1","indexPrice":"1","estimatedSettlePrice":"1","lastFundingRate":"",' +
      '"interestRate":"","nextFundingTime":0,"time":5}]',
  );
  assert.deepEqual([many[0]!.lastFundingRate, many[0]!.interestRate, many[0]!.nextFundingTime], [
    null,
    null,
    null,
  ]);
});

Deno.test("malformed bodies are MalformedMessageError naming the field", () => {
  assert.throws(() => parseServerTime("<html>"), /not JSON/);
  assert.throws(() => parseServerTime('{"serverTime":"1"}'), /time\.serverTime/);
  assert.throws(
    () => parseDepthSnapshot('{"bids":[],"asks":[]}', "X", "spot"),
    /depth\.lastUpdateId: missing/,
  );
  assert.throws(
    () => parseDepthSnapshot('{"lastUpdateId":1,"bids":[["a","1"]],"asks":[]}', "X", "spot"),
    /bids\[0\]/,
  );
  assert.throws(
    () => parseDepthSnapshot('{"lastUpdateId":1,"E":"x","bids":[],"asks":[]}', "X", "usdm"),
    MalformedMessageError,
  );
});

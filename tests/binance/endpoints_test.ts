import assert from "node:assert/strict";
import { depthLimitFor, type Endpoint, requestWeight } from "../../lib/binance/endpoints.ts";
import { PROFILES } from "../../lib/binance/markets.ts";

const ENDPOINTS = {
  spot: PROFILES.spot.endpoints,
  usdm: PROFILES.usdm.endpoints,
  coinm: PROFILES.coinm.endpoints,
};

function ep(e: Endpoint | undefined): Endpoint {
  assert.ok(e, "endpoint exists");
  return e;
}

Deno.test("requestWeight() follows the documented depth tiers per market", () => {
  const spot = ep(ENDPOINTS.spot.depth);
  const spotCases: [number | undefined, number][] = [
    [undefined, 5],
    [1, 5],
    [100, 5],
    [101, 25],
    [500, 25],
    [501, 50],
    [1000, 50],
    [1001, 250],
    [5000, 250],
  ];
  for (const [limit, w] of spotCases) assert.equal(requestWeight(spot, { limit }), w, `spot limit ${limit}`);
  const usdm = ep(ENDPOINTS.usdm.depth);
  const usdmCases: [number | undefined, number][] = [
    [undefined, 10],
    [5, 2],
    [50, 2],
    [100, 5],
    [500, 10],
    [1000, 20],
  ];
  for (const [limit, w] of usdmCases) assert.equal(requestWeight(usdm, { limit }), w, `usdm limit ${limit}`);
});

Deno.test("requestWeight() of the other endpoints", () => {
  assert.equal(requestWeight(ep(ENDPOINTS.spot.exchangeInfo), {}), 20);
  assert.equal(requestWeight(ep(ENDPOINTS.usdm.exchangeInfo), {}), 1);
  assert.equal(requestWeight(ep(ENDPOINTS.spot.aggTrades), {}), 4);
  assert.equal(requestWeight(ep(ENDPOINTS.usdm.aggTrades), {}), 20);
  assert.equal(requestWeight(ep(ENDPOINTS.spot.klines), { limit: 1000 }), 2);
  assert.equal(requestWeight(ep(ENDPOINTS.usdm.klines), { limit: 99 }), 1);
  assert.equal(requestWeight(ep(ENDPOINTS.usdm.klines), { limit: 100 }), 2);
  assert.equal(requestWeight(ep(ENDPOINTS.usdm.klines), { limit: 1000 }), 5);
  assert.equal(requestWeight(ep(ENDPOINTS.usdm.klines), { limit: 1500 }), 10);
  assert.equal(requestWeight(ep(ENDPOINTS.usdm.premiumIndex), { symbol: "BTCUSDT" }), 1);
  assert.equal(requestWeight(ep(ENDPOINTS.usdm.premiumIndex), {}), 10);
  assert.equal(requestWeight(ep(ENDPOINTS.usdm.fundingRate), {}), 0);
  assert.equal(ENDPOINTS.usdm.fundingRate?.extraBudget, "fundingRate");
  assert.equal(ENDPOINTS.spot.fundingRate, undefined);
  assert.equal(ENDPOINTS.spot.premiumIndex, undefined);
});

Deno.test("depthLimitFor() picks the largest valid limit not above the wanted one", () => {
  assert.equal(depthLimitFor("spot", 1234), 1234);
  assert.equal(depthLimitFor("spot", 9000), 5000);
  assert.equal(depthLimitFor("usdm", 5000), 1000);
  assert.equal(depthLimitFor("usdm", 499), 100);
  assert.equal(depthLimitFor("usdm", 20), 20);
  assert.equal(depthLimitFor("usdm", 4), null);
  assert.equal(depthLimitFor("spot", 0), null);
});

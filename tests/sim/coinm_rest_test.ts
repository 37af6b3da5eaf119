/**
 * COIN-M REST (`/dapi/v1`) of the simulator, sans I/O: shapes, weights and errors as Binance documents them
 * (docs/binance-api.md §3) and as the recorded dapi bodies in tests/fixtures/binance show them.
 */
import assert from "node:assert/strict";
import { deliverySymbol, quarterlyAfter } from "../../lib/sim/coinm_contracts.ts";
import { Exchange } from "../../lib/sim/exchange.ts";
import { noFaults } from "../../lib/sim/faults.ts";
import { Prng } from "../../lib/sim/prng.ts";
import { RestApi } from "../../lib/sim/rest.ts";
import { readFixtureLines } from "../fixtures_util.ts";

const T0 = 1_767_225_600_000; // 2026-01-01
const CURRENT = deliverySymbol("BTCUSD", quarterlyAfter(T0)); // BTCUSD_260327
const NEXT = deliverySymbol("BTCUSD", quarterlyAfter(quarterlyAfter(T0))); // BTCUSD_260626
const DELIVERY_FIXTURES = "binance/cryptofeed/master_commit-ce58c2a0/BINANCE_DELIVERY";

type Json = Record<string, unknown>;

function setup(coinmWeight = 6000) {
  const exchange = new Exchange({
    symbols: ["BTCUSDT", "BTCUSD_PERP", NEXT, CURRENT, "ETHUSD_PERP"],
    seed: 3,
  }, T0);
  for (let t = T0 + 10; t <= T0 + 5000; t += 10) exchange.step(t, null);
  const api = new RestApi(exchange, noFaults(), new Prng(1), {
    weightPerMinute: { spot: 6000, usdm: 2400, coinm: coinmWeight },
    banMs: 120_000,
  });
  const now = T0 + 5005;
  const get = (path: string, query = "") => {
    const out = api.handle("coinm", "GET", path, new URLSearchParams(query), now);
    if (out.kind !== "response") throw new Error("unexpected hang");
    return { ...out, used: Number(out.headers["x-mbx-used-weight-1m"]), json: JSON.parse(out.body) };
  };
  return { exchange, get, now };
}

/** Weight of one request: the used-weight header's growth over the request before it (`time`, weight 1). */
function weigher(get: ReturnType<typeof setup>["get"]) {
  return (path: string, query = "") => {
    const before = get("/dapi/v1/time").used;
    return get(path, query).used - before;
  };
}

/** The first recorded dapi REST body whose URL contains `part`. */
async function recordedBody(part: string): Promise<Json> {
  for (const file of [`${DELIVERY_FIXTURES}.0.gz`, `${DELIVERY_FIXTURES}.http.0.0.gz`]) {
    for await (const r of readFixtureLines(file)) {
      if (r.kind === "http" && r.url?.includes(part)) return JSON.parse(r.text);
    }
  }
  throw new Error(`no recorded ${part}`);
}

Deno.test("dapi depth: the recorded shape (E, T, symbol, pair), futures limits and weights, whole contracts", async () => {
  const { get, exchange, now } = setup();
  const weight = weigher(get);
  const body = get("/dapi/v1/depth", "symbol=BTCUSD_PERP&limit=5").json;
  const recorded = await recordedBody("/dapi/v1/depth");
  assert.deepEqual(Object.keys(body), Object.keys(recorded));
  assert.deepEqual(Object.keys(body), ["lastUpdateId", "E", "T", "symbol", "pair", "bids", "asks"]);
  assert.deepEqual([body.symbol, body.pair, body.E], ["BTCUSD_PERP", "BTCUSD", now]);
  assert.equal(body.lastUpdateId, exchange.engine("coinm", "BTCUSD_PERP")!.updateId);
  for (const [price, qty] of [...body.bids, ...body.asks] as string[][]) {
    assert.match(qty!, /^[1-9]\d*$/, "quantities are whole contracts");
    assert.match(price!, /^\d+\.\d$/, "BTCUSD prices on the 0.1 tick");
  }
  assert.deepEqual(
    [["limit=5", 2], ["limit=50", 2], ["limit=100", 5], ["", 10], ["limit=500", 10], ["limit=1000", 20]].map((
      [q, _],
    ) => weight("/dapi/v1/depth", `symbol=${CURRENT}&${q}`)),
    [2, 2, 5, 10, 10, 20],
  );
  assert.equal(get("/dapi/v1/depth", "symbol=BTCUSD_PERP").json.bids.length, 500);
  assert.equal(get("/dapi/v1/depth", "symbol=BTCUSD_PERP&limit=7").json.code, -1130);
  assert.equal(get("/dapi/v1/depth", "symbol=BTCUSDT").json.code, -1121, "spot names are not COIN-M symbols");
  assert.equal(get("/fapi/v1/depth", "symbol=BTCUSD_PERP").status, 404, "no /fapi paths on COIN-M");
});

Deno.test("dapi aggTrades and klines: weights, whole contracts, kline column 7 in the base asset", () => {
  const { get } = setup();
  const weight = weigher(get);
  const trades = get("/dapi/v1/aggTrades", "symbol=ETHUSD_PERP&limit=50").json as Json[];
  assert.equal(weight("/dapi/v1/aggTrades", "symbol=ETHUSD_PERP"), 20);
  assert.ok(trades.length === 50);
  for (const t of trades) {
    assert.deepEqual(Object.keys(t), ["a", "p", "q", "f", "l", "T", "m"]);
    assert.match(String(t.q), /^[1-9]\d*$/);
  }
  assert.deepEqual(
    [99, 100, 499, 500, 1000, 1500].map((limit) =>
      weight("/dapi/v1/klines", `symbol=ETHUSD_PERP&interval=1m&limit=${limit}`)
    ),
    [1, 2, 2, 5, 5, 10],
  );
  const [row] = get("/dapi/v1/klines", "symbol=ETHUSD_PERP&interval=1m&limit=1").json as string[][];
  assert.match(row![5]!, /^\d+$/, "volume in contracts");
  assert.match(row![7]!, /^\d+\.\d{8}$/, "base-asset volume with 8 decimals");
  const contracts = Number(row![5]);
  const base = Number(row![7]);
  const low = Number(row![3]);
  const high = Number(row![2]);
  // 10 USD a contract: base volume = contracts × 10 / price, with price in [low, high].
  assert.ok(contracts > 0 && base >= (contracts * 10) / high - 1e-6 && base <= (contracts * 10) / low + 1e-6);
  assert.equal(get("/dapi/v1/klines", "symbol=ETHUSD_PERP&interval=1s").json.code, -1120, "no 1s");
});

Deno.test("dapi exchangeInfo: contractStatus, pair, contract types and sizes, dates, the 6000 weight limit", async () => {
  const { get } = setup();
  const weight = weigher(get);
  const info = get("/dapi/v1/exchangeInfo").json;
  assert.equal(weight("/dapi/v1/exchangeInfo"), 1);
  assert.deepEqual(info.rateLimits[0], {
    rateLimitType: "REQUEST_WEIGHT",
    interval: "MINUTE",
    intervalNum: 1,
    limit: 6000,
  });
  const symbols = new Map((info.symbols as Json[]).map((s) => [s.symbol, s]));
  assert.deepEqual([...symbols.keys()], ["BTCUSD_PERP", NEXT, CURRENT, "ETHUSD_PERP"], "COIN-M names only");
  const recorded = (await recordedBody("/dapi/v1/exchangeInfo")).symbols as Json[];
  const recordedKeys = new Set(recorded.flatMap((s) => Object.keys(s)));
  for (const s of symbols.values()) {
    assert.ok(Object.keys(s).every((k) => recordedKeys.has(k)), `${s.symbol}: only fields Binance has`);
    assert.ok(!("status" in s), "COIN-M calls it contractStatus");
    assert.equal(s.contractStatus, "TRADING");
    assert.deepEqual([s.quoteAsset, s.marginAsset, s.quantityPrecision], ["USD", s.baseAsset, 0]);
  }
  const pick = (symbol: string) => {
    const s = symbols.get(symbol)!;
    return [s.pair, s.contractType, s.contractSize, s.deliveryDate, s.onboardDate];
  };
  assert.deepEqual(pick("BTCUSD_PERP"), ["BTCUSD", "PERPETUAL", 100, 4133404800000, 1597042800000]);
  assert.deepEqual(pick("ETHUSD_PERP"), ["ETHUSD", "PERPETUAL", 10, 4133404800000, 1597042800000]);
  const current = quarterlyAfter(T0);
  assert.deepEqual(pick(CURRENT), ["BTCUSD", "CURRENT_QUARTER", 100, current, Date.UTC(2025, 8, 26, 8)]);
  assert.deepEqual(pick(NEXT), [
    "BTCUSD",
    "NEXT_QUARTER",
    100,
    quarterlyAfter(current),
    Date.UTC(2025, 11, 26, 8),
  ]);
  const filters = symbols.get("BTCUSD_PERP")!.filters as Json[];
  assert.deepEqual(filters.map((f) => [f.filterType, f.tickSize ?? f.stepSize]), [
    ["PRICE_FILTER", "0.1"],
    ["LOT_SIZE", "1"],
  ]);
});

Deno.test("dapi premiumIndex: always an array, weight 10, pair; delivery contracts without funding", () => {
  const { get } = setup();
  const weight = weigher(get);
  const one = get("/dapi/v1/premiumIndex", "symbol=BTCUSD_PERP").json as Json[];
  assert.ok(Array.isArray(one) && one.length === 1);
  assert.equal(weight("/dapi/v1/premiumIndex", "symbol=BTCUSD_PERP"), 10);
  assert.equal(weight("/dapi/v1/premiumIndex"), 10);
  assert.deepEqual(Object.keys(one[0]!), [
    "symbol",
    "pair",
    "markPrice",
    "indexPrice",
    "estimatedSettlePrice",
    "lastFundingRate",
    "interestRate",
    "nextFundingTime",
    "time",
  ]);
  assert.match(String(one[0]!.lastFundingRate), /^-?\d\.\d{8}$/);
  assert.ok((one[0]!.nextFundingTime as number) > T0);
  const pair = get("/dapi/v1/premiumIndex", "pair=BTCUSD").json as Json[];
  assert.deepEqual(pair.map((p) => p.symbol), ["BTCUSD_PERP", NEXT, CURRENT]);
  const delivery = pair.find((p) => p.symbol === CURRENT)!;
  assert.deepEqual([delivery.lastFundingRate, delivery.interestRate, delivery.nextFundingTime], ["", "", 0]);
  assert.equal((get("/dapi/v1/premiumIndex").json as Json[]).length, 4);
  assert.equal(get("/dapi/v1/premiumIndex", "symbol=BTCUSD_PERP&pair=BTCUSD").json.code, -1128);
  assert.equal(get("/dapi/v1/premiumIndex", "pair=XYZUSD").json.code, -4087);
});

Deno.test("dapi fundingRate: weight 1, symbol required, no markPrice, empty for delivery contracts", () => {
  const { get, now } = setup();
  const weight = weigher(get);
  const rows = get("/dapi/v1/fundingRate", "symbol=BTCUSD_PERP&limit=3").json as Json[];
  assert.equal(weight("/dapi/v1/fundingRate", "symbol=BTCUSD_PERP"), 1);
  assert.equal(rows.length, 3);
  for (const r of rows) assert.deepEqual(Object.keys(r), ["symbol", "fundingTime", "fundingRate"]);
  assert.ok(
    rows.every((r, i) =>
      i === 0 || (r.fundingTime as number) - (rows[i - 1]!.fundingTime as number) === 8 * 3600_000
    ),
  );
  assert.ok((rows.at(-1)!.fundingTime as number) <= now);
  assert.deepEqual(get("/dapi/v1/fundingRate", `symbol=${CURRENT}`).json, []);
  assert.equal(get("/dapi/v1/fundingRate").json.code, -1102);
});

Deno.test("dapi ticker/24hr: an array even for one symbol, pair filter, volume in contracts and baseVolume", () => {
  const { get } = setup();
  const weight = weigher(get);
  const one = get("/dapi/v1/ticker/24hr", "symbol=BTCUSD_PERP").json as Json[];
  assert.equal(weight("/dapi/v1/ticker/24hr", "symbol=BTCUSD_PERP"), 1);
  assert.equal(weight("/dapi/v1/ticker/24hr"), 40);
  assert.equal(weight("/dapi/v1/ticker/24hr", "pair=BTCUSD"), 40);
  assert.ok(Array.isArray(one) && one.length === 1);
  assert.deepEqual(Object.keys(one[0]!), [
    "symbol",
    "pair",
    "priceChange",
    "priceChangePercent",
    "weightedAvgPrice",
    "lastPrice",
    "lastQty",
    "openPrice",
    "highPrice",
    "lowPrice",
    "volume",
    "baseVolume",
    "openTime",
    "closeTime",
    "firstId",
    "lastId",
    "count",
  ]);
  const t = one[0]!;
  assert.match(String(t.volume), /^\d+$/);
  // baseVolume = contracts × 100 USD / price: the average price it implies lies in the day's range.
  const implied = (Number(t.volume) * 100) / Number(t.baseVolume);
  assert.ok(implied >= Number(t.lowPrice) * 0.999 && implied <= Number(t.highPrice) * 1.001, `${implied}`);
  assert.ok(Math.abs(Number(t.weightedAvgPrice) - implied) < 0.2);
  assert.deepEqual((get("/dapi/v1/ticker/24hr", "pair=ETHUSD").json as Json[]).map((x) => x.symbol), [
    "ETHUSD_PERP",
  ]);
  assert.equal(get("/dapi/v1/ticker/24hr", "symbol=BTCUSD_PERP&pair=BTCUSD").json.code, -1128);
});

Deno.test("dapi REQUEST_WEIGHT: its own budget; over it a 429, then a 418 ban", () => {
  const { get } = setup(25);
  assert.equal(get("/dapi/v1/depth", "symbol=BTCUSD_PERP&limit=1000").status, 200);
  const limited = get("/dapi/v1/depth", "symbol=BTCUSD_PERP&limit=1000");
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers["retry-after"]) >= 1);
  assert.equal(get("/dapi/v1/depth", "symbol=BTCUSD_PERP&limit=1000").status, 418);
  assert.equal(get("/dapi/v1/time").status, 418, "banned for every endpoint");
});

Deno.test("REST faults aimed at coinm: 503s and stale snapshots there, USD-M untouched", () => {
  const exchange = new Exchange({ symbols: ["BTCUSDT", "BTCUSD_PERP"], seed: 3 }, T0);
  for (let t = T0 + 10; t <= T0 + 5000; t += 10) exchange.step(t, null);
  const faults = noFaults();
  const api = new RestApi(exchange, faults, new Prng(1), {
    weightPerMinute: { spot: 6000, usdm: 2400, coinm: 6000 },
    banMs: 120_000,
  });
  const get = (market: "usdm" | "coinm", path: string, query: string) => {
    const out = api.handle(market, "GET", path, new URLSearchParams(query), T0 + 5005);
    assert.ok(out.kind === "response");
    return out;
  };
  faults.rest = { market: "coinm", errorProbability: 1 };
  assert.equal(get("coinm", "/dapi/v1/depth", "symbol=BTCUSD_PERP").status, 503);
  assert.equal(get("usdm", "/fapi/v1/depth", "symbol=BTCUSDT").status, 200);
  faults.rest = null;
  faults.staleSnapshots = { market: "coinm" };
  const stale = JSON.parse(get("coinm", "/dapi/v1/depth", "symbol=BTCUSD_PERP").body);
  const live = exchange.engine("coinm", "BTCUSD_PERP")!.updateId;
  assert.ok(stale.lastUpdateId < live, "a book saved seconds earlier");
  assert.equal(
    JSON.parse(get("usdm", "/fapi/v1/depth", "symbol=BTCUSDT").body).lastUpdateId,
    exchange.engine("usdm", "BTCUSDT")!.updateId,
  );
});

import assert from "node:assert/strict";
import type { Market } from "../../lib/binance/markets.ts";
import { Exchange } from "../../lib/sim/exchange.ts";
import { noFaults } from "../../lib/sim/faults.ts";
import { Prng } from "../../lib/sim/prng.ts";
import { RestApi } from "../../lib/sim/rest.ts";

const T0 = 1_767_225_600_000;

function setup() {
  const exchange = new Exchange({ symbols: ["BTCUSDT", "ETHUSDT"], seed: 1 }, T0);
  for (let i = 1; i <= 300; i++) exchange.step(T0 + i * 10, null);
  const faults = noFaults();
  const api = new RestApi(exchange, faults, new Prng(1), {
    weightPerMinute: { spot: 6000, usdm: 2400, coinm: 6000 },
    banMs: 120_000,
  });
  const now = T0 + 3005;
  const get = (market: Market, path: string, query = "") => {
    const out = api.handle(market, "GET", path, new URLSearchParams(query), now);
    assert.equal(out.kind, "response");
    if (out.kind !== "response") throw new Error("unreachable");
    return { ...out, json: JSON.parse(out.body) };
  };
  return { exchange, faults, api, get, now };
}

Deno.test("depth: spot limit default 100, capped at 5000, weight tiers in the header", () => {
  const { get, exchange } = setup();
  const engine = exchange.engine("spot", "BTCUSDT")!;
  const a = get("spot", "/api/v3/depth", "symbol=BTCUSDT");
  assert.equal(a.json.bids.length, 100);
  assert.equal(a.json.lastUpdateId, engine.updateId);
  assert.ok(!("E" in a.json));
  assert.equal(a.headers["x-mbx-used-weight-1m"], "5");
  const b = get("spot", "/api/v3/depth", "symbol=BTCUSDT&limit=9999");
  assert.equal(b.json.bids.length, Math.min(5000, engine.book.bids.size));
  assert.equal(b.headers["x-mbx-used-weight-1m"], "255");
  const best = b.json.bids[0];
  assert.equal(Number(best[0]), engine.book.bids.bestTick()! / 100);
});

Deno.test("depth: USD-M accepts only its limits, default 500, adds E and T", () => {
  const { get, now } = setup();
  const a = get("usdm", "/fapi/v1/depth", "symbol=ETHUSDT");
  assert.equal(a.json.bids.length, 500);
  assert.equal(a.json.E, now);
  assert.equal(typeof a.json.T, "number");
  assert.equal(a.headers["x-mbx-used-weight-1m"], "10");
  const bad = get("usdm", "/fapi/v1/depth", "symbol=ETHUSDT&limit=7");
  assert.equal(bad.status, 400);
  assert.equal(bad.json.code, -1130);
  assert.equal(get("usdm", "/fapi/v1/depth", "limit=5").json.code, -1102);
  assert.equal(get("usdm", "/fapi/v1/depth", "symbol=ETHUSDT&limit=x").json.code, -1100);
});

Deno.test("aggTrades: fromId, time range, latest; spot rejects ranges over an hour", () => {
  const { get, exchange } = setup();
  const all = exchange.engine("spot", "BTCUSDT")!.trades.query({ limit: 1000 });
  assert.ok(all.length > 10);
  const from = get("spot", "/api/v3/aggTrades", `symbol=BTCUSDT&fromId=${all[3]!.aggId}&limit=2`).json;
  assert.deepEqual(from.map((t: { a: number }) => t.a), [all[3]!.aggId, all[4]!.aggId]);
  assert.deepEqual(Object.keys(from[0]), ["a", "p", "q", "f", "l", "T", "m", "M"]);
  const t = all[5]!.tradeTime;
  const ranged = get("spot", "/api/v3/aggTrades", `symbol=BTCUSDT&startTime=${t}&endTime=${t}`).json;
  assert.ok(ranged.length >= 1 && ranged.every((x: { T: number }) => x.T === t));
  const latest = get("spot", "/api/v3/aggTrades", "symbol=BTCUSDT&limit=3").json;
  assert.equal(latest.at(-1).a, all.at(-1)!.aggId);
  assert.equal(
    get("spot", "/api/v3/aggTrades", "symbol=BTCUSDT&startTime=0&endTime=3600001").json.code,
    -1127,
  );
  const usdm = get("usdm", "/fapi/v1/aggTrades", "symbol=BTCUSDT&limit=1");
  assert.deepEqual(Object.keys(usdm.json[0]), ["a", "p", "q", "f", "l", "T", "m"]);
  assert.equal(usdm.headers["x-mbx-used-weight-1m"], "20");
});

Deno.test("klines: array form, valid intervals only", () => {
  const { get } = setup();
  const k = get("spot", "/api/v3/klines", "symbol=BTCUSDT&interval=1s&limit=2").json;
  assert.equal(k.length, 2);
  assert.equal(k[0].length, 12);
  assert.equal(k[0][6] - k[0][0], 999);
  assert.equal(k[1][0], k[0][0] + 1000);
  assert.equal(get("usdm", "/fapi/v1/klines", "symbol=BTCUSDT&interval=1s").json.code, -1120);
  assert.equal(get("spot", "/api/v3/klines", "symbol=BTCUSDT").json.code, -1102);
});

Deno.test("premiumIndex and fundingRate", () => {
  const { get, now } = setup();
  const p = get("usdm", "/fapi/v1/premiumIndex", "symbol=BTCUSDT").json;
  assert.equal(p.symbol, "BTCUSDT");
  assert.ok(p.nextFundingTime > now && p.nextFundingTime % (8 * 3_600_000) === 0);
  const all = get("usdm", "/fapi/v1/premiumIndex");
  assert.equal(all.json.length, 2);
  assert.equal(all.headers["x-mbx-used-weight-1m"], "11");
  const f = get("usdm", "/fapi/v1/fundingRate", "symbol=BTCUSDT&limit=3").json;
  assert.equal(f.length, 3);
  assert.ok(f[0].fundingTime < f[1].fundingTime && f[2].fundingTime <= now);
  assert.deepEqual(Object.keys(f[0]), ["symbol", "fundingTime", "fundingRate", "markPrice"]);
});

Deno.test("exchangeInfo carries the weight limit and the symbols' grids", () => {
  const { get } = setup();
  const s = get("spot", "/api/v3/exchangeInfo", 'symbols=["ETHUSDT"]');
  assert.equal(s.headers["x-mbx-used-weight-1m"], "20");
  assert.equal(s.json.rateLimits[0].limit, 6000);
  assert.deepEqual(s.json.symbols.map((x: { symbol: string }) => x.symbol), ["ETHUSDT"]);
  const u = get("usdm", "/fapi/v1/exchangeInfo").json;
  const btc = u.symbols.find((x: { symbol: string }) => x.symbol === "BTCUSDT");
  assert.equal(btc.contractType, "PERPETUAL");
  assert.equal(btc.filters[0].tickSize, "0.10");
  assert.equal(get("spot", "/api/v3/exchangeInfo", "symbol=NOPE").json.code, -1121);
});

Deno.test("unknown paths and methods; fault switches hang, fail and limit", () => {
  const { get, api, faults, now, exchange } = setup();
  assert.equal(get("spot", "/api/v3/nothing").status, 404);
  const post = api.handle("spot", "POST", "/api/v3/time", new URLSearchParams(), now);
  assert.equal(post.kind === "response" && post.status, 405);
  faults.rest = { hangProbability: 1, hangMs: 5 };
  assert.deepEqual(api.handle("spot", "GET", "/api/v3/time", new URLSearchParams(), now), {
    kind: "hang",
    ms: 5,
  });
  faults.rest = { errorProbability: 1, market: "usdm" };
  assert.equal(get("spot", "/api/v3/time").status, 200);
  assert.equal(get("usdm", "/fapi/v1/time").status, 503);
  faults.rest = { rateLimitProbability: 1 };
  const limited = get("usdm", "/fapi/v1/time");
  assert.equal(limited.status, 429);
  assert.equal(limited.headers["retry-after"], "1");
  faults.rest = null;
  faults.staleSnapshots = { market: "usdm" };
  const stale = get("usdm", "/fapi/v1/depth", "symbol=BTCUSDT&limit=5").json;
  const engine = exchange.engine("usdm", "BTCUSDT")!;
  assert.equal(stale.lastUpdateId, engine.staleSnapshot(5).updateId);
  assert.ok(stale.lastUpdateId < engine.updateId);
  assert.equal(
    get("spot", "/api/v3/depth", "symbol=BTCUSDT&limit=5").json.lastUpdateId,
    exchange.engine("spot", "BTCUSDT")!.updateId,
  );
});

import assert from "node:assert/strict";
import type { Market } from "../../lib/binance/markets.ts";
import type { AggTradeEvent } from "../../lib/sim/events.ts";
import { Exchange } from "../../lib/sim/exchange.ts";
import { noFaults } from "../../lib/sim/faults.ts";
import { formatQuote } from "../../lib/sim/frames.ts";
import { Prng } from "../../lib/sim/prng.ts";
import { RestApi } from "../../lib/sim/rest.ts";
import { generateUniverse } from "../../lib/sim/universe.ts";

const T0 = 1_767_225_600_000;
const SECONDS = 20;

function setup(weightPerMinute = { spot: 6000, usdm: 2400, coinm: 6000 }) {
  const listings = generateUniverse({ seed: 5, size: { spot: 150, usdm: 50 } });
  const exchange = new Exchange({ listings, seed: 5, quietStepping: true, historyLimit: 5000 }, T0);
  for (let t = T0 + 10; t <= T0 + SECONDS * 1000; t += 10) exchange.step(t, null);
  const api = new RestApi(exchange, noFaults(), new Prng(1), { weightPerMinute, banMs: 120_000 });
  const now = T0 + SECONDS * 1000;
  const get = (market: Market, path: string, query = "") => {
    const out = api.handle(market, "GET", path, new URLSearchParams(query), now);
    if (out.kind !== "response") throw new Error("unexpected hang");
    return { ...out, used: Number(out.headers["x-mbx-used-weight-1m"]), json: JSON.parse(out.body) };
  };
  return { exchange, listings, get, now };
}

type Ticker = Record<string, string | number>;

Deno.test("ticker/24hr: Binance's shapes and weights (spot 2 / 2-40-80 by symbols / 80; USD-M 1 / 40)", () => {
  const { get, exchange } = setup();
  const names = exchange.listed("spot").map((l) => l.engine.spec.symbol);
  const one = get("spot", "/api/v3/ticker/24hr", "symbol=BTCUSDT");
  assert.equal(one.used, 2);
  assert.deepEqual(Object.keys(one.json), [
    "symbol",
    "priceChange",
    "priceChangePercent",
    "weightedAvgPrice",
    "prevClosePrice",
    "lastPrice",
    "lastQty",
    "bidPrice",
    "bidQty",
    "askPrice",
    "askQty",
    "openPrice",
    "highPrice",
    "lowPrice",
    "volume",
    "quoteVolume",
    "openTime",
    "closeTime",
    "firstId",
    "lastId",
    "count",
  ]);
  const twenty = get("spot", "/api/v3/ticker/24hr", `symbols=${JSON.stringify(names.slice(0, 20))}`);
  assert.equal(twenty.used, 2 + 2);
  assert.deepEqual(twenty.json.map((t: Ticker) => t.symbol), names.slice(0, 20));
  assert.equal(
    get("spot", "/api/v3/ticker/24hr", `symbols=${JSON.stringify(names.slice(0, 21))}`).used,
    4 + 40,
  );
  assert.equal(
    get("spot", "/api/v3/ticker/24hr", `symbols=${JSON.stringify(names.slice(0, 101))}`).used,
    44 + 80,
  );
  const all = get("spot", "/api/v3/ticker/24hr");
  assert.equal(all.used, 124 + 80);
  assert.equal(all.json.length, 150);
  const mini = get("spot", "/api/v3/ticker/24hr", "symbol=ETHUSDT&type=MINI").json;
  assert.deepEqual(Object.keys(mini), [
    "symbol",
    "openPrice",
    "highPrice",
    "lowPrice",
    "lastPrice",
    "volume",
    "quoteVolume",
    "openTime",
    "closeTime",
    "firstId",
    "lastId",
    "count",
  ]);
  const usdm = get("usdm", "/fapi/v1/ticker/24hr", "symbol=BTCUSDT");
  assert.equal(usdm.used, 1);
  assert.ok(!("bidPrice" in usdm.json) && "lastQty" in usdm.json);
  const usdmAll = get("usdm", "/fapi/v1/ticker/24hr");
  assert.equal(usdmAll.used, 41);
  assert.equal(usdmAll.json.length, 50);
  assert.equal(get("spot", "/api/v3/ticker/24hr", "symbol=NOPEUSDT").json.code, -1121);
  assert.equal(get("spot", "/api/v3/ticker/24hr", "symbol=BTCUSDT&type=TINY").json.code, -1100);
  assert.equal(get("spot", "/api/v3/ticker/24hr", "symbols=BTCUSDT").json.code, -1100);
});

Deno.test("ticker/24hr: quoteVolume follows each symbol's activity, so a volume floor keeps the busy ones", () => {
  const { get, listings } = setup();
  for (const [market, path] of [["spot", "/api/v3/ticker/24hr"], ["usdm", "/fapi/v1/ticker/24hr"]] as const) {
    const tickers = new Map<string, Ticker>(get(market, path).json.map((t: Ticker) => [t.symbol, t]));
    const usdt = listings.filter((l) =>
      l.market === market && l.quoteAsset === "USDT" && l.status === "TRADING"
    )
      .sort((a, b) => b.changesPerSec - a.changesPerSec);
    const volume = (symbol: string) => Number(tickers.get(symbol)!.quoteVolume);
    assert.equal(usdt[0]!.symbol, "BTCUSDT");
    // Rank agreement: of all pairs of USDT symbols whose rates differ 4×, the busier has the larger volume.
    let agree = 0;
    let pairs = 0;
    for (const a of usdt) {
      for (const b of usdt) {
        if (a.changesPerSec < 4 * b.changesPerSec) continue;
        pairs++;
        if (volume(a.symbol) > volume(b.symbol)) agree++;
      }
    }
    assert.ok(pairs > 100 && agree >= 0.95 * pairs, `${market}: ${agree} of ${pairs} pairs agree`);
    const floor = volume(usdt[Math.floor(usdt.length / 10)]!.symbol);
    const kept = usdt.filter((l) => volume(l.symbol) >= floor).map((l) => l.symbol);
    assert.ok(kept.includes("BTCUSDT") && kept.includes("ETHUSDT"));
    assert.ok(kept.length < usdt.length / 4, `${market}: a 24 h volume floor drops the quiet tail`);
    for (const l of listings.filter((x) => x.market === market && x.status !== "TRADING")) {
      const t = tickers.get(l.symbol)!;
      assert.deepEqual([Number(t.quoteVolume), t.count, t.firstId, t.lastId], [0, 0, -1, -1], l.symbol);
    }
  }
});

Deno.test("ticker/24hr of a symbol listed at run time counts exactly its own trades", () => {
  const { exchange, now } = setup();
  exchange.list({ market: "spot", symbol: "NEWUSDT", changesPerSec: 200 }, now);
  const trades: AggTradeEvent[] = [];
  for (let t = now + 10; t <= now + 10_000; t += 10) {
    for (const e of exchange.step(t, null)) {
      if (e.kind === "aggTrade" && e.spec.symbol === "NEWUSDT") trades.push(e);
    }
  }
  assert.ok(trades.length > 20);
  const api = new RestApi(exchange, noFaults(), new Prng(1), {
    weightPerMinute: { spot: 6000, usdm: 2400, coinm: 6000 },
    banMs: 120_000,
  });
  const out = api.handle(
    "spot",
    "GET",
    "/api/v3/ticker/24hr",
    new URLSearchParams("symbol=NEWUSDT"),
    now + 10_000,
  );
  assert.ok(out.kind === "response");
  const t = JSON.parse(out.body);
  const spec = exchange.engine("spot", "NEWUSDT")!.spec;
  const ids = trades.reduce((n, x) => n + x.lastTradeId - x.firstTradeId + 1, 0);
  assert.equal(t.count, ids);
  assert.equal(t.lastId, trades.at(-1)!.lastTradeId);
  assert.equal(t.firstId, trades[0]!.firstTradeId);
  assert.equal(t.quoteVolume, formatQuote(spec, trades.reduce((q, x) => q + x.priceTicks * x.lots, 0)));
  assert.equal(Number(t.volume) * 10 ** spec.qtyDecimals, trades.reduce((q, x) => q + x.lots, 0));
  const prices = trades.map((x) => x.priceTicks / 10 ** spec.priceDecimals);
  assert.equal(Number(t.lastPrice), prices.at(-1));
  assert.ok(Number(t.highPrice) >= Math.max(...prices) && Number(t.lowPrice) <= Math.min(...prices));
});

Deno.test("ticker/24hr over the weight limit gets 429, then a 418 ban", () => {
  const { get } = setup({ spot: 100, usdm: 50, coinm: 6000 });
  assert.equal(get("spot", "/api/v3/ticker/24hr").status, 200);
  const limited = get("spot", "/api/v3/ticker/24hr");
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers["retry-after"]) >= 1);
  assert.equal(limited.used, 80, "a refused request is not charged");
  assert.equal(get("spot", "/api/v3/ticker/24hr").status, 418);
  assert.equal(get("usdm", "/fapi/v1/ticker/24hr").status, 200);
  assert.equal(get("usdm", "/fapi/v1/ticker/24hr").status, 429);
});

Deno.test("exchangeInfo of a whole market: statuses, assets, and the spot symbolStatus filter", () => {
  const { get, listings } = setup();
  const spot = get("spot", "/api/v3/exchangeInfo").json.symbols as Record<string, unknown>[];
  assert.equal(spot.length, 150);
  for (const s of spot) {
    const l = listings.find((x) => x.market === "spot" && x.symbol === s.symbol)!;
    assert.deepEqual([s.status, s.baseAsset, s.quoteAsset], [l.status, l.baseAsset, l.quoteAsset]);
  }
  assert.ok(spot.some((s) => s.status !== "TRADING"), "a few are not trading");
  const trading = get("spot", "/api/v3/exchangeInfo", "symbolStatus=TRADING").json.symbols;
  assert.equal(trading.length, spot.filter((s) => s.status === "TRADING").length);
  assert.equal(get("spot", "/api/v3/exchangeInfo", "symbolStatus=HALTED").json.code, -1100);
  assert.equal(get("spot", "/api/v3/exchangeInfo", "symbolStatus=TRADING&symbol=BTCUSDT").json.code, -1128);
  const usdm = get("usdm", "/fapi/v1/exchangeInfo").json;
  assert.equal(usdm.symbols.length, 50);
  assert.deepEqual(new Set(usdm.assets.map((a: { asset: string }) => a.asset)), new Set(["USDT", "USDC"]));
});

import assert from "node:assert/strict";
import { Exchange } from "../../lib/sim/exchange.ts";
import { generateUniverse, type Listing } from "../../lib/sim/universe.ts";

const T0 = 1_767_225_600_000;
const of = (listings: Listing[], market: string) => listings.filter((l) => l.market === market);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

Deno.test("generateUniverse: ~1500 spot + 500 USD-M unique, real-looking, upper-case symbols", () => {
  const all = generateUniverse({ seed: 1 });
  const spot = of(all, "spot");
  const usdm = of(all, "usdm");
  assert.equal(spot.length, 1500);
  assert.equal(usdm.length, 500);
  for (
    const [list, quotes] of [[spot, ["USDT", "FDUSD", "BTC", "ETH", "TRY", "EUR", "USDC"]], [usdm, [
      "USDT",
      "USDC",
    ]]] as const
  ) {
    assert.equal(new Set(list.map((l) => l.symbol)).size, list.length, "unique per market");
    for (const l of list) {
      assert.match(l.symbol, /^[A-Z0-9]{5,20}$/);
      assert.equal(l.symbol, l.baseAsset + l.quoteAsset);
      assert.ok((quotes as readonly string[]).includes(l.quoteAsset), l.symbol);
      assert.notEqual(l.baseAsset, l.quoteAsset);
      assert.ok(l.price > 0 && l.levelNotional > 0 && l.levelsPerSide >= 100, l.symbol);
    }
    // Every quote asset of the market is used.
    assert.deepEqual(new Set(list.map((l) => l.quoteAsset)), new Set(quotes));
  }
  for (const symbol of ["BTCUSDT", "ETHUSDT", "ETHBTC", "SOLUSDT"]) {
    assert.ok(spot.some((l) => l.symbol === symbol));
  }
  for (const symbol of ["BTCUSDT", "ETHUSDT", "1000PEPEUSDT"]) {
    assert.ok(usdm.some((l) => l.symbol === symbol));
  }
  // Generated names beyond the known coins.
  assert.ok(new Set(spot.map((l) => l.baseAsset)).size > 800);
});

Deno.test("generateUniverse is deterministic per seed", () => {
  const names = (seed: number) =>
    generateUniverse({ seed }).map((l) => `${l.market}:${l.symbol}:${l.changesPerSec}`);
  assert.deepEqual(names(3), names(3));
  assert.notDeepEqual(names(3), names(4));
  const small = generateUniverse({ seed: 3, size: { spot: 40, usdm: 10 } });
  assert.deepEqual([of(small, "spot").length, of(small, "usdm").length], [40, 10]);
});

Deno.test("generateUniverse: a few busy symbols, a long quiet tail, a few not trading", () => {
  const all = generateUniverse({ seed: 1 });
  for (const market of ["spot", "usdm"]) {
    const list = of(all, market);
    const rates = list.map((l) => l.changesPerSec).sort((a, b) => b - a);
    const total = rates.reduce((a, b) => a + b, 0);
    const btc = list.find((l) => l.symbol === "BTCUSDT")!;
    const eth = list.find((l) => l.symbol === "ETHUSDT")!;
    assert.equal(btc.changesPerSec, rates[0], `${market}: BTCUSDT is the busiest`);
    assert.ok(eth.changesPerSec >= rates[4]!, `${market}: ETHUSDT is among the busiest`);
    assert.ok(rates[0]! >= 300 && rates[4]! >= 50, `${market}: a few busy symbols (${rates.slice(0, 5)})`);
    assert.ok(median(rates) <= 3, `${market}: the median symbol is quiet (${median(rates)})`);
    assert.ok(rates.filter((r) => r <= 5).length >= 0.6 * rates.length, `${market}: most are quiet`);
    const top = rates.slice(0, Math.ceil(rates.length / 50)).reduce((a, b) => a + b, 0);
    assert.ok(top > 0.3 * total, `${market}: the top 2% carry a third of the activity (heavy tail)`);
    const notTrading = list.filter((l) => l.status !== "TRADING");
    assert.ok(
      notTrading.length >= 2 && notTrading.length <= 0.05 * list.length,
      `${market}: a few not trading`,
    );
    assert.ok(notTrading.every((l) => l.changesPerSec < rates[20]!), "only tail symbols stop");
  }
  assert.ok(all.some((l) => l.status === "HALT") && all.some((l) => l.status === "BREAK"));
});

Deno.test("a generated market's realized activity: busy symbols stream far more; quiet ones skip whole seconds", () => {
  const listings = generateUniverse({ seed: 2 });
  const ex = new Exchange({ listings, seed: 2, quietStepping: true, historyLimit: 1000 }, T0);
  const seconds = 20;
  const diffs = new Map<string, number>();
  const levelChanges = new Map<string, number>();
  const tradeSeconds = new Map<string, Set<number>>();
  for (let t = T0 + 10; t <= T0 + seconds * 1000; t += 10) {
    for (const e of ex.step(t, null)) {
      const key = `${e.spec.market}:${e.spec.symbol}`;
      if (e.kind === "depth" && e.speedMs === 100) {
        diffs.set(key, (diffs.get(key) ?? 0) + 1);
        levelChanges.set(key, (levelChanges.get(key) ?? 0) + (e.bids.length + e.asks.length) / 2);
      }
      if (e.kind === "aggTrade") {
        const set = tradeSeconds.get(key) ?? new Set<number>();
        set.add(Math.floor((e.eventTime - T0) / 1000));
        tradeSeconds.set(key, set);
      }
    }
  }
  const trading = listings.filter((l) => l.status === "TRADING").map((l) => `${l.market}:${l.symbol}`);
  const stopped = listings.filter((l) => l.status !== "TRADING").map((l) => `${l.market}:${l.symbol}`);
  assert.ok(stopped.length > 0 && stopped.every((k) => !diffs.has(k)), "symbols not trading stay silent");
  const windows = seconds * 10;
  assert.ok(diffs.get("spot:BTCUSDT")! >= 0.9 * windows, "BTCUSDT's book changes in (nearly) every 100 ms");
  const typical = median(trading.map((k) => diffs.get(k) ?? 0));
  assert.ok(typical <= 0.2 * windows, `the median symbol's book changes in few windows (${typical})`);
  const typicalChanges = median(trading.map((k) => levelChanges.get(k) ?? 0));
  for (const busy of ["spot:BTCUSDT", "usdm:BTCUSDT", "usdm:ETHUSDT"]) {
    assert.ok(levelChanges.get(busy)! >= 100 * typicalChanges, `${busy} changes 100× more levels`);
  }
  const withGaps = trading.filter((k) => (tradeSeconds.get(k)?.size ?? 0) < seconds / 2);
  assert.ok(withGaps.length >= 0.7 * trading.length, "most symbols have many seconds without a trade");
  assert.ok(trading.filter((k) => diffs.has(k)).length >= 0.8 * trading.length, "but most do move");
});

Deno.test("generateUniverse: 40 COIN-M contracts, a perpetual per pair and two quarters for the top ten", () => {
  const all = generateUniverse({ seed: 1, now: T0 });
  const coinm = of(all, "coinm");
  assert.equal(coinm.length, 40);
  const perps = coinm.filter((l) => l.symbol.endsWith("_PERP"));
  const quarters = coinm.filter((l) => !l.symbol.endsWith("_PERP"));
  assert.deepEqual([perps.length, quarters.length], [20, 20]);
  // T0 is 2026-01-01: the current quarter delivers 2026-03-27, the next 2026-06-26.
  assert.deepEqual(
    quarters.slice(0, 4).map((l) => l.symbol),
    ["BTCUSD_260327", "BTCUSD_260626", "ETHUSD_260327", "ETHUSD_260626"],
  );
  assert.deepEqual(new Set(quarters.map((l) => l.symbol.slice(-6))), new Set(["260327", "260626"]));
  for (const l of coinm) {
    assert.match(l.symbol, /^[A-Z0-9]+USD_(PERP|\d{6})$/);
    assert.equal(l.symbol.split("_")[0], `${l.baseAsset}USD`);
    assert.deepEqual([l.quoteAsset, l.status], ["USD", "TRADING"]);
  }
  const rates = new Map(coinm.map((l) => [l.symbol, l.changesPerSec]));
  assert.equal(Math.max(...rates.values()), rates.get("BTCUSD_PERP"), "BTCUSD_PERP is the busiest");
  assert.ok(
    rates.get("BTCUSD_260327")! < rates.get("BTCUSD_PERP")! &&
      rates.get("BTCUSD_260626")! < rates.get("BTCUSD_260327")!,
  );
  // Quarterlies trade at a premium that grows with the time to delivery (contango).
  const price = new Map(coinm.map((l) => [l.symbol, l.price]));
  assert.ok(
    price.get("BTCUSD_PERP")! < price.get("BTCUSD_260327")! &&
      price.get("BTCUSD_260327")! < price.get("BTCUSD_260626")!,
  );
  // Its own random stream: the spot and USD-M listings do not change with the COIN-M size or time.
  const other = (size: number, now: number) =>
    generateUniverse({ seed: 1, now, size: { coinm: size } }).filter((l) => l.market !== "coinm");
  assert.deepEqual(other(40, T0), other(3, T0 + 200 * 86_400_000));
  const small = of(generateUniverse({ seed: 1, now: T0, size: { coinm: 4 } }), "coinm").map((l) => l.symbol);
  assert.deepEqual(small, ["BTCUSD_PERP", "BTCUSD_260327", "BTCUSD_260626", "ETHUSD_PERP"]);
});

import assert from "node:assert/strict";
import {
  contractSize,
  deliverySymbol,
  isCoinmSymbol,
  onboardDate,
  parseCoinmSymbol,
  quarterlyAfter,
  quarterlyBefore,
} from "../../lib/sim/coinm_contracts.ts";

Deno.test("COIN-M names: perpetuals and delivery contracts parse; other names do not", () => {
  assert.deepEqual(parseCoinmSymbol("BTCUSD_PERP"), { pair: "BTCUSD", baseAsset: "BTC", deliveryDate: null });
  assert.deepEqual(parseCoinmSymbol("ETHUSD_261225"), {
    pair: "ETHUSD",
    baseAsset: "ETH",
    deliveryDate: Date.UTC(2026, 11, 25, 8),
  });
  for (const bad of ["BTCUSDT", "BTCUSD", "BTCUSDT_PERP", "BTCUSD_261332", "BTCUSD_260230", "btcusd_perp"]) {
    assert.equal(isCoinmSymbol(bad), false, bad);
  }
  assert.equal(deliverySymbol("BTCUSD", Date.UTC(2027, 2, 26, 8)), "BTCUSD_270326");
  assert.deepEqual([contractSize("BTC"), contractSize("ETH"), contractSize("DOGE")], [100, 10, 10]);
});

Deno.test("quarterly calendar: last Friday of Mar/Jun/Sep/Dec at 08:00 UTC, as recorded from Binance", () => {
  // The recorded dapi exchangeInfo of 2021-07-21 (tests/fixtures/binance/cryptofeed/master_commit-ce58c2a0):
  // BTCUSD_210924 delivers 1632470400000, onboarded 1616745600000; BTCUSD_211231 delivers 1640937600000,
  // onboarded 1624608000000.
  const recorded = Date.UTC(2021, 6, 21);
  const current = quarterlyAfter(recorded);
  const next = quarterlyAfter(current);
  assert.deepEqual([current, next], [1632470400000, 1640937600000]);
  assert.deepEqual([onboardDate(current), onboardDate(next)], [1616745600000, 1624608000000]);
  assert.equal(deliverySymbol("BTCUSD", current), "BTCUSD_210924");
  // Strictly after / before: a delivery instant belongs to neither side.
  assert.equal(quarterlyAfter(current), next);
  assert.equal(quarterlyBefore(next), current);
  for (let t = Date.UTC(2025, 0, 1); t < Date.UTC(2029, 0, 1); t = quarterlyAfter(t)) {
    const d = new Date(quarterlyAfter(t));
    assert.equal(d.getUTCDay(), 5, d.toISOString());
    assert.equal(d.getUTCHours(), 8);
    assert.equal(d.getUTCMonth() % 3, 2);
    assert.ok(
      d.getUTCDate() + 7 > new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate(),
    );
  }
});

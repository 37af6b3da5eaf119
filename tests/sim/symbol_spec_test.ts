import assert from "node:assert/strict";
import { formatScaled } from "../../lib/sim/decimal.ts";
import { quoteVolumeUnits, symbolSpec } from "../../lib/sim/symbol_spec.ts";

Deno.test("symbolSpec: realistic grids and printing per market", () => {
  const spot = symbolSpec("spot", "BTCUSDT");
  assert.deepEqual([spot.priceDecimals, spot.qtyDecimals, spot.pricePrint, spot.qtyPrint], [2, 5, 8, 8]);
  assert.deepEqual([spot.baseAsset, spot.quoteAsset], ["BTC", "USDT"]);
  const usdm = symbolSpec("usdm", "BTCUSDT");
  assert.deepEqual([usdm.priceDecimals, usdm.qtyDecimals, usdm.pricePrint, usdm.qtyPrint], [1, 3, 2, 3]);
  assert.equal(formatScaled(usdm.basePriceTicks, usdm.priceDecimals, usdm.pricePrint), "61600.00");
  const doge = symbolSpec("usdm", "DOGEUSDT");
  assert.equal(doge.qtyDecimals, 0);
});

Deno.test("symbolSpec derives a stable price for unknown symbols", () => {
  const a = symbolSpec("spot", "ZZZ123USDT");
  assert.deepEqual(a, symbolSpec("spot", "ZZZ123USDT"));
  const price = a.basePriceTicks / 10 ** a.priceDecimals;
  assert.ok(price >= 0.04 && price <= 5001, `price ${price}`);
  assert.ok(a.typicalLots >= 1);
  assert.equal(symbolSpec("spot", "测试USDT").lower, "测试usdt");
  assert.equal(symbolSpec("spot", "ETHBTC").quoteAsset, "BTC");
});

Deno.test("symbolSpec on COIN-M: contracts of 100 / 10 USD, whole-contract lots, the pair, delivery dates", () => {
  const btc = symbolSpec("coinm", "BTCUSD_PERP");
  assert.deepEqual([btc.priceDecimals, btc.qtyDecimals, btc.pricePrint, btc.qtyPrint], [1, 0, 1, 0]);
  assert.deepEqual([btc.pair, btc.baseAsset, btc.quoteAsset], ["BTCUSD", "BTC", "USD"]);
  assert.deepEqual(btc.contract, {
    size: 100,
    perpetual: true,
    deliveryDate: 4133404800000,
    onboardDate: 1597042800000,
  });
  // A typical level is 5000 USD: 50 BTCUSD contracts, 500 ETHUSD contracts.
  assert.equal(btc.typicalLots, 50);
  const eth = symbolSpec("coinm", "ETHUSD_261225");
  assert.deepEqual([eth.contract!.size, eth.contract!.perpetual, eth.typicalLots], [10, false, 500]);
  assert.equal(eth.contract!.deliveryDate, Date.UTC(2026, 11, 25, 8));
  assert.equal(symbolSpec("usdm", "BTCUSDT").contract, null);
  assert.equal(symbolSpec("usdm", "BTCUSDT").pair, "BTCUSDT");
  assert.throws(() => symbolSpec("coinm", "BTCUSDT"), /expected <BASE>USD_PERP/);
  // Kline q on COIN-M: base volume in 1e-8, 3 contracts × 100 USD / 61602.1 = 0.00486996 BTC.
  assert.equal(quoteVolumeUnits(btc, 616021, 3), 486996);
  assert.equal(quoteVolumeUnits(symbolSpec("usdm", "BTCUSDT"), 616021, 3), 616021 * 3);
});

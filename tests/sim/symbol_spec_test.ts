import assert from "node:assert/strict";
import { formatScaled } from "../../lib/sim/decimal.ts";
import { symbolSpec } from "../../lib/sim/symbol_spec.ts";

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

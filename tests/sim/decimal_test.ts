import assert from "node:assert/strict";
import { formatScaled, scaledToNumber } from "../../lib/sim/decimal.ts";

Deno.test("formatScaled prints exact Binance decimal strings", () => {
  assert.equal(formatScaled(6160201, 2, 8), "61602.01000000");
  assert.equal(formatScaled(5, 3, 3), "0.005");
  assert.equal(formatScaled(12345, 5, 8), "0.12345000");
  assert.equal(formatScaled(0, 3, 3), "0.000");
  assert.equal(formatScaled(20826, 0, 0), "20826");
  assert.equal(formatScaled(7, 0, 2), "7.00");
  assert.equal(formatScaled(-5826, 8, 8), "-0.00005826");
});

Deno.test("scaledToNumber equals parseFloat of the printed text", () => {
  for (
    const [units, d, p] of [[6160201, 2, 8], [1, 8, 8], [123456789, 3, 3], [99, 1, 2], [3, 5, 8]] as const
  ) {
    assert.equal(scaledToNumber(units, d), parseFloat(formatScaled(units, d, p)));
  }
});

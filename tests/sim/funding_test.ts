import assert from "node:assert/strict";
import {
  FUNDING_INTERVAL_MS,
  fundingHistory,
  fundingRateAt,
  nextFundingTime,
} from "../../lib/sim/funding.ts";

const H8 = FUNDING_INTERVAL_MS;
const NOW = Date.UTC(2026, 0, 10, 9, 30);

Deno.test("nextFundingTime is the next 00/08/16 UTC boundary", () => {
  assert.equal(nextFundingTime(NOW), Date.UTC(2026, 0, 10, 16));
  assert.equal(nextFundingTime(Date.UTC(2026, 0, 10, 8)), Date.UTC(2026, 0, 10, 16));
});

Deno.test("fundingHistory lists settled fundings with stable rates", () => {
  const mark = (t: number) => t % 1000;
  const latest = fundingHistory(1, "BTCUSDT", { limit: 3 }, NOW, mark);
  assert.deepEqual(latest.map((r) => r.fundingTime), [
    Date.UTC(2026, 0, 9, 16),
    Date.UTC(2026, 0, 10),
    Date.UTC(2026, 0, 10, 8),
  ]);
  assert.ok(latest.every((r) => r.rate === fundingRateAt(1, "BTCUSDT", r.fundingTime)));
  const ranged = fundingHistory(1, "BTCUSDT", { startTime: Date.UTC(2026, 0, 1, 1), limit: 2 }, NOW, mark);
  assert.deepEqual(ranged.map((r) => r.fundingTime), [Date.UTC(2026, 0, 1, 8), Date.UTC(2026, 0, 1, 16)]);
  const none = fundingHistory(1, "BTCUSDT", { startTime: NOW + H8, limit: 5 }, NOW, mark);
  assert.deepEqual(none, []);
  const rates = new Set(Array.from({ length: 50 }, (_, i) => fundingRateAt(1, "BTCUSDT", i * H8)));
  assert.ok(rates.has(10_000) && rates.size > 5, "mostly the base rate, sometimes not");
});

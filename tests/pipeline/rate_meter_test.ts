import assert from "node:assert/strict";
import { RateMeter } from "../../lib/pipeline/rate_meter.ts";

Deno.test("RateMeter: average since start first, then the rate over each full window", () => {
  const m = new RateMeter(0, 10_000);
  assert.equal(m.rate("a", 50, 5_000), 10, "50 messages in the 5 s since start");
  assert.equal(m.rate("a", 80, 9_000), 10, "no full window yet: unchanged");
  assert.equal(m.rate("a", 250, 15_000), 20, "200 messages in the 10 s since the first sample");
  assert.equal(m.rate("b", 0, 1_000), 0, "keys are independent");
  assert.equal(new RateMeter(5_000).rate("a", 10, 5_000), 0, "no time elapsed yet");
});

import assert from "node:assert/strict";
import { WeightLimiter } from "../../lib/sim/rate_limit.ts";

Deno.test("WeightLimiter: 429 once over the limit, 418 ban when continuing, doubling bans", () => {
  const l = new WeightLimiter(100, 60_000, 120_000);
  const t = 60_000 * 1000 + 10_000;
  assert.deepEqual(l.charge(60, t), { status: 200, used: 60, retryAfterSec: 0 });
  assert.deepEqual(l.charge(40, t + 1), { status: 200, used: 100, retryAfterSec: 0 });
  assert.deepEqual(l.charge(1, t + 2), { status: 429, used: 100, retryAfterSec: 50 });
  assert.deepEqual(l.charge(1, t + 3), { status: 418, used: 100, retryAfterSec: 120 });
  assert.equal(l.charge(1, t + 60_000).status, 418, "banned across windows");
  assert.equal(l.charge(1, t + 120_004).status, 200, "ban over");
  assert.equal(l.charge(200, t + 120_005).status, 429);
  assert.deepEqual(l.charge(200, t + 120_006), { status: 418, used: 1, retryAfterSec: 240 });
});

Deno.test("WeightLimiter resets usage each window", () => {
  const l = new WeightLimiter(10, 60_000, 1000);
  assert.equal(l.charge(10, 0).status, 200);
  assert.equal(l.used(59_999), 10);
  assert.equal(l.used(60_000), 0);
  assert.equal(l.charge(10, 60_001).status, 200);
});

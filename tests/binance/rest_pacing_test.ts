import assert from "node:assert/strict";
import {
  backoffDelay,
  blockMs,
  retryAfterMs,
  SlidingBudget,
  WeightWindow,
} from "../../lib/binance/rest_pacing.ts";

const MIN = 60_000;

Deno.test("WeightWindow lets requests through until the budget, then waits for the next minute", () => {
  const w = new WeightWindow(1000, { margin: 0.2, slackMs: 500 });
  assert.equal(w.budget, 800);
  const t = 5 * MIN + 20_000;
  assert.equal(w.delay(250, t), 0, "nothing used yet");
  w.observe(250, null, t); // no header: our own estimate
  w.observe(250, null, t);
  w.observe(250, null, t);
  assert.equal(w.used(t), 750);
  assert.equal(w.delay(50, t), 0);
  assert.equal(w.delay(51, t), 40_500);
  assert.equal(w.used(6 * MIN), 0, "a new window starts empty");
  assert.equal(w.delay(250, 6 * MIN), 0);
});

Deno.test("WeightWindow trusts the server's header over its estimate", () => {
  const w = new WeightWindow(100, { margin: 0 });
  w.observe(5, 99, 1000);
  assert.equal(w.used(1000), 99);
  assert.equal(w.delay(2, 1000), MIN + 1000 - 1000);
  w.observe(5, 3, 2000);
  assert.equal(w.delay(2, 2000), 0);
  w.limit = 1;
  assert.equal(w.limit, 1);
  assert.ok(w.delay(2, 2000) > 0);
});

Deno.test("WeightWindow lets a request heavier than the budget go alone into a fresh window", () => {
  const w = new WeightWindow(100, { margin: 0.1 });
  assert.equal(w.delay(250, 0), 0);
  w.observe(250, 250, 0);
  assert.equal(w.delay(1, 10), MIN + 1000 - 10);
});

Deno.test("SlidingBudget counts requests over a sliding interval", () => {
  const b = new SlidingBudget(10, 1000, 0.5); // 5 per second
  for (let i = 0; i < 5; i++) {
    assert.equal(b.delay(i * 100), 0);
    b.record(i * 100);
  }
  assert.equal(b.delay(450), 550, "the request at 0 leaves the window at 1000");
  assert.equal(b.delay(1000), 0);
  b.record(1000);
  assert.equal(b.delay(1000), 100);
});

Deno.test("backoffDelay() doubles up to the cap with bounded jitter", () => {
  assert.deepEqual([1, 2, 3, 4, 5].map((a) => backoffDelay(a, 100, 1000, () => 0)), [50, 100, 200, 400, 500]);
  assert.deepEqual([1, 2, 3, 4, 5].map((a) => backoffDelay(a, 100, 1000, () => 0.999)), [
    100,
    200,
    400,
    800,
    1000,
  ]);
});

Deno.test("retryAfterMs() reads seconds or an HTTP date", () => {
  assert.equal(retryAfterMs("120", 0), 120_000);
  assert.equal(retryAfterMs("0", 0), 0);
  assert.equal(retryAfterMs(null, 0), null);
  assert.equal(retryAfterMs("soon", 0), null);
  const now = Date.UTC(2026, 0, 1);
  assert.equal(retryAfterMs("Thu, 01 Jan 2026 00:00:30 GMT", now), 30_000);
});

Deno.test("blockMs() obeys Retry-After, else waits for the window (429) or the shortest ban (418)", () => {
  assert.equal(blockMs(429, "3", 0, 45_000), 3000);
  assert.equal(blockMs(418, "600", 0, 45_000), 600_000);
  assert.equal(blockMs(429, null, 0, 45_000), 45_000);
  assert.equal(blockMs(429, "soon", 0, 45_000), 45_000, "an unreadable header counts as none");
  assert.equal(blockMs(418, null, 0, 45_000), 120_000);
});

import assert from "node:assert/strict";
import { ConnectBudget, ReconnectPolicy } from "../../lib/binance/reconnect_policy.ts";
import { Prng } from "../../lib/sim/prng.ts";

const MIN = 60_000;

Deno.test("ReconnectPolicy: 1–2 s apart through the first minute of an outage, whatever the number of attempts", () => {
  const rng = new Prng(5);
  const p = new ReconnectPolicy({ random: () => rng.next() });
  // A server refusing every upgrade at once (503): 40 attempts in the first minute still wait 1–2 s each.
  let t = 0;
  const delays: number[] = [];
  while (t < MIN) {
    const d = p.delayMs("transient", t);
    delays.push(d);
    t += d;
  }
  assert.ok(delays.length > 30, `attempts in the first minute: ${delays.length}`);
  for (const d of delays) assert.ok(d >= 1000 && d <= 2000, `delay ${d}`);
});

Deno.test("ReconnectPolicy: the ceiling doubles each further minute up to 60 s", () => {
  const p = new ReconnectPolicy({ random: () => 1 });
  assert.deepEqual(
    [0, 59_999, MIN, 2 * MIN, 3 * MIN, 4 * MIN, 5 * MIN, 60 * MIN].map((t) => p.delayMs("transient", t)),
    [2000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000],
  );
  const low = new ReconnectPolicy({ random: () => 0 });
  assert.equal(low.delayMs("transient", 10 * MIN), 30_000, "equal jitter: never below half the ceiling");
});

Deno.test("ReconnectPolicy: rate limits wait a few seconds, bans and refusals much longer, a shutdown not at all", () => {
  const p = new ReconnectPolicy({ random: () => 0 });
  assert.equal(p.delayMs("throttled", 1000), 5000, "429 on the upgrade: not a long-outage delay");
  assert.equal(new ReconnectPolicy({ random: () => 1 }).delayMs("throttled", 1000), 7500);
  assert.equal(p.delayMs("banned", 1000), 120_000);
  assert.equal(p.delayMs("refused", 1000), 30_000);
  assert.equal(p.delayMs("immediate", 10 * MIN), 0);
  assert.throws(() => new ReconnectPolicy({ quickMs: 0 }), RangeError);
  assert.throws(() => new ReconnectPolicy({ quickMs: 5000, maxMs: 1000 }), RangeError);
});

Deno.test("ConnectBudget: a burst goes at once, then attempts follow the refill rate, and opened() wakes the waiting", () => {
  const b = new ConnectBudget({ attempts: 250, windowMs: 300_000, burst: 3 });
  for (let i = 0; i < 3; i++) {
    assert.equal(b.waitMs(0), 0);
    b.take(0);
  }
  assert.equal(b.waitMs(0), 1200, "250 per 5 min: one every 1.2 s");
  assert.equal(b.waitMs(600), 600);
  assert.equal(b.waitMs(1200), 0);
  // Never more than 250 in any 5 minutes after the burst.
  let taken = 0;
  for (let t = 1200; t < 301_200; t += 100) {
    if (b.waitMs(t) === 0) {
      b.take(t);
      taken++;
    }
  }
  assert.ok(taken <= 251, `taken ${taken}`);
  const woken: string[] = [];
  const off = b.onOpened(() => woken.push("a"));
  b.onOpened(() => woken.push("b"));
  off();
  b.opened();
  assert.deepEqual(woken, ["b"]);
  assert.throws(() => new ConnectBudget({ attempts: 0 }), RangeError);
});

import assert from "node:assert/strict";
import { flushOverdue, registerFlush, runFlush, SAFETY_FLUSH_REASON } from "../../cron/flush.ts";
import { fakeCron, onlyRegistration } from "./_fake_cron.ts";

Deno.test("flushOverdue() is true only past twice the interval", () => {
  const cases: [last: number, interval: number, now: number, overdue: boolean][] = [
    [0, 60_000, 60_000, false],
    [0, 60_000, 120_000, false],
    [0, 60_000, 120_001, true],
    [1_000_000, 10_000, 1_020_000, false],
    [1_000_000, 10_000, 1_030_000, true],
    [5_000, 60_000, 0, false], // a clock stepped back is not a reason to flush
  ];
  for (const [last, interval, now, overdue] of cases) {
    assert.equal(flushOverdue(last, interval, now), overdue, `${[last, interval, now]}`);
  }
});

/** A collector stand-in whose flush records the reason and moves its last-flush time. */
function collector(lastMs: number) {
  const reasons: string[] = [];
  let last = lastMs;
  return {
    reasons,
    deps: {
      intervalMs: 60_000,
      lastFlushMs: () => last,
      flush: (reason: string) => {
        reasons.push(reason);
        last = 500_000;
        return Promise.resolve(null);
      },
    },
  };
}

Deno.test("runFlush() flushes only a collector whose last flush is overdue", async () => {
  const c = collector(300_000);
  assert.equal(await runFlush(c.deps, 400_000), false);
  assert.equal(await runFlush(c.deps, 420_000), false);
  assert.deepEqual(c.reasons, []);
  assert.equal(await runFlush(c.deps, 420_001), true);
  assert.deepEqual(c.reasons, [SAFETY_FLUSH_REASON]);
  assert.equal(await runFlush(c.deps, 520_001), false, "the flush moved the last-flush time");
});

Deno.test("registerFlush() registers every minute with a backoff schedule", async () => {
  const { cron, registered } = fakeCron();
  const c = collector(0);
  registerFlush(c.deps, cron);
  const r = onlyRegistration(registered, "flush");
  assert.equal(r.schedule, "* * * * *");
  await r.handler(); // wall clock: long past 0 + 2 min
  assert.deepEqual(c.reasons, [SAFETY_FLUSH_REASON]);
});

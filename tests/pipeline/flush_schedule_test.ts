import assert from "node:assert/strict";
import { FlushSchedule } from "../../lib/pipeline/flush_schedule.ts";

const HOUR = 3_600_000;

Deno.test("FlushSchedule: an interval flush once the interval passed since the last flush started", () => {
  const s = new FlushSchedule(10 * HOUR, 60_000);
  assert.equal(s.due(10 * HOUR + 59_999, 10 * HOUR), null, "1 ms short of the interval");
  assert.equal(s.due(10 * HOUR + 60_000, 10 * HOUR), "interval");
  assert.equal(s.due(10 * HOUR + 90_000, 10 * HOUR + 60_000), null, "measured from the last start");
});

Deno.test("FlushSchedule: one hour flush per new UTC hour, in place of the interval flush", () => {
  const s = new FlushSchedule(10 * HOUR + 30_000, 60_000);
  assert.equal(s.due(11 * HOUR - 1, 11 * HOUR - 10_000), null, "the start's hour never flushes as a new one");
  assert.equal(s.due(11 * HOUR, 0), "hour", "the hour turned, though the interval passed too");
  assert.equal(s.due(11 * HOUR + 1_000, 11 * HOUR), null, "once per hour");
  assert.equal(s.due(11 * HOUR + 61_000, 0), "interval", "then intervals again");
  assert.equal(s.due(13 * HOUR + 5, 13 * HOUR), "hour", "hours skipped over count once");
  assert.equal(s.due(13 * HOUR + 10, 13 * HOUR), null);
});

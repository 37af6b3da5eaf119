import assert from "node:assert/strict";
import { CronJob } from "../../cron/job.ts";
import type { Level } from "../../lib/log.ts";
import { fakeCron, onlyRegistration } from "./_fake_cron.ts";

function recordingLog() {
  const lines: { level: Level; message: string; fields?: Record<string, unknown> }[] = [];
  return {
    lines,
    log: (level: Level, message: string, fields?: Record<string, unknown>) =>
      lines.push({ level, message, fields }),
  };
}

Deno.test("CronJob.trigger() shares one run between overlapping callers", async () => {
  let runs = 0;
  let release!: () => void;
  const job = new CronJob({
    name: "x",
    schedule: "* * * * *",
    backoffSchedule: [1000],
    run: async (nowMs) => {
      runs++;
      await new Promise<void>((resolve) => (release = resolve));
      return nowMs;
    },
  }, () => {});
  const a = job.trigger(1);
  const b = job.trigger(2);
  release();
  assert.deepEqual(await Promise.all([a, b]), [1, 1]);
  assert.equal(runs, 1);
  const c = job.trigger(3);
  release();
  assert.equal(await c, 3, "a new run starts once the previous one ended");
  assert.equal(runs, 2);
});

Deno.test("CronJob.register() passes schedule and backoff, and its handler logs and rethrows failures", async () => {
  const { cron, registered } = fakeCron();
  const { lines, log } = recordingLog();
  let fail = false;
  let seenNow = 0;
  const job = new CronJob({
    name: "demo",
    schedule: "*/5 * * * *",
    backoffSchedule: [1000, 5000],
    run: (nowMs) => {
      seenNow = nowMs;
      return fail ? Promise.reject(new Error("boom")) : Promise.resolve("ok");
    },
  }, log);
  const controller = new AbortController();
  assert.equal(job.register(cron, controller.signal), job);
  const r = onlyRegistration(registered, "demo");
  assert.equal(r.schedule, "*/5 * * * *");
  assert.deepEqual(r.options.backoffSchedule, [1000, 5000]);
  assert.equal(r.options.signal, controller.signal);

  const t0 = Date.now();
  await r.handler();
  assert.ok(seenNow >= t0 && seenNow <= Date.now(), "the handler runs with the wall clock");
  fail = true;
  await assert.rejects(r.handler(), /boom/);
  assert.deepEqual(lines.map((l) => [l.level, l.message, l.fields?.job]), [[
    "error",
    "cron job failed",
    "demo",
  ]]);
  controller.abort();
});

import assert from "node:assert/strict";
import { dailySchedule, registerDailyReport, runDailyReport } from "../../cron/daily_report.ts";
import { dailyReportKey } from "../../lib/ledger/keys.ts";
import { Ledger } from "../../lib/ledger/ledger.ts";
import { buildSampleLedger, DATE } from "../ledger/_sample_ledger.ts";

/** 00:05 UTC on the day after the sample day. */
const NEXT_MORNING_MS = Date.parse(`${DATE}T00:05:00Z`) + 86_400_000;

Deno.test("runDailyReport() writes and delivers the previous UTC day's report once, under fake time", async () => {
  const ledger = new Ledger(await Deno.openKv(":memory:"));
  const logDir = await Deno.makeTempDir();
  const delivered: [string, string][] = [];
  try {
    await buildSampleLedger(ledger);
    const deps = {
      ledger,
      logDir,
      at: "00:05",
      deliver: (text: string, date: string) => {
        delivered.push([date, text]);
        return Promise.resolve();
      },
    };
    const first = await runDailyReport(deps, NEXT_MORNING_MS);
    assert.deepEqual([first.date, first.sent], [DATE, true]);
    const text = await Deno.readTextFile(first.path);
    assert.equal(delivered.length, 1);
    assert.equal(text, delivered[0]![1]);
    assert.match(text, /[^\n]\n$/, "one final newline");
    assert.match(text, new RegExp(DATE));
    // A retry (or the start-up catch-up later that day) sends nothing twice.
    const again = await runDailyReport(deps, NEXT_MORNING_MS + 3_600_000);
    assert.equal(again.sent, false);
    assert.equal(delivered.length, 1);
  } finally {
    ledger.close();
    await Deno.remove(logDir, { recursive: true });
  }
});

Deno.test("a failed delivery is retried by the next run (no marker without delivery)", async () => {
  const ledger = new Ledger(await Deno.openKv(":memory:"));
  const logDir = await Deno.makeTempDir();
  let attempts = 0;
  try {
    await buildSampleLedger(ledger);
    const deps = {
      ledger,
      logDir,
      at: "00:05",
      deliver: () => ++attempts === 1 ? Promise.reject(new Error("Telegram down")) : Promise.resolve(),
    };
    await assert.rejects(runDailyReport(deps, NEXT_MORNING_MS), /Telegram down/);
    assert.equal((await runDailyReport(deps, NEXT_MORNING_MS + 60_000)).sent, true);
    assert.equal(attempts, 2);
  } finally {
    ledger.close();
    await Deno.remove(logDir, { recursive: true });
  }
});

Deno.test("registerDailyReport() schedules at the configured UTC time, hourly after it, with a backoff", async () => {
  const calls: { name: string; schedule: string; backoff?: number[] }[] = [];
  const ledger = new Ledger(await Deno.openKv(":memory:"));
  try {
    registerDailyReport({ ledger, logDir: "/nonexistent", at: "07:30" }, (name, schedule, options) => {
      calls.push({ name, schedule, backoff: options.backoffSchedule });
      return Promise.resolve();
    });
    assert.deepEqual(calls.map((c) => [c.name, c.schedule]), [["daily_report", "30 7-23 * * *"]]);
    assert.ok(calls[0]!.backoff!.length > 0);
    assert.equal(dailySchedule("00:05"), "5 0-23 * * *");
    assert.equal(dailySchedule("23:59"), "59 23 * * *");
  } finally {
    ledger.close();
  }
});

Deno.test("a day with nothing recorded is reported as such, and marked only once delivered", async () => {
  const ledger = new Ledger(await Deno.openKv(":memory:"));
  const logDir = await Deno.makeTempDir();
  const delivered: string[] = [];
  let up = false;
  try {
    const deps = {
      ledger,
      logDir,
      at: "00:05",
      deliver: (text: string) => {
        if (!up) return Promise.reject(new Error("Telegram message to chat 1 not delivered: 500"));
        delivered.push(text);
        return Promise.resolve();
      },
    };
    await assert.rejects(runDailyReport(deps, NEXT_MORNING_MS), /not delivered: 500/);
    assert.equal((await ledger.kv.get(dailyReportKey(DATE))).value, null, "not marked");
    // The file is written anyway: the report is on disk whatever Telegram does.
    assert.match(await Deno.readTextFile(`${logDir}/daily-report-${DATE}.txt`), /Nothing recorded/);
    up = true;
    const retry = await runDailyReport(deps, NEXT_MORNING_MS + 3_600_000);
    assert.equal(retry.sent, true);
    assert.deepEqual(delivered, [
      `Report ${DATE} (UTC)\n⚠️ Nothing recorded on this day\nData 0 B, 0 files, 0 rows\nGaps 0, 0 unrecovered\n\n` +
      "Flushes 0, 0 rows, 0 B\n",
    ]);
    assert.deepEqual((await ledger.kv.get(dailyReportKey(DATE))).value, {
      deliveredAtMs: NEXT_MORNING_MS + 3_600_000,
    });
  } finally {
    ledger.close();
    await Deno.remove(logDir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { dailyReportCron, reportDateAt } from "../../lib/telegram/schedule.ts";

Deno.test("dailyReportCron() turns HH:MM into a daily cron expression", () => {
  assert.equal(dailyReportCron("00:05"), "5 0 * * *");
  assert.equal(dailyReportCron("23:59"), "59 23 * * *");
  assert.equal(dailyReportCron("07:00"), "0 7 * * *");
  assert.throws(() => dailyReportCron("24:00"), RangeError);
  assert.throws(() => dailyReportCron("7:00"), RangeError);
});

Deno.test("reportDateAt() is the last complete UTC day", () => {
  assert.equal(reportDateAt(Date.parse("2024-01-03T00:05:00Z")), "2024-01-02");
  assert.equal(reportDateAt(Date.parse("2024-03-01T23:59:00Z")), "2024-02-29");
});

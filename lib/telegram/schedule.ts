/**
 * When the daily report goes out (pure): the `telegram.daily_report_at` time as a `Deno.cron` schedule, and
 * the day a report sent at a given time covers.
 * @module
 */

import { utcDate } from "./args.ts";

/**
 * A UTC `HH:MM` as a five-field cron expression (Deno.cron schedules are UTC).
 *
 * @example
 * ```ts
 * dailyReportCron("00:05"); // "5 0 * * *"
 * ```
 */
export function dailyReportCron(at: string): string {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(at);
  if (m === null) {
    throw new RangeError(`Cannot schedule the daily report: "${at}" is not a UTC time like "00:05"`);
  }
  return `${Number(m[2])} ${Number(m[1])} * * *`;
}

/**
 * The day a report sent at `nowMs` covers: the last complete UTC day.
 *
 * @example
 * ```ts
 * reportDateAt(Date.parse("2024-01-03T00:05:00Z")); // "2024-01-02"
 * ```
 */
export function reportDateAt(nowMs: number): string {
  return utcDate(nowMs - 86_400_000);
}

/**
 * Gathers a UTC day's report input from the ledger (the I/O half of the daily report).
 * @module
 */

import { DayCoverageReader } from "../charts/coverage_reader.ts";
import { DAY_US, utcDayStartUs } from "../ledger/intervals.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { DailyReportInput } from "./daily.ts";

/**
 * The coverage, gaps, files (of the day's `date=` partitions), flushes and clock samples of `date`
 * (`YYYY-MM-DD`, UTC).
 *
 * @example
 * ```ts
 * import { Ledger } from "../ledger/ledger.ts";
 *
 * const ledger = new Ledger(await Deno.openKv(":memory:"));
 * const input = await collectDailyInput(ledger, "2024-01-02");
 * input.coverage.streams.size; // 0: nothing recorded that day
 * ledger.close();
 * ```
 */
export async function collectDailyInput(ledger: Ledger, date: string): Promise<DailyReportInput> {
  const fromUs = utcDayStartUs(date);
  const toUs = fromUs + DAY_US;
  const [coverage, files, flushes, clock] = await Promise.all([
    // Not Ledger.coverage: a whole market's day in one pass stalled the collector's event loop ~200 ms.
    new DayCoverageReader(ledger).read(date),
    ledger.listFiles(date),
    ledger.listFlushes(fromUs, toUs),
    ledger.listClockSamples(fromUs, toUs),
  ]);
  return { date, coverage, files, flushes, clock };
}

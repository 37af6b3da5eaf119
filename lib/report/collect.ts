/**
 * Gathers a UTC day's report input from the ledger (the I/O half of the daily report).
 * @module
 */

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
 * input.coverage.length; // 0: nothing recorded that day
 * ledger.close();
 * ```
 */
export async function collectDailyInput(ledger: Ledger, date: string): Promise<DailyReportInput> {
  const fromUs = utcDayStartUs(date);
  const toUs = fromUs + DAY_US;
  const [coverage, gaps, files, flushes, clock] = await Promise.all([
    ledger.coverage(date),
    ledger.listGaps({ fromUs, toUs }),
    ledger.listFiles(date),
    ledger.listFlushes(fromUs, toUs),
    ledger.listClockSamples(fromUs, toUs),
  ]);
  return {
    date,
    coverage,
    gaps,
    files,
    flushes,
    clock,
  };
}

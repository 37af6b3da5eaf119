/**
 * Cron job `flush` (every minute): a safety net behind the collector's own size/interval flushes. If the last
 * flush is older than twice the flush interval (a stalled timer, a loop that stopped ticking), it flushes.
 * The decision reads only the collector's state, so a skipped tick loses nothing.
 * @module
 */

import { type Logger, silentLogger } from "../lib/log.ts";
import { CronJob, type CronRegistrar, denoCron } from "./job.ts";

/** What the job needs from the collector. */
export interface FlushDeps {
  /** Flushes every buffer; the reason is logged. */
  flush(reason: string): Promise<unknown>;
  /** When the last flush started (ms since the epoch); before the first flush, when the collector started. */
  lastFlushMs(): number;
  /** The collector's flush interval, ms. */
  intervalMs: number;
  log?: Logger;
}

/** Reason passed to `flush` by this job. */
export const SAFETY_FLUSH_REASON = "cron safety net";

/**
 * Whether a safety flush is due: the last flush is more than two intervals old. Pure.
 *
 * @example
 * ```ts
 * flushOverdue(0, 60_000, 120_001); // true
 * ```
 */
export function flushOverdue(lastFlushMs: number, intervalMs: number, nowMs: number): boolean {
  return nowMs - lastFlushMs > 2 * intervalMs;
}

/** Flushes if overdue; returns whether it did. */
export async function runFlush(deps: FlushDeps, nowMs: number): Promise<boolean> {
  const last = deps.lastFlushMs();
  if (!flushOverdue(last, deps.intervalMs, nowMs)) return false;
  (deps.log ?? silentLogger)("warn", "flush overdue: flushing from cron", { age_ms: nowMs - last });
  await deps.flush(SAFETY_FLUSH_REASON);
  return true;
}

/** Registers `flush` (every minute) with `cron` and returns the job. */
export function registerFlush(
  deps: FlushDeps,
  cron: CronRegistrar = denoCron,
  signal?: AbortSignal,
): CronJob<boolean> {
  const job = new CronJob({
    name: "flush",
    schedule: "* * * * *",
    backoffSchedule: [5_000, 15_000, 30_000],
    run: (nowMs) => runFlush(deps, nowMs),
  }, deps.log ?? silentLogger);
  return job.register(cron, signal);
}

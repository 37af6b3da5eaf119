/**
 * `daily_report`: the previous UTC day's summary (coverage per stream, gaps, messages, bytes, clock offsets),
 * built from the ledger, written to `{log_dir}/daily-report-<date>.txt` and handed to `deliver` (Telegram) with
 * the day's coverage heatmap as a PNG.
 * The day is marked delivered (KV marker) only once `deliver` resolved, and a marked day is skipped. So the
 * start-up run catches up on a report missed while the collector was down, a report Telegram did not take is
 * sent by a later run (the cron backoff, the next hour's run, or the next start), and none is sent twice.
 */
import { join } from "node:path";
import { dailyReportKey } from "../lib/ledger/keys.ts";
import type { Ledger } from "../lib/ledger/ledger.ts";
import { type Logger, silentLogger } from "../lib/log.ts";
import { nextTurn } from "../lib/loop_lag.ts";
import { type CoveragePicture, coveragePicture } from "../lib/charts/coverage_picture.ts";
import { collectDailyInput } from "../lib/report/collect.ts";
import { buildDailyReport } from "../lib/report/daily.ts";
import { formatDailyReport } from "../lib/report/daily_text.ts";
import { writeFileAtomic } from "../lib/storage/atomic_file.ts";
import { CronJob, type CronRegistrar, denoCron } from "./job.ts";

/** Dependencies of {@linkcode runDailyReport}. */
export interface DailyReportDeps {
  ledger: Ledger;
  logDir: string;
  /**
   * Sends the report text and its picture (null when nothing was recorded or it could not be drawn), e.g. to
   * Telegram; resolves when delivered, rejects when not (retried later).
   */
  deliver?: (text: string, date: string, picture: CoveragePicture | null) => Promise<void>;
  /** Clock offsets above this are flagged in the report. */
  clockThresholdMs?: number;
  /** UTC time of day of the first scheduled run, `HH:MM` (then hourly to the end of the day, see below). */
  at: string;
  log?: Logger;
}

/** What a run did: the report's date and whether it was new. */
export interface DailyReportResult {
  date: string;
  sent: boolean;
  path: string;
}

const DAY_MS = 86_400_000;

/** Builds, writes and delivers the report of the UTC day before `nowMs`, unless it was already delivered. */
export async function runDailyReport(deps: DailyReportDeps, nowMs: number): Promise<DailyReportResult> {
  const date = new Date(nowMs - nowMs % DAY_MS - DAY_MS).toISOString().slice(0, 10);
  const path = join(deps.logDir, `daily-report-${date}.txt`);
  const marker = dailyReportKey(date);
  if ((await deps.ledger.kv.get(marker)).value !== null) return { date, sent: false, path };
  const input = await collectDailyInput(deps.ledger, date);
  const summary = buildDailyReport(input, { clockThresholdMs: deps.clockThresholdMs });
  // Building and formatting each walk a whole market's ~10,000 streams: a turn apart, the collector runs between.
  await nextTurn();
  const text = formatDailyReport(summary);
  await writeFileAtomic(path, new TextEncoder().encode(text));
  if (deps.deliver) {
    let picture: CoveragePicture | null = null;
    try {
      picture = await coveragePicture(input.coverage);
    } catch (err) {
      // The text is the report; a picture that cannot be drawn must not hold it up.
      deps.log?.("warn", "daily report picture not drawn", { date, error: String(err) });
    }
    await deps.deliver(text, date, picture);
  }
  await deps.ledger.kv.set(marker, { deliveredAtMs: nowMs });
  deps.log?.("info", "daily report delivered", { date, path });
  return { date, sent: true, path };
}

/**
 * `HH:MM` → the five-field cron schedule of that UTC time and of every hour after it until midnight: the first
 * run sends the report, the later ones retry it if it was not delivered (one KV read when it was).
 *
 * @example
 * ```ts
 * dailySchedule("00:05"); // "5 0-23 * * *"
 * ```
 */
export function dailySchedule(at: string): string {
  const [hh, mm] = at.split(":").map(Number);
  return `${mm} ${hh === 23 ? "23" : `${hh}-23`} * * *`;
}

/** Registers `daily_report` at the configured UTC time (and the hourly retries). */
export function registerDailyReport(
  deps: DailyReportDeps,
  cron: CronRegistrar = denoCron,
  signal?: AbortSignal,
): CronJob<DailyReportResult> {
  const job = new CronJob({
    name: "daily_report",
    schedule: dailySchedule(deps.at),
    backoffSchedule: [60_000, 300_000, 900_000],
    run: (nowMs) => runDailyReport(deps, nowMs),
  }, deps.log ?? silentLogger);
  return job.register(cron, signal);
}

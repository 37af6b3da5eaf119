/**
 * Chat commands: arguments parsed, the collector, ledger and disk asked, the reply formatted. No Telegram here,
 * so the answers can be tested against a real (in-memory) ledger and a fake status source.
 * @module
 */

import { type CoveragePicture, coveragePicture } from "../charts/coverage_picture.ts";
import type { DayCoverage } from "../charts/day_coverage.ts";
import type { DiskSpace } from "../disk.ts";
import { DAY_US, utcDayStartUs } from "../ledger/intervals.ts";
import type { ClockSample, GapFilter, GapRecord } from "../ledger/records.ts";
import { buildDailyReport, type DailyReportInput } from "../report/daily.ts";
import { formatDailyReport } from "../report/daily_text.ts";
import { allSymbols, CommandArgError, type MarketSymbols, parseDateArg, parseGapsArgs } from "./args.ts";
import {
  formatClock,
  formatCoverage,
  formatDisk,
  formatGaps,
  formatHelp,
  formatStatus,
  type SymbolStatus,
} from "./format.ts";
import { escapeHtml, preText } from "./html.ts";

/** The ledger queries the commands use (a `Ledger` fits). */
export interface LedgerQueries {
  listGaps(filter: GapFilter): Promise<GapRecord[]>;
  listClockSamples(fromUs: number, toUs: number): Promise<ClockSample[]>;
}

/** Where the answers come from. */
export interface TelegramSources {
  /** One row per recorded (market, symbol), e.g. `() => collector.symbolStatus()`. */
  status(): readonly SymbolStatus[];
  ledger: LedgerQueries;
  /** A UTC day's coverage and gaps, e.g. `(date) => new DayCoverageReader(ledger).read(date)`. */
  coverageDay(date: string): Promise<DayCoverage>;
  /** A UTC day's report input, e.g. `(date) => collectDailyInput(ledger, date)`. */
  dailyInput(date: string): Promise<DailyReportInput>;
  /** Free space for the data, e.g. `() => diskSpace(config.dataDir)`. */
  diskSpace(): Promise<DiskSpace>;
}

/** The configuration the answers depend on. */
export interface CommandSettings {
  /** Enabled markets and their symbols, in config order. */
  markets: readonly MarketSymbols[];
  dataDir: string;
  clockOffsetAlertMs: number;
  diskLowMb: number;
  diskMinMb: number;
}

/**
 * The reply (Telegram HTML) to `/command argText` at `nowMs`. Wrong arguments and unknown commands get an
 * explaining reply; a failing source throws.
 *
 * @example
 * ```ts
 * import { DayCoverageReader } from "../charts/coverage_reader.ts";
 * import { diskSpace } from "../disk.ts";
 * import { Ledger } from "../ledger/ledger.ts";
 * import { collectDailyInput } from "../report/collect.ts";
 *
 * const ledger = new Ledger(await Deno.openKv(":memory:"));
 * const sources: TelegramSources = {
 *   status: () => [], // () => collector.symbolStatus()
 *   ledger,
 *   coverageDay: (date) => new DayCoverageReader(ledger).read(date),
 *   dailyInput: (date) => collectDailyInput(ledger, date),
 *   diskSpace: () => diskSpace("."),
 * };
 * const settings: CommandSettings = {
 *   markets: [{ market: "spot", symbols: ["BTCUSDT"] }],
 *   dataDir: ".",
 *   clockOffsetAlertMs: 500,
 *   diskLowMb: 5120,
 *   diskMinMb: 512,
 * };
 *
 * const reply = await answerCommand("gaps", "btcusdt yesterday", sources, settings, Date.now());
 * reply.includes("BTCUSDT"); // true: the day's gaps of BTCUSDT (none here)
 * ledger.close();
 * ```
 */
export async function answerCommand(
  command: string,
  argText: string,
  sources: TelegramSources,
  settings: CommandSettings,
  nowMs: number,
): Promise<string> {
  try {
    return await answer(command.toLowerCase(), argText, sources, settings, nowMs);
  } catch (err) {
    if (err instanceof CommandArgError) return escapeHtml(err.message);
    throw err;
  }
}

async function answer(
  command: string,
  argText: string,
  sources: TelegramSources,
  settings: CommandSettings,
  nowMs: number,
): Promise<string> {
  switch (command) {
    case "status":
      return formatStatus(settings.markets, sources.status(), nowMs);
    case "gaps": {
      const args = parseGapsArgs(argText, allSymbols(settings.markets), nowMs);
      const fromUs = utcDayStartUs(args.date);
      const gaps = await sources.ledger.listGaps({
        fromUs,
        toUs: fromUs + DAY_US,
        symbol: args.symbol ?? undefined,
      });
      return formatGaps(args, gaps);
    }
    case "coverage": {
      const date = parseDateArg("coverage", argText, nowMs);
      return formatCoverage(await sources.coverageDay(date));
    }
    case "report": {
      const date = parseDateArg("report", argText, nowMs);
      const summary = buildDailyReport(await sources.dailyInput(date), {
        clockThresholdMs: settings.clockOffsetAlertMs,
      });
      return preText(formatDailyReport(summary));
    }
    case "clock": {
      const nowUs = nowMs * 1000;
      const samples = await sources.ledger.listClockSamples(nowUs - DAY_US, nowUs + 1);
      return formatClock(samples, settings.clockOffsetAlertMs, nowMs);
    }
    case "disk":
      return formatDisk(await sources.diskSpace(), settings.diskLowMb, settings.diskMinMb, settings.dataDir);
    case "help":
    case "start":
      return formatHelp();
    default:
      return `Unknown command /${escapeHtml(command)}. /help lists the commands.`;
  }
}

/**
 * The picture that goes with the reply to `/command argText`, or null: `/coverage` answers with the day's
 * heatmap too (null when its arguments are wrong or nothing was recorded; the text says why).
 *
 * @example
 * ```ts
 * import { DayCoverageReader } from "../charts/coverage_reader.ts";
 * import { diskSpace } from "../disk.ts";
 * import { Ledger } from "../ledger/ledger.ts";
 * import { collectDailyInput } from "../report/collect.ts";
 *
 * const ledger = new Ledger(await Deno.openKv(":memory:"));
 * const sources: TelegramSources = {
 *   status: () => [], // () => collector.symbolStatus()
 *   ledger,
 *   coverageDay: (date) => new DayCoverageReader(ledger).read(date),
 *   dailyInput: (date) => collectDailyInput(ledger, date),
 *   diskSpace: () => diskSpace("."),
 * };
 * const settings: CommandSettings = {
 *   markets: [{ market: "spot", symbols: ["BTCUSDT"] }],
 *   dataDir: ".",
 *   clockOffsetAlertMs: 500,
 *   diskLowMb: 5120,
 *   diskMinMb: 512,
 * };
 *
 * const photo = await answerPicture("coverage", "yesterday", sources, Date.now());
 * photo; // null: nothing was recorded yesterday, so there is no picture
 * ledger.close();
 * ```
 */
export async function answerPicture(
  command: string,
  argText: string,
  sources: TelegramSources,
  nowMs: number,
): Promise<CoveragePicture | null> {
  if (command.toLowerCase() !== "coverage") return null;
  let date: string;
  try {
    date = parseDateArg("coverage", argText, nowMs);
  } catch (err) {
    if (err instanceof CommandArgError) return null;
    throw err;
  }
  return await coveragePicture(await sources.coverageDay(date));
}

/**
 * Chat commands: arguments parsed, the collector, ledger and disk asked, the reply formatted. No Telegram here,
 * so the answers can be tested against a real (in-memory) ledger and a fake status source.
 * @module
 */

import type { DiskSpace } from "../disk.ts";
import { DAY_US, utcDayStartUs } from "../ledger/intervals.ts";
import type { ClockSample, CoverageRow, GapFilter, GapRecord } from "../ledger/records.ts";
import { buildDailyReport, type DailyReportInput, formatDailyReport } from "../report/daily.ts";
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
  coverage(dateUtc: string): Promise<CoverageRow[]>;
  listClockSamples(fromUs: number, toUs: number): Promise<ClockSample[]>;
}

/** Where the answers come from. */
export interface TelegramSources {
  /** One row per recorded (market, symbol), e.g. `() => collector.symbolStatus()`. */
  status(): readonly SymbolStatus[];
  ledger: LedgerQueries;
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
 * await answerCommand("gaps", "btcusdt yesterday", sources, settings, Date.now());
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
      return formatCoverage(date, await sources.ledger.coverage(date));
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

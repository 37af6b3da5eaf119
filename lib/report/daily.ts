/**
 * The daily report's figures (pure): a day's coverage, gaps, files, flushes and clock samples in, a
 * structured summary out ({@linkcode buildDailyReport}). The input is gathered from the ledger by collect.ts, or
 * built by hand; daily_text.ts turns the summary into text.
 * @module
 */

import type { Market } from "../binance/types.ts";
import { type DayCoverage, emptyTotal, foldStreams } from "../charts/day_coverage.ts";
import { DAY_US, HOUR_US, utcDayStartUs } from "../ledger/intervals.ts";
import {
  CLOCK_SOURCES,
  type ClockSample,
  type ClockSource,
  compareText as cmp,
  type FlushStat,
} from "../ledger/records.ts";
import type { ManifestEntry } from "../storage/manifest.ts";
import type { TableName } from "../storage/tables.ts";
import { type GapSummary, summarizeGaps } from "./gaps.ts";

/** Everything the report is built from, for one UTC day. */
export interface DailyReportInput {
  /** `YYYY-MM-DD` (UTC). */
  date: string;
  /**
   * The day's coverage (read a piece at a time by `DayCoverageReader`: a whole market's day is ~200,000 rows),
   * with the gaps overlapping the day.
   */
  coverage: DayCoverage;
  /** Manifest entries of the day's partitions. */
  files: readonly ManifestEntry[];
  /** Flushes of the day. */
  flushes: readonly FlushStat[];
  /** Clock samples of the day. */
  clock: readonly ClockSample[];
}

/** Options of {@linkcode buildDailyReport}. */
export interface DailyReportOptions {
  /** An offset beyond this (either sign) is flagged. @default 100 */
  clockThresholdMs?: number;
  /** Gaps listed as the longest. @default 5 */
  longestGaps?: number;
}

/** One hour of a stream below 100%. */
export interface LowHour {
  hourUs: number;
  pct: number;
  gapSeconds: number;
}

/** One stream over the day. */
export interface StreamDay {
  market: Market;
  symbol: string;
  stream: string;
  messages: number;
  observedSeconds: number;
  coveredSeconds: number;
  gapSeconds: number;
  recoveredSeconds: number;
  /** `coveredSeconds / observedSeconds` in percent (100 when nothing was observed). */
  pct: number;
  /** Hours below 100%, in time order. */
  lowHours: LowHour[];
}

/** Files of one (market, table) written for the day. */
export interface TableDay {
  market: Market;
  table: TableName;
  files: number;
  rows: number;
  bytes: number;
}

/** Flushes of the day. */
export interface FlushDay {
  count: number;
  rows: number;
  bytes: number;
  meanMs: number;
  maxMs: number;
  /** Count per reason, by reason. */
  byReason: { reason: string; count: number }[];
}

/** Clock offsets of one source over the day. */
export interface ClockDay {
  source: ClockSource;
  samples: number;
  minOffsetMs: number;
  maxOffsetMs: number;
  meanOffsetMs: number;
  maxRttMs: number;
  /** Samples whose offset exceeded the threshold. */
  overThreshold: number;
}

/** The structured daily summary. */
export interface DailySummary {
  date: string;
  /** Start (µs) of the day. */
  dayUs: number;
  /** Covered over observed seconds of all streams, in percent (100 when nothing was observed). */
  pct: number;
  messages: number;
  observedSeconds: number;
  coveredSeconds: number;
  /** Seconds of missing data over all streams (overlapping gaps of a stream counted once). */
  missingSeconds: number;
  /** Streams by market, symbol and stream. */
  streams: StreamDay[];
  /** Gap seconds are clipped to the day. */
  gaps: GapSummary;
  storage: { files: number; rows: number; bytes: number; tables: TableDay[] };
  flushes: FlushDay;
  /** Sources with samples, in {@linkcode CLOCK_SOURCES} order. */
  clock: ClockDay[];
  clockThresholdMs: number;
}

/** Covered over observed seconds in percent, 100 when nothing was observed. */
export function coveragePct(covered: number, observed: number): number {
  return observed === 0 ? 100 : (covered / observed) * 100;
}

function streamDays(day: DayCoverage): StreamDay[] {
  const streams = foldStreams(
    day,
    (market, symbol, stream): StreamDay => ({
      ...emptyTotal(market, symbol, stream),
      gapSeconds: 0,
      recoveredSeconds: 0,
      lowHours: [],
    }),
    (s, slot, f) => {
      s.messages += f.messages;
      s.observedSeconds += f.observedSeconds;
      s.coveredSeconds += f.coveredSeconds;
      s.gapSeconds += f.gapSeconds;
      s.recoveredSeconds += f.recoveredSeconds;
      if (f.pct < 100) {
        s.lowHours.push({ hourUs: day.dayUs + slot * HOUR_US, pct: f.pct, gapSeconds: f.gapSeconds });
      }
    },
  );
  for (const s of streams) {
    s.pct = coveragePct(s.coveredSeconds, s.observedSeconds);
    s.lowHours.sort((a, b) => a.hourUs - b.hourUs);
  }
  return streams.sort((a, b) =>
    cmp(a.market, b.market) || cmp(a.symbol, b.symbol) || cmp(a.stream, b.stream)
  );
}

function tableDays(files: readonly ManifestEntry[]): TableDay[] {
  const byTable = new Map<string, TableDay>();
  for (const f of files) {
    const id = `${f.market}\u0000${f.table}`;
    let t = byTable.get(id);
    if (!t) byTable.set(id, t = { market: f.market, table: f.table, files: 0, rows: 0, bytes: 0 });
    t.files++;
    t.rows += f.rows;
    t.bytes += f.bytes;
  }
  return [...byTable.values()].sort((a, b) => cmp(a.market, b.market) || cmp(a.table, b.table));
}

function flushDay(flushes: readonly FlushStat[]): FlushDay {
  const reasons = new Map<string, number>();
  let rows = 0;
  let bytes = 0;
  let totalMs = 0;
  let maxMs = 0;
  for (const f of flushes) {
    rows += f.rows;
    bytes += f.bytes;
    totalMs += f.ms;
    maxMs = Math.max(maxMs, f.ms);
    reasons.set(f.reason, (reasons.get(f.reason) ?? 0) + 1);
  }
  return {
    count: flushes.length,
    rows,
    bytes,
    meanMs: flushes.length === 0 ? 0 : totalMs / flushes.length,
    maxMs,
    byReason: [...reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) =>
      cmp(a.reason, b.reason)
    ),
  };
}

function clockDays(samples: readonly ClockSample[], thresholdMs: number): ClockDay[] {
  const out: ClockDay[] = [];
  for (const source of CLOCK_SOURCES) {
    const mine = samples.filter((s) => s.source === source);
    if (mine.length === 0) continue;
    const offsets = mine.map((s) => s.offsetMs);
    out.push({
      source,
      samples: mine.length,
      minOffsetMs: Math.min(...offsets),
      maxOffsetMs: Math.max(...offsets),
      meanOffsetMs: offsets.reduce((a, b) => a + b, 0) / mine.length,
      maxRttMs: Math.max(...mine.map((s) => s.rttMs)),
      overThreshold: offsets.filter((o) => Math.abs(o) > thresholdMs).length,
    });
  }
  return out;
}

/**
 * Builds the day's summary.
 *
 * @example
 * ```ts
 * import { Ledger } from "../ledger/ledger.ts";
 * import { collectDailyInput } from "./collect.ts";
 * import { formatDailyReport } from "./daily_text.ts";
 *
 * const ledger = new Ledger(await Deno.openKv(":memory:"));
 * const hourUs = Date.UTC(2024, 0, 2, 7) * 1000;
 * await ledger.addCoverage("spot", "BTCUSDT", "aggTrade", hourUs, {
 *   messages: 3600, spanStartUs: hourUs, spanEndUs: hourUs + 3_600_000_000,
 * });
 * await ledger.addGap("spot", {
 *   symbol: "BTCUSDT", stream: "aggTrade", kind: "disconnect", start_time: hourUs + 60e6,
 *   end_time: hourUs + 120e6, last_update_id: null, resume_update_id: null, reason: "socket closed",
 * });
 * const summary = buildDailyReport(await collectDailyInput(ledger, "2024-01-02"));
 * console.log(formatDailyReport(summary));
 * ledger.close();
 * ```
 */
export function buildDailyReport(input: DailyReportInput, options: DailyReportOptions = {}): DailySummary {
  const { clockThresholdMs = 100, longestGaps = 5 } = options;
  const dayUs = utcDayStartUs(input.date);
  const streams = streamDays(input.coverage);
  const tables = tableDays(input.files);
  let observed = 0;
  let covered = 0;
  let missing = 0;
  let messages = 0;
  for (const s of streams) {
    observed += s.observedSeconds;
    covered += s.coveredSeconds;
    missing += s.gapSeconds;
    messages += s.messages;
  }
  return {
    date: input.date,
    dayUs,
    pct: coveragePct(covered, observed),
    messages,
    observedSeconds: observed,
    coveredSeconds: covered,
    missingSeconds: missing,
    streams,
    gaps: summarizeGaps(input.coverage.gaps, { fromUs: dayUs, toUs: dayUs + DAY_US, longest: longestGaps }),
    storage: {
      files: input.files.length,
      rows: tables.reduce((a, t) => a + t.rows, 0),
      bytes: tables.reduce((a, t) => a + t.bytes, 0),
      tables,
    },
    flushes: flushDay(input.flushes),
    clock: clockDays(input.clock, clockThresholdMs),
    clockThresholdMs,
  };
}

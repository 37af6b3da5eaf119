/**
 * The daily report (pure): a day's coverage rows, gaps, files, flushes and clock samples in, a structured
 * summary out ({@linkcode buildDailyReport}), and a plain-text table that reads well on a phone
 * ({@linkcode formatDailyReport}). The input is gathered from the ledger by collect.ts, or built by hand.
 * @module
 */

import type { Market } from "../binance/types.ts";
import { DAY_US, utcDayStartUs } from "../ledger/intervals.ts";
import {
  CLOCK_SOURCES,
  type ClockSample,
  type ClockSource,
  compareText as cmp,
  type CoverageRow,
  type FlushStat,
  type GapRecord,
} from "../ledger/records.ts";
import type { ManifestEntry } from "../storage/manifest.ts";
import type { TableName } from "../storage/tables.ts";
import { formatGapKinds, type GapSummary, summarizeGaps } from "./gaps.ts";
import { fmtBytes, fmtCount, fmtDuration, fmtPct, fmtSignedMs, fmtTime } from "./text.ts";

/** Everything the report is built from, for one UTC day. */
export interface DailyReportInput {
  /** `YYYY-MM-DD` (UTC). */
  date: string;
  /** The day's coverage rows (see `Ledger.coverage`). */
  coverage: readonly CoverageRow[];
  /** Gaps overlapping the day. */
  gaps: readonly GapRecord[];
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

const pctOf = (covered: number, observed: number) => (observed === 0 ? 100 : (covered / observed) * 100);

function streamDays(coverage: readonly CoverageRow[]): StreamDay[] {
  const byStream = new Map<string, StreamDay>();
  for (const r of coverage) {
    const id = `${r.market}\u0000${r.symbol}\u0000${r.stream}`;
    let s = byStream.get(id);
    if (!s) {
      byStream.set(
        id,
        s = {
          market: r.market,
          symbol: r.symbol,
          stream: r.stream,
          messages: 0,
          observedSeconds: 0,
          coveredSeconds: 0,
          gapSeconds: 0,
          recoveredSeconds: 0,
          pct: 100,
          lowHours: [],
        },
      );
    }
    s.messages += r.messages;
    s.observedSeconds += r.observedSeconds;
    s.coveredSeconds += r.coveredSeconds;
    s.gapSeconds += r.gapSeconds;
    s.recoveredSeconds += r.recoveredSeconds;
    if (r.pct < 100) s.lowHours.push({ hourUs: r.hourUs, pct: r.pct, gapSeconds: r.gapSeconds });
  }
  const streams = [...byStream.values()];
  for (const s of streams) {
    s.pct = pctOf(s.coveredSeconds, s.observedSeconds);
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
    pct: pctOf(covered, observed),
    messages,
    observedSeconds: observed,
    coveredSeconds: covered,
    missingSeconds: missing,
    streams,
    gaps: summarizeGaps(input.gaps, { fromUs: dayUs, toUs: dayUs + DAY_US, longest: longestGaps }),
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

/** Options of {@linkcode formatDailyReport}. */
export interface DailyFormatOptions {
  /** Longest gaps listed (at most those kept in the summary). @default 5 */
  maxGaps?: number;
  /** List each stream's hours below 100%. @default false */
  hours?: boolean;
  /**
   * Streams listed: a day with more lists totals per market, then the worst streams (lowest coverage, then
   * the busiest), and counts the rest. @default 30
   */
  maxStreams?: number;
}

/** Streams of the day worst first: lowest coverage, then the busiest, then by name. */
function worstStreams(streams: readonly StreamDay[]): StreamDay[] {
  return [...streams].sort((a, b) =>
    a.pct - b.pct || b.messages - a.messages || cmp(a.market, b.market) || cmp(a.symbol, b.symbol) ||
    cmp(a.stream, b.stream)
  );
}

/** `spot 1.50k sym 99.99% 12.3M`: one line per market. */
function marketLines(streams: readonly StreamDay[]): string[] {
  const markets = new Map<
    Market,
    { symbols: Set<string>; observed: number; covered: number; messages: number }
  >();
  for (const s of streams) {
    let m = markets.get(s.market);
    if (!m) markets.set(s.market, m = { symbols: new Set(), observed: 0, covered: 0, messages: 0 });
    m.symbols.add(s.symbol);
    m.observed += s.observedSeconds;
    m.covered += s.coveredSeconds;
    m.messages += s.messages;
  }
  return [...markets].sort(([a], [b]) => cmp(a, b)).map(([market, m]) =>
    ` ${market.padEnd(5)}${fmtCount(m.symbols.size).padStart(6)} sym ${
      fmtPct(pctOf(m.covered, m.observed)).padStart(7)
    } ${fmtCount(m.messages).padStart(6)}`
  );
}

/** `HH:MM:SS` of a start on the day, `MM-DD HH:MM` of one before it. */
function fmtStart(us: number, dayUs: number): string {
  return us >= dayUs
    ? fmtTime(us)
    : `${new Date(Math.floor(us / 1000)).toISOString().slice(5, 10)} ${fmtTime(us).slice(0, 5)}`;
}

/** Shortens a line for a phone screen. */
function fit(line: string, width = 40): string {
  return line.length <= width ? line : line.slice(0, width - 1) + "…";
}

/**
 * The summary as plain text with lines of at most 40 characters (stream names longer than 14 characters push
 * their line past that). A day without any stream observed says "Nothing recorded" instead of a coverage that
 * would read 100%: an unattended collector that did not run must not look healthy.
 */
export function formatDailyReport(summary: DailySummary, options: DailyFormatOptions = {}): string {
  const { maxGaps = 5, hours = false, maxStreams = 30 } = options;
  const { gaps, storage, flushes } = summary;
  const lines = [
    `Report ${summary.date} (UTC)`,
    ...(summary.streams.length === 0 ? ["⚠️ Nothing recorded on this day"] : [
      `Coverage ${fmtPct(summary.pct)}, ${fmtCount(summary.messages)} msgs`,
      `Missing ${fmtDuration(summary.missingSeconds)} of ${fmtDuration(summary.observedSeconds)}`,
    ]),
    `Data ${fmtBytes(storage.bytes)}, ${storage.files} files, ${fmtCount(storage.rows)} rows`,
    `Gaps ${gaps.count}, ${gaps.unrecovered} unrecovered`,
    ...formatGapKinds(gaps),
  ];
  if (summary.streams.length > 0) {
    let listed = summary.streams;
    let rest: StreamDay[] = [];
    if (summary.streams.length > maxStreams) {
      const worst = worstStreams(summary.streams);
      // The worst streams, grouped under their symbol, worst symbol first.
      const symbolPct = new Map<string, number>();
      for (const s of worst.slice(0, maxStreams)) {
        const key = `${s.market} ${s.symbol}`;
        if (!symbolPct.has(key)) symbolPct.set(key, s.pct);
      }
      const order = [...symbolPct.keys()];
      listed = worst.slice(0, maxStreams).sort((a, b) =>
        order.indexOf(`${a.market} ${a.symbol}`) - order.indexOf(`${b.market} ${b.symbol}`) ||
        cmp(a.stream, b.stream)
      );
      rest = worst.slice(maxStreams);
      lines.push("", "Markets", ...marketLines(summary.streams));
    }
    lines.push(
      "",
      `${(rest.length > 0 ? "Worst streams" : "Stream").padEnd(15)}${"cover".padStart(8)} ${
        "msgs".padStart(7)
      }`,
    );
    let group = "";
    for (const s of listed) {
      const name = `${s.market} ${s.symbol}`;
      if (name !== group) lines.push(fit(name));
      group = name;
      lines.push(` ${s.stream.padEnd(14)}${fmtPct(s.pct).padStart(8)} ${fmtCount(s.messages).padStart(7)}`);
      if (hours) {
        for (const h of s.lowHours) {
          lines.push(
            `   ${fmtTime(h.hourUs).slice(0, 5)} ${fmtPct(h.pct).padStart(7)}  gap ${
              fmtDuration(h.gapSeconds)
            }`,
          );
        }
      }
    }
    if (rest.length > 0) {
      const low = rest.filter((s) => s.pct < 100).length;
      lines.push(`… ${fmtCount(rest.length)} more streams${low > 0 ? `, ${low} below 100%` : ", all 100%"}`);
    }
  }
  const listed = gaps.longest.slice(0, maxGaps);
  if (listed.length > 0) {
    lines.push(
      "",
      listed.length === gaps.count ? "Gaps" : `Longest gaps (${listed.length} of ${gaps.count})`,
    );
    for (const { gap, seconds } of listed) {
      const mark = gap.row.kind !== "backfilled" && gap.recoveredAtUs !== null ? " recovered" : "";
      lines.push(
        fit(` ${gap.market} ${gap.row.symbol} ${gap.row.stream}`),
        fit(
          `  ${gap.row.kind} ${fmtStart(gap.row.start_time, summary.dayUs)} ${fmtDuration(seconds)}${mark}`,
        ),
        fit(`  ${gap.row.reason}`),
      );
    }
  }
  lines.push("", `Flushes ${flushes.count}, ${fmtCount(flushes.rows)} rows, ${fmtBytes(flushes.bytes)}`);
  if (flushes.count > 0) {
    lines.push(` mean ${flushes.meanMs.toFixed(1)} ms, max ${flushes.maxMs.toFixed(1)} ms`);
  }
  if (summary.clock.length > 0) {
    lines.push(`Clock offset ms (limit ${summary.clockThresholdMs})`);
    for (const c of summary.clock) {
      const flag = c.overThreshold > 0 ? ` !${c.overThreshold}` : "";
      lines.push(
        fit(
          ` ${c.source.padEnd(12)} ${fmtSignedMs(c.minOffsetMs)}..${fmtSignedMs(c.maxOffsetMs)} rtt ${
            c.maxRttMs.toFixed(0)
          }${flag}`,
        ),
      );
    }
  }
  return lines.join("\n") + "\n";
}

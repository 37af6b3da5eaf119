/**
 * The daily summary as plain text that reads well on a phone (pure): the text half of the daily report, apart
 * from the figures ({@linkcode DailySummary}, built in daily.ts) so the layout can change without touching them.
 * @module
 */

import type { Market } from "../binance/types.ts";
import { compareText as cmp } from "../ledger/records.ts";
import { coveragePct, type DailySummary, type StreamDay } from "./daily.ts";
import { formatGapKinds } from "./gaps.ts";
import { fmtBytes, fmtCount, fmtDuration, fmtPct, fmtSignedMs, fmtTime } from "./text.ts";

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
      fmtPct(coveragePct(m.covered, m.observed)).padStart(7)
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

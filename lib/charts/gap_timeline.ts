/**
 * The gaps timeline's model (pure): a day's gaps as bars on the time axis, one row per (market, symbol), the
 * symbols with the most missing time first and at most `rows` of them; the rest are counted, and a first row
 * "all symbols" shows when anything was missing at all (the union of every gap).
 * @module
 */

import type { Market } from "../binance/types.ts";
import { isRecovered } from "../ledger/coverage.ts";
import { DAY_US, mergeIntervals } from "../ledger/intervals.ts";
import { compareText as cmp, type GapRecord } from "../ledger/records.ts";

/** One gap as the page draws and explains it (times in ms since the epoch, clipped to the day). */
export interface TimelineGap {
  stream: string;
  kind: string;
  startMs: number;
  endMs: number;
  reason: string;
  /** The data was recovered (backfilled), nothing is missing. */
  recovered: boolean;
}

/** One row of the timeline. */
export interface TimelineRow {
  market: Market;
  symbol: string;
  /** Unrecovered gap seconds inside the day (overlaps counted once per stream). */
  missingSeconds: number;
  /** Its gaps, longest first, at most `gapsPerRow`. */
  gaps: TimelineGap[];
  /** Gaps left out of `gaps`. */
  more: number;
}

/** The timeline of a day. */
export interface GapTimeline {
  dayStartMs: number;
  count: number;
  unrecovered: number;
  /** Count per kind. */
  byKind: Record<string, number>;
  /** Union of every unrecovered gap of the day, `[startMs, endMs]`. */
  any: [number, number][];
  rows: TimelineRow[];
  /** Symbols with gaps not in `rows`. */
  moreSymbols: number;
}

/** Options of {@linkcode gapTimeline}. */
export interface GapTimelineOptions {
  /** Symbols shown. @default 20 */
  rows?: number;
  /** Gaps kept per symbol. @default 12 */
  gapsPerRow?: number;
}

/**
 * Builds the timeline of the day starting at `dayUs`.
 *
 * @example
 * ```ts
 * import { DAY_US } from "../ledger/intervals.ts";
 * import { Ledger } from "../ledger/ledger.ts";
 *
 * const ledger = new Ledger(await Deno.openKv(":memory:"));
 * const hourUs = Date.UTC(2024, 0, 2, 7) * 1000; // 07:00 UTC
 * const span = { spanStartUs: hourUs, spanEndUs: hourUs + 3_600_000_000 };
 * await ledger.addCoverage("spot", "BTCUSDT", "aggTrade", hourUs, { messages: 3600, ...span });
 * await ledger.addCoverage("spot", "ETHUSDT", "aggTrade", hourUs, { messages: 1800, ...span });
 * await ledger.addGap("spot", {
 *   symbol: "ETHUSDT", stream: "aggTrade", kind: "disconnect", start_time: hourUs + 60e6,
 *   end_time: hourUs + 120e6, last_update_id: null, resume_update_id: null, reason: "socket closed",
 * });
 *
 * const dayUs = Date.UTC(2024, 0, 2) * 1000;
 * const gaps = await ledger.listGaps({ fromUs: dayUs, toUs: dayUs + DAY_US });
 * const timeline = gapTimeline(dayUs, gaps, { rows: 20 });
 * timeline.rows.map((r) => [r.symbol, r.missingSeconds]); // [["ETHUSDT", 60]]
 * ledger.close();
 * ```
 */
export function gapTimeline(
  dayUs: number,
  gaps: readonly GapRecord[],
  options: GapTimelineOptions = {},
): GapTimeline {
  const { rows = 20, gapsPerRow = 12 } = options;
  const endUs = dayUs + DAY_US;
  const bySymbol = new Map<string, { market: Market; symbol: string; gaps: GapRecord[] }>();
  const byKind: Record<string, number> = {};
  const missing: [number, number][] = [];
  let unrecovered = 0;
  for (const g of gaps) {
    byKind[g.row.kind] = (byKind[g.row.kind] ?? 0) + 1;
    const key = `${g.market}\u0000${g.row.symbol}`;
    let s = bySymbol.get(key);
    if (s === undefined) bySymbol.set(key, s = { market: g.market, symbol: g.row.symbol, gaps: [] });
    s.gaps.push(g);
    if (!isRecovered(g)) {
      unrecovered++;
      missing.push([Math.max(g.row.start_time, dayUs), Math.min(g.row.end_time, endUs)]);
    }
  }
  const clippedUs = (g: GapRecord) =>
    Math.max(0, Math.min(g.row.end_time, endUs) - Math.max(g.row.start_time, dayUs));
  const all = [...bySymbol.values()].map((s) => {
    const perStream = new Map<string, [number, number][]>();
    for (const g of s.gaps) {
      if (isRecovered(g)) continue;
      const list = perStream.get(g.row.stream) ?? [];
      list.push([Math.max(g.row.start_time, dayUs), Math.min(g.row.end_time, endUs)]);
      perStream.set(g.row.stream, list);
    }
    let missingUs = 0;
    for (const list of perStream.values()) {
      for (const [a, b] of mergeIntervals(list)) missingUs += Math.max(0, b - a);
    }
    return { ...s, missingSeconds: missingUs / 1e6 };
  }).sort((a, b) =>
    b.missingSeconds - a.missingSeconds || b.gaps.length - a.gaps.length || cmp(a.market, b.market) ||
    cmp(a.symbol, b.symbol)
  );
  return {
    dayStartMs: dayUs / 1000,
    count: gaps.length,
    unrecovered,
    byKind,
    any: mergeIntervals(missing).map(([a, b]) => [a / 1000, b / 1000]),
    rows: all.slice(0, rows).map((s) => {
      const sorted = [...s.gaps].sort((a, b) =>
        clippedUs(b) - clippedUs(a) || a.row.start_time - b.row.start_time
      );
      return {
        market: s.market,
        symbol: s.symbol,
        missingSeconds: s.missingSeconds,
        gaps: sorted.slice(0, gapsPerRow).map(timelineGap(dayUs, endUs)),
        more: Math.max(0, sorted.length - gapsPerRow),
      };
    }),
    moreSymbols: Math.max(0, all.length - rows),
  };
}

/** A gap in the page's terms, clipped to `[dayUs, endUs)`. */
export function timelineGap(dayUs: number, endUs: number): (g: GapRecord) => TimelineGap {
  return (g) => ({
    stream: g.row.stream,
    kind: g.row.kind,
    startMs: Math.max(g.row.start_time, dayUs) / 1000,
    endMs: Math.min(g.row.end_time, endUs) / 1000,
    reason: g.row.reason,
    recovered: isRecovered(g),
  });
}

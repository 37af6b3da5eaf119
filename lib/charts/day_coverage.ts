/**
 * A UTC day's coverage in a compact form that stays cheap with thousands of symbols: per stream, messages and
 * recorded seconds hour by hour (two small typed arrays), and exact coverage rows only for the stream-hours a
 * gap touches. A stream-hour without a gap is complete (its observed time is its recorded time), so this holds
 * the same figures as `Ledger.coverage`'s rows at a fraction of the objects. Pure.
 * @module
 */

import type { Market } from "../binance/types.ts";
import { HOUR_US, utcDayStartUs } from "../ledger/intervals.ts";
import type { CoverageRow, GapRecord } from "../ledger/records.ts";

/** Hours in a UTC day. */
export const HOURS = 24;

/** One stream over the day, hour by hour. */
export interface StreamHours {
  market: Market;
  symbol: string;
  stream: string;
  /** Messages per hour. */
  messages: Float64Array;
  /** Recorded seconds per hour; NaN where the ledger holds nothing for the hour. */
  recorded: Float64Array;
}

/** A day's coverage; build it with {@linkcode dayFromRows} or `DayCoverageReader`. */
export interface DayCoverage {
  /** `YYYY-MM-DD` (UTC). */
  date: string;
  /** Start (µs) of the day. */
  dayUs: number;
  /** By {@linkcode streamId}. */
  streams: Map<string, StreamHours>;
  /** Exact rows of the stream-hours gaps touch; they replace the hour's entry in `streams`. */
  exact: CoverageRow[];
  /** Gaps overlapping the day. */
  gaps: GapRecord[];
}

/** The map key of a stream. */
export function streamId(market: string, symbol: string, stream: string): string {
  return `${market}\u0000${symbol}\u0000${stream}`;
}

/** The hour slot (0..23) of `hourUs` in the day starting at `dayUs`, or -1 outside it. */
export function hourSlot(dayUs: number, hourUs: number): number {
  const slot = Math.floor((hourUs - dayUs) / HOUR_US);
  return slot >= 0 && slot < HOURS ? slot : -1;
}

/** A stream's entry, created empty (no hour recorded) when missing. */
export function streamHoursOf(
  streams: Map<string, StreamHours>,
  market: Market,
  symbol: string,
  stream: string,
): StreamHours {
  const id = streamId(market, symbol, stream);
  let s = streams.get(id);
  if (s === undefined) {
    s = { market, symbol, stream, messages: new Float64Array(HOURS), recorded: new Float64Array(HOURS) };
    s.recorded.fill(NaN);
    streams.set(id, s);
  }
  return s;
}

/**
 * The compact form of `Ledger.coverage`'s rows: rows with gaps stay exact, the others become hour slots.
 *
 * @example
 * ```ts
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
 * const gaps = await ledger.listGaps({ fromUs: dayUs, toUs: dayUs + 86_400_000_000 });
 * const day = dayFromRows("2024-01-02", await ledger.coverage("2024-01-02"), gaps);
 * day.exact.map((r) => r.symbol); // ["ETHUSDT"]: the stream-hour a gap touches keeps its exact figures
 * ledger.close();
 * ```
 */
export function dayFromRows(
  date: string,
  rows: readonly CoverageRow[],
  gaps: readonly GapRecord[],
): DayCoverage {
  const dayUs = utcDayStartUs(date);
  const streams = new Map<string, StreamHours>();
  const exact: CoverageRow[] = [];
  let last: StreamHours | undefined;
  for (const r of rows) {
    const slot = hourSlot(dayUs, r.hourUs);
    if (slot < 0) continue;
    // The ledger lists a stream's hours one after another: its id is looked up once, not per hour.
    const s =
      last !== undefined && last.stream === r.stream && last.symbol === r.symbol && last.market === r.market
        ? last
        : last = streamHoursOf(streams, r.market, r.symbol, r.stream);
    if (r.gaps > 0) {
      exact.push(r);
      continue;
    }
    s.messages[slot] = r.messages;
    s.recorded[slot] = r.recordedSeconds;
  }
  return { date, dayUs, streams, exact, gaps: [...gaps] };
}

/** One stream-hour's figures. */
export interface HourFigure {
  messages: number;
  observedSeconds: number;
  coveredSeconds: number;
  /** Covered share in percent (100 when nothing was observed). */
  pct: number;
  /** Gap rows touching the hour. */
  gaps: number;
  /** Seconds of its unrecovered gaps, and of its recovered ones (0 for an hour no gap touches). */
  gapSeconds: number;
  recoveredSeconds: number;
}

/**
 * Calls `visit` for every stream-hour that has figures (an exact row wins over the hour slot), in stream order
 * of the map (a stream's hours one after another), exact rows last. `s` is the stream's entry in `day.streams`,
 * the same object for all its hours (exact ones included), so a visitor can tell streams apart by identity
 * rather than by building keys. `f` is one object refilled for each call: a visitor copies what it keeps (a
 * whole market's day is ~200,000 stream-hours).
 */
export function forEachStreamHour(
  day: DayCoverage,
  visit: (s: StreamHours, slot: number, f: HourFigure) => void,
): void {
  // Each exact row of the day with its stream and slot, and per stream a bit per hour slot that one stands for.
  const exact: { s: StreamHours; slot: number; r: CoverageRow }[] = [];
  const exactSlots = new Map<StreamHours, number>();
  const orphans = new Map<string, StreamHours>();
  for (const r of day.exact) {
    const slot = hourSlot(day.dayUs, r.hourUs);
    if (slot < 0) continue;
    // Both builders list every exact row's stream; a hand-made day may not, and is not changed here.
    const s = day.streams.get(streamId(r.market, r.symbol, r.stream)) ??
      streamHoursOf(orphans, r.market, r.symbol, r.stream);
    exact.push({ s, slot, r });
    exactSlots.set(s, (exactSlots.get(s) ?? 0) | (1 << slot));
  }
  const f: HourFigure = {
    messages: 0,
    observedSeconds: 0,
    coveredSeconds: 0,
    pct: 100,
    gaps: 0,
    gapSeconds: 0,
    recoveredSeconds: 0,
  };
  for (const s of day.streams.values()) {
    const exactHours = exactSlots.size > 0 ? exactSlots.get(s) ?? 0 : 0;
    for (let h = 0; h < HOURS; h++) {
      const recorded = s.recorded[h]!;
      if (Number.isNaN(recorded) || (exactHours & (1 << h)) !== 0) continue;
      f.messages = s.messages[h]!;
      f.observedSeconds = f.coveredSeconds = recorded;
      f.pct = 100;
      f.gaps = f.gapSeconds = f.recoveredSeconds = 0;
      visit(s, h, f);
    }
  }
  for (const { s, slot, r } of exact) {
    f.messages = r.messages;
    f.observedSeconds = r.observedSeconds;
    f.coveredSeconds = r.coveredSeconds;
    f.pct = r.pct;
    f.gaps = r.gaps;
    f.gapSeconds = r.gapSeconds;
    f.recoveredSeconds = r.recoveredSeconds;
    visit(s, slot, f);
  }
}

/** One stream over the day. */
export interface StreamTotal {
  market: Market;
  symbol: string;
  stream: string;
  messages: number;
  observedSeconds: number;
  coveredSeconds: number;
  /** Covered share in percent (100 when nothing was observed). */
  pct: number;
}

/**
 * Folds the day's stream-hours ({@link forEachStreamHour}) into one value per stream: `start` makes a stream's
 * value when the stream is first met, `add` adds an hour to it. The values come in the order first met.
 */
export function foldStreams<T>(
  day: DayCoverage,
  start: (market: Market, symbol: string, stream: string) => T,
  add: (value: T, slot: number, f: HourFigure) => void,
): T[] {
  const byStream = new Map<StreamHours, T>();
  let last: StreamHours | undefined;
  let value: T | undefined;
  forEachStreamHour(day, (s, slot, f) => {
    // A stream's hours come one after another: it is looked up once, not per hour.
    if (s !== last) {
      value = byStream.get(s);
      if (value === undefined) byStream.set(s, value = start(s.market, s.symbol, s.stream));
      last = s;
    }
    add(value!, slot, f);
  });
  return [...byStream.values()];
}

/** A stream's totals before its first hour. */
export function emptyTotal(market: Market, symbol: string, stream: string): StreamTotal {
  return { market, symbol, stream, messages: 0, observedSeconds: 0, coveredSeconds: 0, pct: 100 };
}

/** Per stream totals of the day, in no particular order. */
export function streamTotals(day: DayCoverage): StreamTotal[] {
  const totals = foldStreams(
    day,
    emptyTotal,
    (t, _slot, f) => {
      t.messages += f.messages;
      t.observedSeconds += f.observedSeconds;
      t.coveredSeconds += f.coveredSeconds;
    },
  );
  for (const t of totals) t.pct = pctOf(t.coveredSeconds, t.observedSeconds);
  return totals;
}

/** Covered over observed in percent; 100 when nothing was observed. */
export function pctOf(covered: number, observed: number): number {
  return observed <= 0 ? 100 : Math.min(100, (covered / observed) * 100);
}

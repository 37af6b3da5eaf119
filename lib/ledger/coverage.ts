/**
 * Coverage arithmetic (pure): folding flush samples into a stream-hour's stored value, and turning a day's
 * stored values plus its gaps into per-hour coverage rows.
 * @module
 */

import type { Market } from "../binance/types.ts";
import { DAY_US, HOUR_US, hourFigures, type Interval, mergeIntervals, slotsTouched } from "./intervals.ts";
import {
  compareText as cmp,
  type CoverageRow,
  type CoverageSample,
  type CoverageValue,
  type GapRecord,
} from "./records.ts";

/** Most spans kept per stream-hour: bounds the value at ~10 KiB (each span is two 9-byte numbers). */
export const MAX_SPANS = 512;

/** Unflattens `[s0, e0, s1, e1, ...]`. */
export function spansOf(value: CoverageValue): Interval[] {
  const out: Interval[] = [];
  for (let i = 0; i + 1 < value.spans.length; i += 2) out.push([value.spans[i]!, value.spans[i + 1]!]);
  return out;
}

/**
 * Adds a flush sample to a stream-hour's value: messages are summed, the span is clipped to the hour and
 * merged with the earlier ones. Past {@linkcode MAX_SPANS} the smallest hole is closed, which can only
 * overstate recorded time by that hole (it takes hundreds of restarts within one hour to get there).
 *
 * @example
 * ```ts
 * addSample(null, 0, { messages: 5, spanStartUs: 10, spanEndUs: 20 }); // { messages: 5, spans: [10, 20] }
 * ```
 */
export function addSample(prev: CoverageValue | null, hourUs: number, sample: CoverageSample): CoverageValue {
  const span: Interval = [Math.max(sample.spanStartUs, hourUs), Math.min(sample.spanEndUs, hourUs + HOUR_US)];
  const spans = mergeIntervals(prev === null ? [span] : [...spansOf(prev), span]).map((
    [s, e],
  ): [number, number] => [s, e]);
  while (spans.length > MAX_SPANS) {
    let best = 1;
    for (let i = 2; i < spans.length; i++) {
      if (spans[i]![0] - spans[i - 1]![1] < spans[best]![0] - spans[best - 1]![1]) best = i;
    }
    spans[best - 1]![1] = spans[best]![1];
    spans.splice(best, 1);
  }
  return { messages: (prev?.messages ?? 0) + sample.messages, spans: spans.flat() };
}

/** A stored stream-hour with its key parts. */
export interface CoverageEntry {
  market: Market;
  symbol: string;
  stream: string;
  hourUs: number;
  value: CoverageValue;
}

interface StreamDay {
  market: Market;
  symbol: string;
  stream: string;
  hours: Map<number, { value: CoverageValue; gaps: number }>;
  missing: Interval[];
  recovered: Interval[];
}

/** Whether a gap's data counts as present again. */
export function isRecovered(gap: GapRecord): boolean {
  return gap.row.kind === "backfilled" || gap.recoveredAtUs !== null;
}

/**
 * Coverage rows of the UTC day starting at `dayUs`: one per (market, symbol, stream, hour) that has a stored
 * value or a gap, sorted by market, symbol, stream and hour. An hour with spans and no gap reads 100%; an hour
 * the collector missed entirely but whose downtime is a gap reads 0%.
 */
export function coverageRows(
  dayUs: number,
  entries: readonly CoverageEntry[],
  gaps: readonly GapRecord[],
): CoverageRow[] {
  return [...coverageRowsOf(dayUs, entries, gaps)];
}

/**
 * {@linkcode coverageRows} one row at a time, so that a caller can yield to the event loop between them (a
 * whole market's day is hundreds of thousands of rows). Streams are sorted, not rows.
 */
export function* coverageRowsOf(
  dayUs: number,
  entries: readonly CoverageEntry[],
  gaps: readonly GapRecord[],
): Generator<CoverageRow> {
  const streams = new Map<string, StreamDay>();
  const streamOf = (market: Market, symbol: string, stream: string): StreamDay => {
    const id = `${market}\u0000${symbol}\u0000${stream}`;
    let s = streams.get(id);
    if (!s) streams.set(id, s = { market, symbol, stream, hours: new Map(), missing: [], recovered: [] });
    return s;
  };
  for (const e of entries) {
    if (e.hourUs < dayUs || e.hourUs >= dayUs + DAY_US) continue;
    streamOf(e.market, e.symbol, e.stream).hours.set(e.hourUs, { value: e.value, gaps: 0 });
  }
  for (const gap of gaps) {
    const { symbol, stream, start_time, end_time } = gap.row;
    const s = streamOf(gap.market, symbol, stream);
    (isRecovered(gap) ? s.recovered : s.missing).push([start_time, end_time]);
    for (const hourUs of slotsTouched(start_time, end_time, HOUR_US)) {
      if (hourUs < dayUs || hourUs >= dayUs + DAY_US) continue;
      let h = s.hours.get(hourUs);
      if (!h) s.hours.set(hourUs, h = { value: { messages: 0, spans: [] }, gaps: 0 });
      h.gaps++;
    }
  }
  const sorted = [...streams.values()].sort((a, b) =>
    cmp(a.market, b.market) || cmp(a.symbol, b.symbol) || cmp(a.stream, b.stream)
  );
  for (const s of sorted) {
    for (const hourUs of [...s.hours.keys()].sort((a, b) => a - b)) {
      const h = s.hours.get(hourUs)!;
      const f = hourFigures({ hourUs, spans: spansOf(h.value), missing: s.missing, recovered: s.recovered });
      yield {
        market: s.market,
        symbol: s.symbol,
        stream: s.stream,
        hourUs,
        messages: h.value.messages,
        gaps: h.gaps,
        recordedSeconds: f.recordedUs / 1e6,
        observedSeconds: f.observedUs / 1e6,
        gapSeconds: f.missingUs / 1e6,
        recoveredSeconds: f.recoveredUs / 1e6,
        coveredSeconds: f.coveredUs / 1e6,
        pct: f.observedUs === 0 ? 100 : (f.coveredUs / f.observedUs) * 100,
      };
    }
  }
}

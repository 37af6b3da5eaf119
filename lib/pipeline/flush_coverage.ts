/**
 * A flush's coverage: each stream's recorded span and message counts added to the ledger, hour by hour. Every
 * stream recorded gets its span, with or without messages, so an hour without any says so.
 * @module
 */
import type { PlannedStream } from "../binance/stream_plan.ts";
import type { Market } from "../binance/types.ts";
import type { CoverageItem } from "../ledger/coverage_writer.ts";
import { HOUR_US } from "../ledger/intervals.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { StreamCount } from "./hourly_counts.ts";

/** Streams whose coverage is built and written at a time. */
const COVERAGE_SLICE = 1000;

/** A market as its coverage needs it. */
export interface CoveredMarket {
  market: Market;
  /** Every stream recorded, as of now. */
  streams(): readonly PlannedStream[];
}

/**
 * Adds each of the market's streams' span `[fromUs, toUs)` and message `counts` (its normalizer's, taken for
 * the flush) to the coverage ledger, hour by hour, a slice of the streams at a time (the ledger's writes
 * between them let frames in: a whole market's ~9,000 streams over the two hours of a flush that crosses an
 * hour took 25 ms in one block when built at once).
 */
export async function recordFlushCoverage(
  ledger: Pick<Ledger, "addCoverageMany">,
  m: CoveredMarket,
  counts: readonly StreamCount[],
  fromUs: number,
  toUs: number,
): Promise<void> {
  const hours: number[] = [];
  for (let hourUs = fromUs - fromUs % HOUR_US; hourUs < toUs; hourUs += HOUR_US) hours.push(hourUs);
  // By hour, symbol and stream: maps keyed by the streams' own strings, no key built per stream.
  const byHour = new Map<number, Map<string, Map<string, number>>>();
  for (const c of counts) {
    let bySymbol = byHour.get(c.hourUs);
    if (bySymbol === undefined) byHour.set(c.hourUs, bySymbol = new Map());
    let byStream = bySymbol.get(c.symbol);
    if (byStream === undefined) bySymbol.set(c.symbol, byStream = new Map());
    byStream.set(c.stream, (byStream.get(c.stream) ?? 0) + c.messages);
  }
  // As of now: a listing that joins while the slices are written is not covered for this flush's span.
  const streams = m.streams().slice();
  for (let at = 0; at < streams.length; at += COVERAGE_SLICE) {
    const items: CoverageItem[] = [];
    for (const ps of streams.slice(at, at + COVERAGE_SLICE)) {
      for (const hourUs of hours) {
        items.push({
          market: m.market,
          symbol: ps.symbol,
          stream: ps.stream,
          hourUs,
          sample: {
            messages: byHour.get(hourUs)?.get(ps.symbol)?.get(ps.stream) ?? 0,
            spanStartUs: Math.max(fromUs, hourUs),
            spanEndUs: Math.min(toUs, hourUs + HOUR_US),
          },
        });
      }
    }
    await ledger.addCoverageMany(items);
  }
}

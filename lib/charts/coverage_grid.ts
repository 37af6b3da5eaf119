/**
 * The coverage heatmap's model (pure): a day's coverage folded per (market, symbol) and UTC hour, symbols
 * sorted worst first (lowest covered share, then most gaps, then busiest), with per-market totals. The status
 * page's JSON and the Telegram picture are both drawn from it.
 * @module
 */

import type { Market } from "../binance/types.ts";
import { isRecovered } from "../ledger/coverage.ts";
import { compareText as cmp, type GapRecord } from "../ledger/records.ts";
import { type DayCoverage, forEachStreamHour, HOURS, pctOf, type StreamHours } from "./day_coverage.ts";

/** One (symbol, hour) cell: the figures of the symbol's streams in that hour. */
export interface GridCell {
  /** The worst stream's covered share in percent: one stream missing data makes the cell red. */
  pct: number;
  messages: number;
  /** Gap rows touching the hour (summed over streams). */
  gaps: number;
}

/** One symbol over the day. */
export interface GridSymbol {
  market: Market;
  symbol: string;
  messages: number;
  observedSeconds: number;
  coveredSeconds: number;
  /** Covered over observed seconds of all its streams, in percent. */
  pct: number;
  /** Its gap rows overlapping the day, and how many of them are not recovered. */
  gaps: number;
  unrecovered: number;
  /** Per hour, null where nothing was observed. */
  hours: (GridCell | null)[];
}

/** One market over the day. */
export interface GridMarket {
  market: Market;
  symbols: number;
  messages: number;
  observedSeconds: number;
  coveredSeconds: number;
  pct: number;
  /** Covered share of the market's streams per hour (summed seconds), null where nothing was observed. */
  hours: (number | null)[];
}

/** The heatmap of a day. */
export interface CoverageGrid {
  date: string;
  dayUs: number;
  /** Worst first. */
  symbols: GridSymbol[];
  markets: GridMarket[];
  /** The day's gaps (as given). */
  gaps: GapRecord[];
}

const symbolKey = (market: string, symbol: string) => `${market}\u0000${symbol}`;

/**
 * Folds `day` into the heatmap's rows.
 *
 * @example
 * ```ts
 * import { DayCoverageReader } from "./coverage_reader.ts";
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
 * const grid = coverageGrid(await new DayCoverageReader(ledger).read("2024-01-02"));
 * grid.symbols[0]!.symbol; // "ETHUSDT": the worst symbol of the day (a minute missing at 07:01)
 * grid.symbols[0]!.hours[7]!.gaps; // 1
 * ledger.close();
 * ```
 */
export function coverageGrid(day: DayCoverage): CoverageGrid {
  const symbols = new Map<string, GridSymbol>();
  const markets = new Map<Market, GridMarket & { seconds: Float64Array }>();
  let last: GridSymbol | null = null;
  const symbolOf = (market: Market, symbol: string): GridSymbol => {
    // A stream's hours, and a symbol's streams, mostly come one after another: no key to build for them.
    if (last !== null && last.symbol === symbol && last.market === market) return last;
    const key = symbolKey(market, symbol);
    let s = symbols.get(key);
    if (s === undefined) {
      s = {
        market,
        symbol,
        messages: 0,
        observedSeconds: 0,
        coveredSeconds: 0,
        pct: 100,
        gaps: 0,
        unrecovered: 0,
        hours: new Array(HOURS).fill(null),
      };
      symbols.set(key, s);
    }
    return last = s;
  };
  const marketOf = (market: Market) => {
    let m = markets.get(market);
    if (m === undefined) {
      m = {
        market,
        symbols: 0,
        messages: 0,
        observedSeconds: 0,
        coveredSeconds: 0,
        pct: 100,
        hours: [],
        // [observed, covered] per hour
        seconds: new Float64Array(2 * HOURS).fill(NaN),
      };
      markets.set(market, m);
    }
    return m;
  };
  let lastStream: StreamHours | undefined;
  let s: GridSymbol;
  let m: GridMarket & { seconds: Float64Array };
  forEachStreamHour(day, (stream, slot, f) => {
    // A stream's hours come one after another: its symbol and market are looked up once, not per hour.
    if (stream !== lastStream) {
      s = symbolOf(stream.market, stream.symbol);
      m = marketOf(stream.market);
      lastStream = stream;
    }
    s.messages += f.messages;
    s.observedSeconds += f.observedSeconds;
    s.coveredSeconds += f.coveredSeconds;
    const cell = s.hours[slot];
    if (cell == null) s.hours[slot] = { pct: f.pct, messages: f.messages, gaps: f.gaps };
    else {
      cell.pct = Math.min(cell.pct, f.pct);
      cell.messages += f.messages;
      cell.gaps += f.gaps;
    }
    m.messages += f.messages;
    m.observedSeconds += f.observedSeconds;
    m.coveredSeconds += f.coveredSeconds;
    const o = m.seconds[2 * slot]!;
    m.seconds[2 * slot] = (Number.isNaN(o) ? 0 : o) + f.observedSeconds;
    m.seconds[2 * slot + 1] = (Number.isNaN(o) ? 0 : m.seconds[2 * slot + 1]!) + f.coveredSeconds;
  });
  for (const g of day.gaps) {
    const s = symbolOf(g.market, g.row.symbol);
    s.gaps++;
    if (!isRecovered(g)) s.unrecovered++;
  }
  for (const s of symbols.values()) {
    s.pct = pctOf(s.coveredSeconds, s.observedSeconds);
    marketOf(s.market).symbols++;
  }
  const sorted = [...symbols.values()].sort(worstFirst);
  return {
    date: day.date,
    dayUs: day.dayUs,
    symbols: sorted,
    markets: [...markets.values()].sort((a, b) => cmp(a.market, b.market)).map(({ seconds, ...m }) => ({
      ...m,
      pct: pctOf(m.coveredSeconds, m.observedSeconds),
      hours: Array.from(
        { length: HOURS },
        (_, h) => Number.isNaN(seconds[2 * h]!) ? null : pctOf(seconds[2 * h + 1]!, seconds[2 * h]!),
      ),
    })),
    gaps: day.gaps,
  };
}

/** Lowest covered share first, then most unrecovered gaps, most gaps, busiest, then by name. */
export function worstFirst(a: GridSymbol, b: GridSymbol): number {
  return a.pct - b.pct || b.unrecovered - a.unrecovered || b.gaps - a.gaps || b.messages - a.messages ||
    cmp(a.market, b.market) || cmp(a.symbol, b.symbol);
}

/**
 * The symbols a picture of the day shows: the worst (with missing data or gaps) first, then the busiest of the
 * rest, `limit` in all, in that order.
 */
export function worstAndBusiest(grid: CoverageGrid, limit: number): GridSymbol[] {
  const troubled = grid.symbols.filter((s) => s.pct < 100 || s.gaps > 0);
  if (troubled.length >= limit) return troubled.slice(0, limit);
  const calm = grid.symbols.filter((s) => !(s.pct < 100 || s.gaps > 0));
  // grid.symbols is worst first; among complete symbols that means busiest first already.
  return [...troubled, ...calm.slice(0, limit - troubled.length)];
}

/**
 * The JSON the status page's charts poll (pure builders plus query parsing): `/charts/rates.json` (message rate
 * per market over the last hour), `/charts/coverage.json` (a page of the coverage heatmap, worst symbols first,
 * with each symbol's gaps for the hover text) and `/charts/gaps.json` (the gaps timeline). Coverage and gaps
 * come from the ledger; each answer is bounded by its page size, never by the number of symbols.
 * @module
 */

import { MARKETS } from "../binance/types.ts";
import type { Market } from "../binance/types.ts";
import { type CoverageGrid, coverageGrid } from "../charts/coverage_grid.ts";
import type { DayCoverage } from "../charts/day_coverage.ts";
import { type GapTimeline, gapTimeline, type TimelineGap, timelineGap } from "../charts/gap_timeline.ts";
import { DAY_US } from "../ledger/intervals.ts";
import type { GapRecord } from "../ledger/records.ts";
import type { RateSeries } from "./rate_history.ts";

/** Where the chart data comes from (the collector's status source, or a fake). */
export interface ChartSource {
  /** Coverage and gaps of a UTC day from the ledger. */
  coverageDay(date: string): Promise<DayCoverage>;
  /** Message rate per market over the last hour. */
  rates(): RateSeries[];
}

/** A query the endpoint cannot answer; the message says what is wrong (HTTP 400). */
export class ChartQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChartQueryError";
  }
}

/** The most heatmap rows one request may ask for. */
export const MAX_ROWS = 200;

/** A heatmap page request. */
export interface CoverageQuery {
  date: string;
  offset: number;
  limit: number;
  market: Market | null;
  /** Upper-case part of a symbol name, or "" for all. */
  search: string;
}

/** `date=YYYY-MM-DD` (default: the UTC day of `nowMs`). */
export function parseDate(params: URLSearchParams, nowMs: number): string {
  const raw = params.get("date");
  if (raw === null || raw === "" || raw === "today") return new Date(nowMs).toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw) || Number.isNaN(Date.parse(`${raw}T00:00:00Z`))) {
    throw new ChartQueryError(`Cannot read date '${raw}': expected YYYY-MM-DD`);
  }
  if (new Date(`${raw}T00:00:00Z`).toISOString().slice(0, 10) !== raw) {
    throw new ChartQueryError(`Cannot read date '${raw}': no such day`);
  }
  return raw;
}

function parseInteger(
  params: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = params.get(name);
  if (raw === null || raw === "") return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ChartQueryError(`Cannot read ${name} '${raw}': expected an integer from ${min} to ${max}`);
  }
  return v;
}

/** Reads `date`, `offset`, `limit` (1..{@linkcode MAX_ROWS}), `market` (`spot`, `usdm`, `all`) and `q`. */
export function parseCoverageQuery(params: URLSearchParams, nowMs: number): CoverageQuery {
  const market = params.get("market") ?? "all";
  if (market !== "all" && !(MARKETS as readonly string[]).includes(market)) {
    throw new ChartQueryError(`Cannot read market '${market}': expected all, ${MARKETS.join(" or ")}`);
  }
  const search = (params.get("q") ?? "").trim().toUpperCase();
  if (!/^[A-Z0-9]{0,30}$/.test(search)) {
    throw new ChartQueryError(`Cannot read q '${search}': letters and digits only`);
  }
  return {
    date: parseDate(params, nowMs),
    offset: parseInteger(params, "offset", 0, 0, 1_000_000),
    limit: parseInteger(params, "limit", 40, 1, MAX_ROWS),
    market: market === "all" ? null : market as Market,
    search,
  };
}

/** One heatmap row as sent to the page. */
export interface CoverageRowDoc {
  market: Market;
  symbol: string;
  /** Day coverage in percent. */
  pct: number;
  messages: number;
  gaps: number;
  unrecovered: number;
  /** Per hour: the worst stream's coverage in percent, or null (nothing observed). */
  hours: (number | null)[];
  /** Messages per hour. */
  hourMessages: number[];
  /** The symbol's gaps of the day, longest first, at most {@linkcode GAPS_PER_ROW}. */
  gapList: TimelineGap[];
}

/** Gaps sent per heatmap row (for the hover text). */
export const GAPS_PER_ROW = 12;

/** `/charts/coverage.json`. */
export interface CoverageDocument {
  date: string;
  dayStartMs: number;
  markets: { market: Market; symbols: number; pct: number; messages: number; hours: (number | null)[] }[];
  /** Symbols matching the query (all pages). */
  total: number;
  /** Symbols of the day with data, all markets. */
  symbols: number;
  /** Of those, symbols with nothing missing and no gap. */
  complete: number;
  offset: number;
  limit: number;
  rows: CoverageRowDoc[];
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * One page of the heatmap.
 *
 * @example
 * ```ts
 * import { coverageGrid } from "../charts/coverage_grid.ts";
 * import { DayCoverageReader } from "../charts/coverage_reader.ts";
 * import { Ledger } from "../ledger/ledger.ts";
 *
 * const ledger = new Ledger(await Deno.openKv(":memory:"));
 * const hourUs = Date.UTC(2024, 0, 2, 7) * 1000;
 * await ledger.addCoverage("spot", "BTCUSDT", "aggTrade", hourUs, {
 *   messages: 3600, spanStartUs: hourUs, spanEndUs: hourUs + 3_600_000_000,
 * });
 * const date = "2024-01-02";
 * const day = await new DayCoverageReader(ledger).read(date);
 * const page = coverageDocument(coverageGrid(day), { date, offset: 0, limit: 40, market: null, search: "" });
 * page.rows.length; // 1
 * ledger.close();
 * ```
 */
export function coverageDocument(grid: CoverageGrid, q: CoverageQuery): CoverageDocument {
  const matching = grid.symbols.filter((s) =>
    (q.market === null || s.market === q.market) && (q.search === "" || s.symbol.includes(q.search))
  );
  const page = matching.slice(q.offset, q.offset + q.limit);
  const wanted = new Set(page.map((s) => `${s.market}\u0000${s.symbol}`));
  const gapsOf = new Map<string, GapRecord[]>();
  for (const g of grid.gaps) {
    const key = `${g.market}\u0000${g.row.symbol}`;
    if (!wanted.has(key)) continue;
    const list = gapsOf.get(key) ?? [];
    list.push(g);
    gapsOf.set(key, list);
  }
  const toGap = timelineGap(grid.dayUs, grid.dayUs + DAY_US);
  return {
    date: grid.date,
    dayStartMs: grid.dayUs / 1000,
    markets: grid.markets.map((m) => ({
      market: m.market,
      symbols: m.symbols,
      pct: round3(m.pct),
      messages: m.messages,
      hours: m.hours.map((h) => (h === null ? null : round3(h))),
    })),
    total: matching.length,
    symbols: grid.symbols.length,
    complete: grid.symbols.filter((s) => s.pct >= 100 && s.gaps === 0).length,
    offset: q.offset,
    limit: q.limit,
    rows: page.map((s) => {
      const gaps = (gapsOf.get(`${s.market}\u0000${s.symbol}`) ?? []).map(toGap)
        .sort((a, b) => (b.endMs - b.startMs) - (a.endMs - a.startMs) || a.startMs - b.startMs);
      return {
        market: s.market,
        symbol: s.symbol,
        pct: round3(s.pct),
        messages: s.messages,
        gaps: s.gaps,
        unrecovered: s.unrecovered,
        hours: s.hours.map((c) => (c === null ? null : round3(c.pct))),
        hourMessages: s.hours.map((c) => c?.messages ?? 0),
        gapList: gaps.slice(0, GAPS_PER_ROW),
      };
    }),
  };
}

/** `/charts/gaps.json`: the day's timeline. */
export type GapsDocument = GapTimeline & { date: string };

/** The gaps timeline of a day (20 symbols at most). */
export function gapsDocument(day: DayCoverage): GapsDocument {
  return { date: day.date, ...gapTimeline(day.dayUs, day.gaps, { rows: 20 }) };
}

/** `/charts/rates.json`. */
export interface RatesDocument {
  nowMs: number;
  series: RateSeries[];
}

// A day read is one object until the reader reads it again, so its grid (30 ms with 2,000 symbols) is built once
// for every page and search of it.
const grids = new WeakMap<DayCoverage, CoverageGrid>();
function gridOf(day: DayCoverage): CoverageGrid {
  let grid = grids.get(day);
  if (grid === undefined) grids.set(day, grid = coverageGrid(day));
  return grid;
}

/** Answers one chart route, or null when `pathname` is not one. Throws {@link ChartQueryError} on bad input. */
export async function chartRoute(
  pathname: string,
  params: URLSearchParams,
  source: ChartSource,
  nowMs: number,
): Promise<unknown | null> {
  switch (pathname) {
    case "/charts/rates.json":
      return { nowMs, series: source.rates() } satisfies RatesDocument;
    case "/charts/coverage.json": {
      const q = parseCoverageQuery(params, nowMs);
      return coverageDocument(gridOf(await source.coverageDay(q.date)), q);
    }
    case "/charts/gaps.json":
      return gapsDocument(await source.coverageDay(parseDate(params, nowMs)));
    default:
      return null;
  }
}

/**
 * What the status page shows of a {@link StatusSnapshot} (pure): totals per market, then one row per symbol
 * (its streams folded together) for the worst symbols first (down, book not in sync, silent, gaps today, then
 * the busiest), at most `limit` of them, and a count of the rest. Its size does not grow with the number of
 * symbols, so the page stays light with 2,000 of them.
 * @module
 */

import type { Market } from "../binance/types.ts";
import { compareText as cmp } from "../ledger/records.ts";
import { type Health, healthOf, type HealthProblem } from "./health.ts";
import type { StatusSnapshot } from "./snapshot.ts";

/** One market's totals. */
export interface MarketTotals {
  market: Market;
  symbols: number;
  streams: number;
  /** Streams whose connection is open and subscribed. */
  connected: number;
  /** Streams silent beyond their threshold. */
  stale: number;
  books: number;
  booksSynced: number;
  msgsPerSec: number;
  messages: number;
  bytes: number;
  gapsToday: number;
  /** The lowest coverage of today among its streams; null before the ledger has any. */
  coverageTodayPct: number | null;
}

/** How a symbol stands, worst first. */
export const SYMBOL_STATES = ["down", "book", "stale", "gaps", "ok"] as const;

/** One of {@linkcode SYMBOL_STATES}. */
export type SymbolState = (typeof SYMBOL_STATES)[number];

/** One symbol, its streams folded together. */
export interface SymbolRow {
  market: Market;
  symbol: string;
  state: SymbolState;
  /** What is wrong, e.g. `aggTrade stale`, `book buffering`; null when ok. */
  problem: string | null;
  streams: number;
  msgsPerSec: number;
  /** Age of the newest frame of any of its streams. */
  lastMessageAgeMs: number | null;
  gapsToday: number;
  /** Its lowest stream coverage of today. */
  coverageTodayPct: number | null;
}

/** The page's document. */
export interface StatusSummary extends Omit<StatusSnapshot, "streams" | "books"> {
  health: Health & { problemCount: number };
  markets: MarketTotals[];
  /** Worst first, at most the limit. */
  symbols: SymbolRow[];
  /** Symbols not listed, and how many of those are not ok. */
  moreSymbols: number;
  moreTroubled: number;
}

/** Options of {@linkcode summarizeStatus}. */
export interface SummaryOptions {
  /** Symbol rows listed. @default 25 */
  symbols?: number;
  /** Health problems listed. @default 20 */
  problems?: number;
}

const rank = (s: SymbolState) => SYMBOL_STATES.indexOf(s);

/** Worst state first; within a state lower coverage, more gaps, then the busiest; then by name. */
export function compareSymbolRows(a: SymbolRow, b: SymbolRow): number {
  return rank(a.state) - rank(b.state) || (a.coverageTodayPct ?? 100) - (b.coverageTodayPct ?? 100) ||
    b.gapsToday - a.gapsToday || b.msgsPerSec - a.msgsPerSec || cmp(a.market, b.market) ||
    cmp(a.symbol, b.symbol);
}

const minOrNull = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));

/**
 * Folds every stream and book of `s` into per-symbol rows (in no particular order) and per-market totals.
 */
export function symbolRows(s: Pick<StatusSnapshot, "streams" | "books">): {
  rows: SymbolRow[];
  markets: MarketTotals[];
} {
  const rows = new Map<string, SymbolRow & { down: string[]; stale: string[] }>();
  const markets = new Map<Market, MarketTotals>();
  const marketOf = (market: Market): MarketTotals => {
    let m = markets.get(market);
    if (m === undefined) {
      markets.set(
        market,
        m = {
          market,
          symbols: 0,
          streams: 0,
          connected: 0,
          stale: 0,
          books: 0,
          booksSynced: 0,
          msgsPerSec: 0,
          messages: 0,
          bytes: 0,
          gapsToday: 0,
          coverageTodayPct: null,
        },
      );
    }
    return m;
  };
  for (const st of s.streams) {
    const key = `${st.market}\u0000${st.symbol}`;
    let r = rows.get(key);
    if (r === undefined) {
      r = {
        market: st.market,
        symbol: st.symbol,
        state: "ok",
        problem: null,
        streams: 0,
        msgsPerSec: 0,
        lastMessageAgeMs: null,
        gapsToday: 0,
        coverageTodayPct: null,
        down: [],
        stale: [],
      };
      rows.set(key, r);
      marketOf(st.market).symbols++;
    }
    r.streams++;
    r.msgsPerSec += st.msgsPerSec;
    if (st.lastMessageAgeMs !== null) {
      r.lastMessageAgeMs = r.lastMessageAgeMs === null
        ? st.lastMessageAgeMs
        : Math.min(r.lastMessageAgeMs, st.lastMessageAgeMs);
    }
    r.gapsToday += st.gapsToday;
    r.coverageTodayPct = minOrNull(r.coverageTodayPct, st.coverageTodayPct);
    if (!st.connected) r.down.push(st.stream);
    else if (st.stale) r.stale.push(st.stream);
    const m = marketOf(st.market);
    m.streams++;
    if (st.connected) m.connected++;
    if (st.connected && st.stale) m.stale++;
    m.msgsPerSec += st.msgsPerSec;
    m.messages += st.messages;
    m.bytes += st.bytes;
    m.gapsToday += st.gapsToday;
    m.coverageTodayPct = minOrNull(m.coverageTodayPct, st.coverageTodayPct);
  }
  const books = new Map<string, string>();
  for (const b of s.books) {
    books.set(`${b.market}\u0000${b.symbol}`, b.state);
    const m = marketOf(b.market);
    m.books++;
    if (b.state === "synced") m.booksSynced++;
  }
  const out: SymbolRow[] = [];
  for (const [key, { down, stale, ...r }] of rows) {
    const book = books.get(key);
    if (down.length > 0) {
      r.state = "down";
      r.problem = `${down.length === r.streams ? "all streams" : down.join(", ")} disconnected`;
    } else if (book !== undefined && book !== "synced") {
      r.state = "book";
      r.problem = `book ${book}`;
    } else if (stale.length > 0) {
      r.state = "stale";
      r.problem = `${stale.join(", ")} stale`;
    } else if (r.gapsToday > 0 || (r.coverageTodayPct ?? 100) < 100) {
      r.state = "gaps";
      r.problem = `${r.gapsToday} gap${r.gapsToday === 1 ? "" : "s"} today`;
    }
    out.push(r);
  }
  return { rows: out, markets: [...markets.values()].sort((a, b) => cmp(a.market, b.market)) };
}

/** Problems of the health verdict: the first `limit`, the collector-wide and book problems first. */
function topProblems(problems: readonly HealthProblem[], limit: number): HealthProblem[] {
  return [...problems].sort((a, b) => (a.symbol === null ? 0 : 1) - (b.symbol === null ? 0 : 1)).slice(
    0,
    limit,
  );
}

/**
 * The page's view of a snapshot.
 *
 * @example
 * ```ts
 * import { Histogram } from "./histogram.ts";
 * import type { StatusSnapshot } from "./snapshot.ts";
 *
 * const nowMs = Date.now();
 * const snapshot: StatusSnapshot = {
 *   version: "0.4.0", startedAtMs: nowMs - 60_000, nowMs,
 *   streams: [{
 *     market: "spot", symbol: "BTCUSDT", stream: "aggTrade", connected: true, stale: false, messages: 1234,
 *     bytes: 250_000, msgsPerSec: 20, lastMessageAgeMs: 40, gaps: 0, gapsToday: 0, coverageTodayPct: 100,
 *   }],
 *   books: [{ market: "spot", symbol: "BTCUSDT", state: "buffering", resyncs: 0 }],
 *   rest: [{ market: "spot", weightUsed: 25, weightLimit: 6000 }],
 *   clock: [],
 *   disk: null,
 *   journal: { unsyncedBytes: 0, sinceFsyncMs: 120, errors: 0 },
 *   flushes: { durations: new Histogram([0.1, 1]).snapshot(), failures: 0 },
 * };
 *
 * const source = { snapshot: () => snapshot }; // the collector's status source in production
 * const summary = summarizeStatus(await source.snapshot(), { symbols: 25 });
 * summary.symbols[0]!.symbol; // "BTCUSDT": the symbol most in trouble (its book is not synced yet)
 * summary.health.ok; // false
 * ```
 */
export function summarizeStatus(s: StatusSnapshot, options: SummaryOptions = {}): StatusSummary {
  const { symbols: limit = 25, problems: problemLimit = 20 } = options;
  const { rows, markets } = symbolRows(s);
  rows.sort(compareSymbolRows);
  const health = healthOf(s);
  const { streams: _streams, books: _books, ...rest } = s;
  const more = rows.slice(limit);
  return {
    ...rest,
    health: {
      ok: health.ok,
      problemCount: health.problems.length,
      problems: topProblems(health.problems, problemLimit),
    },
    markets,
    symbols: rows.slice(0, limit),
    moreSymbols: more.length,
    moreTroubled: more.filter((r) => r.state !== "ok").length,
  };
}

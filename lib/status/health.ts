/**
 * The `/health` verdict: healthy only when every enabled stream is live and every book is synced, so a
 * supervisor or uptime check sees a collector that runs but records nothing useful as down. Pure.
 * @module
 */

import type { Market } from "../binance/types.ts";
import type { StatusSnapshot } from "./snapshot.ts";

/** One reason the collector is not healthy. */
export interface HealthProblem {
  market: Market | null;
  symbol: string | null;
  /** The stream concerned, or null for a book or the whole collector. */
  stream: string | null;
  /** e.g. `disconnected`, `stale`, `book buffering`. */
  problem: string;
}

/** The body of `/health`. */
export interface Health {
  ok: boolean;
  problems: HealthProblem[];
}

/**
 * Judges a snapshot. A snapshot without streams is unhealthy: the collector has not planned any yet.
 *
 * @example
 * ```ts
 * const streams = [{
 *   market: "spot" as const, symbol: "BTCUSDT", stream: "depth@100ms", connected: true, stale: false,
 *   messages: 120, bytes: 48_000, msgsPerSec: 10, lastMessageAgeMs: 80, gaps: 0, gapsToday: 0,
 *   coverageTodayPct: 100,
 * }];
 * healthOf({ streams, books: [{ market: "spot", symbol: "BTCUSDT", state: "buffering", resyncs: 0 }] }).ok;
 * // false while a book is still buffering
 * healthOf({ streams, books: [{ market: "spot", symbol: "BTCUSDT", state: "synced", resyncs: 0 }] }).ok; // true
 * ```
 */
export function healthOf(s: Pick<StatusSnapshot, "streams" | "books">): Health {
  const problems: HealthProblem[] = [];
  if (s.streams.length === 0) {
    problems.push({ market: null, symbol: null, stream: null, problem: "no streams reported" });
  }
  for (const st of s.streams) {
    const at = { market: st.market, symbol: st.symbol, stream: st.stream };
    if (!st.connected) problems.push({ ...at, problem: "disconnected" });
    else if (st.stale) problems.push({ ...at, problem: "stale" });
  }
  for (const b of s.books) {
    if (b.state !== "synced") {
      problems.push({ market: b.market, symbol: b.symbol, stream: null, problem: `book ${b.state}` });
    }
  }
  return { ok: problems.length === 0, problems };
}

/**
 * The `market_*` totals of `/metrics`: a snapshot's streams and books counted per market and per (market,
 * stream kind), for dashboards and alerts that need no per-symbol series. Pure.
 * @module
 */

import type { StatusSnapshot, StreamStatus } from "./snapshot.ts";

/** A series' labels. */
export type Labels = Readonly<Record<string, string>>;

/** Totals of one (market, stream kind). */
export interface KindTotal {
  labels: Labels;
  streams: number;
  connected: number;
  stale: number;
  messages: number;
  bytes: number;
  gapsToday: number;
}

/** The streams totalled per (market, stream kind), in the order each pair first appears. */
export function kindTotals(streams: readonly StreamStatus[]): KindTotal[] {
  const totals = new Map<string, KindTotal>();
  for (const s of streams) {
    const key = `${s.market}\u0000${s.stream}`;
    let t = totals.get(key);
    if (t === undefined) {
      t = {
        labels: { market: s.market, stream: s.stream },
        streams: 0,
        connected: 0,
        stale: 0,
        messages: 0,
        bytes: 0,
        gapsToday: 0,
      };
      totals.set(key, t);
    }
    t.streams++;
    if (s.connected) t.connected++;
    if (s.connected && s.stale) t.stale++;
    t.messages += s.messages;
    t.bytes += s.bytes;
    t.gapsToday += s.gapsToday;
  }
  return [...totals.values()];
}

/** Totals of one market. */
export interface MarketTotal {
  labels: Labels;
  symbols: number;
  books: number;
  synced: number;
}

/** Each market's symbols (those with a stream), books and books in sync. */
export function marketTotals(s: StatusSnapshot): MarketTotal[] {
  const out = new Map<
    string,
    { labels: Labels; symbols: Set<string>; books: number; synced: number }
  >();
  const of = (market: string) => {
    let m = out.get(market);
    if (m === undefined) out.set(market, m = { labels: { market }, symbols: new Set(), books: 0, synced: 0 });
    return m;
  };
  for (const st of s.streams) of(st.market).symbols.add(st.symbol);
  for (const b of s.books) {
    const m = of(b.market);
    m.books++;
    if (b.state === "synced") m.synced++;
  }
  return [...out.values()].map((m) => ({
    labels: m.labels,
    symbols: m.symbols.size,
    books: m.books,
    synced: m.synced,
  }));
}

/**
 * Read models of a running collector for the status page, `/metrics`, Telegram and tests: per stream, per
 * symbol and per market. Each is one pass over the plan (no per-symbol scans of every stream), so they stay
 * cheap with thousands of symbols.
 * @module
 */
import type { StreamLiveness } from "../binance/liveness.ts";
import type { RestClient } from "../binance/rest.ts";
import type { PlannedStream, StreamPlan } from "../binance/stream_plan.ts";
import type { Market } from "../binance/types.ts";
import type { MarketConnections, Slot } from "./connections.ts";
import type { MarketNormalizer } from "./normalizer.ts";
import type { NormalizerStats } from "./normalizer_contract.ts";
import type { RateMeter } from "./rate_meter.ts";

/** A market as the read models see it. */
export interface ObservedMarket {
  market: Market;
  symbols: readonly string[];
  plan: StreamPlan;
  normalizer: MarketNormalizer;
  liveness: StreamLiveness;
  connections: MarketConnections;
  rest: RestClient;
}

/** One planned stream and where it stands. */
export interface StreamStatus {
  market: Market;
  symbol: string;
  stream: string;
  connected: boolean;
  stale: boolean;
  lastSeenUs: number;
  messages: number;
  bytes: number;
  gaps: number;
}

/** Where one (market, symbol) stands, for chat queries. */
export interface SymbolStatus {
  market: Market;
  symbol: string;
  connected: boolean;
  book: string | null;
  lastMessageAgeMs: number | null;
  msgsPerSec: number;
}

/** Status of one market, for reports and tests. */
export interface MarketStatus {
  market: Market;
  connections: { key: string; connId: number | null; state: string; replacing: boolean }[];
  books: { symbol: string; state: string; lastUpdateId: number; resyncs: number }[];
  stats: NormalizerStats;
}

/** The slot carrying each stream, by stream index. */
function slotsByStream(m: ObservedMarket): Map<number, Slot> {
  const out = new Map<number, Slot>();
  for (const slot of m.connections.slots) for (const ps of slot.plan.streams) out.set(ps.index, slot);
  return out;
}

/** Every planned stream with where it stands. */
export function streamStatus(markets: readonly ObservedMarket[]): StreamStatus[] {
  return markets.flatMap((m) => {
    const totals = m.normalizer.streamTotals();
    const slots = slotsByStream(m);
    return m.plan.streams.map((ps) => {
      const t = totals[ps.index]!;
      return {
        market: m.market,
        symbol: ps.symbol,
        stream: ps.stream,
        connected: slots.get(ps.index)?.active.state === "subscribed",
        stale: m.liveness.isStale(ps.index),
        lastSeenUs: m.liveness.lastSeenUs(ps.index),
        messages: t.messages,
        bytes: t.bytes,
        gaps: t.gaps,
      };
    });
  });
}

/** Per recorded (market, symbol): connection, book state, last message age and message rate. */
export function symbolStatus(
  markets: readonly ObservedMarket[],
  rates: RateMeter,
  nowMs: number,
): SymbolStatus[] {
  const out: SymbolStatus[] = [];
  for (const m of markets) {
    const totals = m.normalizer.streamTotals();
    const slots = slotsByStream(m);
    const bySymbol = new Map<string, PlannedStream[]>();
    for (const ps of m.plan.streams) {
      let list = bySymbol.get(ps.symbol);
      if (!list) bySymbol.set(ps.symbol, list = []);
      list.push(ps);
    }
    for (const symbol of m.symbols) {
      const streams = bySymbol.get(symbol) ?? [];
      let lastUs = -Infinity;
      let messages = 0;
      let connected = true;
      for (const ps of streams) {
        const seen = m.liveness.lastSeenUs(ps.index);
        if (Number.isFinite(seen) && seen > lastUs) lastUs = seen;
        messages += totals[ps.index]!.messages;
        if (slots.get(ps.index)?.active.state !== "subscribed") connected = false;
      }
      out.push({
        market: m.market,
        symbol,
        connected,
        book: m.normalizer.bookOf(symbol)?.state ?? null,
        lastMessageAgeMs: Number.isFinite(lastUs) ? Math.max(0, nowMs - lastUs / 1000) : null,
        msgsPerSec: rates.rate(`${m.market}/${symbol}`, messages, nowMs),
      });
    }
  }
  return out;
}

/** Best bid and ask of every synced book with both sides (the Telegram ticker); O(1) per book, no sorting. */
export function quotes(
  markets: readonly ObservedMarket[],
): { market: Market; symbol: string; bid: number; ask: number }[] {
  return markets.flatMap((m) =>
    m.symbols.flatMap((symbol) => {
      const b = m.normalizer.bookOf(symbol);
      const bid = b?.state === "synced" ? b.book.bestBid() : undefined;
      const ask = b?.state === "synced" ? b.book.bestAsk() : undefined;
      return bid === undefined || ask === undefined ? [] : [{ market: m.market, symbol, bid, ask }];
    })
  );
}

/** Where each market stands. */
export function marketStatus(markets: readonly ObservedMarket[]): MarketStatus[] {
  return markets.map((m) => ({
    market: m.market,
    connections: m.connections.slots.map((s) => ({
      key: s.plan.key,
      connId: s.active.connId,
      state: s.active.state,
      replacing: s.replacement !== null,
    })),
    books: m.symbols.flatMap((symbol) => {
      const b = m.normalizer.bookOf(symbol);
      return b
        ? [{ symbol, state: b.state, lastUpdateId: b.book.lastUpdateId, resyncs: b.counters.resyncs }]
        : [];
    }),
    stats: { ...m.normalizer.stats },
  }));
}

/** The REST clients' request-weight use. */
export function restWeights(
  markets: readonly ObservedMarket[],
): { market: Market; weightUsed: number; weightLimit: number }[] {
  return markets.map((m) => ({ market: m.market, weightUsed: m.rest.usedWeight, weightLimit: m.rest.limit }));
}

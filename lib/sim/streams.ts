/**
 * Stream names of the simulated exchange: which streams each market offers, their push cadences, the USD-M
 * routed-path category of each, and the per-symbol name strings (built once, reused for every event). COIN-M
 * has the USD-M streams and cadences on one unrouted endpoint.
 */
import { type Market, profile } from "../binance/markets.ts";

/** A diff-depth stream suffix and its batching window. */
export interface DepthSpeed {
  suffix: string;
  ms: number;
}

const FUTURES_DEPTH_SPEEDS: readonly DepthSpeed[] = [
  { suffix: "depth@100ms", ms: 100 },
  { suffix: "depth", ms: 250 },
  { suffix: "depth@500ms", ms: 500 },
];

/** Diff-depth streams: spot `@depth` is 1000 ms, futures `@depth` 250 ms (docs/binance-api.md §4). */
export const DEPTH_SPEEDS: Readonly<Record<Market, readonly DepthSpeed[]>> = {
  spot: [{ suffix: "depth@100ms", ms: 100 }, { suffix: "depth", ms: 1000 }],
  usdm: FUTURES_DEPTH_SPEEDS,
  coinm: FUTURES_DEPTH_SPEEDS,
};

/** The diff stream whose events the ground truth records as `diffs` (the wire `@depth@100ms` events). */
export const TRUTH_DEPTH_SPEED_MS = 100;

/**
 * The batching window of the truth's book replay: the greatest common divisor of the market's diff speeds, so
 * the final id of every diff event on every speed is the final id of one of these windows. Spot's is the 100 ms
 * stream itself; the futures markets (100/250/500 ms) need an internal 50 ms batcher whose events go to no
 * connection.
 */
export const TRUTH_BATCH_MS: Readonly<Record<Market, number>> = { spot: 100, usdm: 50, coinm: 50 };

/** A kline interval, its length and how often an open candle is pushed. */
export interface KlineInterval {
  name: string;
  ms: number;
  pushMs: number;
}

const FUTURES_KLINE_INTERVALS: readonly KlineInterval[] = [
  { name: "1m", ms: 60_000, pushMs: 250 },
  { name: "5m", ms: 300_000, pushMs: 250 },
  { name: "1h", ms: 3_600_000, pushMs: 250 },
];

/** Kline intervals offered; spot pushes every 1 s (`1s`) / 2 s, futures every 250 ms. Only spot has `1s`. */
export const KLINE_INTERVALS: Readonly<Record<Market, readonly KlineInterval[]>> = {
  spot: [
    { name: "1s", ms: 1000, pushMs: 1000 },
    { name: "1m", ms: 60_000, pushMs: 2000 },
    { name: "5m", ms: 300_000, pushMs: 2000 },
    { name: "1h", ms: 3_600_000, pushMs: 2000 },
  ],
  usdm: FUTURES_KLINE_INTERVALS,
  coinm: FUTURES_KLINE_INTERVALS,
};

/** The precomputed stream names of one (market, symbol). */
export interface SymbolStreams {
  /** Diff stream name per batching window (ms). */
  depth: ReadonlyMap<number, string>;
  aggTrade: string;
  trade: string;
  bookTicker: string;
  /** Kline stream name per interval name. */
  kline: ReadonlyMap<string, string>;
  markPrice1s: string;
  markPrice3s: string;
  forceOrder: string;
}

/**
 * Builds the stream names of a symbol (lower case symbol, as Binance names streams).
 *
 * @example
 * ```ts
 * symbolStreams("spot", "btcusdt").depth.get(100); // "btcusdt@depth@100ms"
 * ```
 */
export function symbolStreams(market: Market, lower: string): SymbolStreams {
  return {
    depth: new Map(DEPTH_SPEEDS[market].map((s) => [s.ms, `${lower}@${s.suffix}`])),
    aggTrade: `${lower}@aggTrade`,
    trade: `${lower}@trade`,
    bookTicker: `${lower}@bookTicker`,
    kline: new Map(KLINE_INTERVALS[market].map((k) => [k.name, `${lower}@kline_${k.name}`])),
    markPrice1s: `${lower}@markPrice@1s`,
    markPrice3s: `${lower}@markPrice`,
    forceOrder: `${lower}@forceOrder`,
  };
}

/** USD-M routed-path category of a connection (`legacy` = no `/public` or `/market` prefix). */
export type Route = "public" | "market" | "legacy";

/** Stream types served on USD-M `/public`; every other stream type belongs to `/market`. */
const PUBLIC_TYPES = /^(depth|bookTicker|rpiDepth)/;

/**
 * The USD-M route a stream must be subscribed on to receive data (docs/binance-api.md §1): depth and
 * bookTicker on `/public`, the rest on `/market`.
 *
 * @example
 * ```ts
 * usdmRouteOf("btcusdt@aggTrade"); // "market"
 * ```
 */
export function usdmRouteOf(stream: string): "public" | "market" {
  const type = stream.slice(stream.indexOf("@") + 1);
  return PUBLIC_TYPES.test(type) ? "public" : "market";
}

/**
 * True when a connection on `route` receives data of `stream` on `market`. Spot and COIN-M have one endpoint;
 * a USD-M connection without a routed path gets only `/public` data, as Binance does since 2026-04.
 */
export function routeDelivers(market: Market, route: Route, stream: string): boolean {
  if (!profile(market).routed) return true;
  const wanted = usdmRouteOf(stream);
  return route === "legacy" ? wanted === "public" : route === wanted;
}

/**
 * Normalizes a requested stream name: the symbol part is lower-cased; the rest is kept (kline `1M` is
 * case-sensitive). Returns null for a name that is not `<symbol>@<type>` or `!<all-market stream>`.
 *
 * @example
 * ```ts
 * normalizeStreamName("BTCUSDT@depth@100ms"); // "btcusdt@depth@100ms"
 * normalizeStreamName("nonsense");            // null
 * ```
 */
export function normalizeStreamName(name: string): string | null {
  if (name.length === 0 || name.length > 200 || /\s/.test(name)) return null;
  if (name.startsWith("!")) return name.length > 1 ? name : null;
  const at = name.indexOf("@");
  if (at <= 0 || at === name.length - 1) return null;
  return name.slice(0, at).toLowerCase() + name.slice(at);
}

/**
 * The markets the collector records, one profile each: every fact about a market lives in its entry here, and
 * the code elsewhere asks the profile instead of testing `market === "spot"`. Facts and their sources are in
 * docs/binance-api.md; docs/ADD_A_MARKET.md tells how to add one.
 * @module
 */

/** The markets the collector records. */
export type Market = "spot" | "usdm" | "coinm";

/** The markets, in the order they are listed everywhere. */
export const MARKETS: readonly Market[] = ["spot", "usdm", "coinm"];

/** A REST endpoint the collector calls. */
export type EndpointName =
  | "depth"
  | "exchangeInfo"
  | "time"
  | "aggTrades"
  | "klines"
  | "premiumIndex"
  | "fundingRate"
  | "ticker24h";

/**
 * How an endpoint's request weight is computed: `fixed`; `byLimit` (the first tier whose `upTo` is at least
 * the `limit` parameter, or the default limit when absent); `bySymbol` (with or without the `symbol` parameter).
 */
export type WeightRule =
  | { readonly kind: "fixed"; readonly weight: number }
  | {
    readonly kind: "byLimit";
    readonly defaultLimit: number;
    readonly tiers: readonly { readonly upTo: number; readonly weight: number }[];
  }
  | { readonly kind: "bySymbol"; readonly withSymbol: number; readonly withoutSymbol: number };

/** A budget that is not `REQUEST_WEIGHT` (USD-M `fundingRate` has its own). */
export type ExtraBudget = "fundingRate";

/** One REST endpoint: its path and weight. */
export interface Endpoint {
  readonly path: string;
  readonly weight: WeightRule;
  /** Counted against this budget instead of (or besides) the request weight. */
  readonly extraBudget?: ExtraBudget;
}

/** What a market is made of. */
export interface MarketProfile {
  readonly market: Market;
  /** For people: "Spot", "USD-M futures", "COIN-M futures". */
  readonly name: string;
  readonly restUrl: string;
  readonly wsUrl: string;
  /**
   * `futures`: diffs carry `pu` and `T` and chain by `pu == last u` (no spot `U <= L+1 <= u` rule); REST
   * snapshots carry `E` and `T`.
   */
  readonly family: "spot" | "futures";
  /** USD-M routes streams by category (`/public`, `/market`); the others have one endpoint. */
  readonly routed: boolean;
  /** Stored in the journal: never renumber (0 stays unused so zero-filled garbage is never a market). */
  readonly journalCode: number;
  /** `REQUEST_WEIGHT` per minute until exchangeInfo says otherwise. */
  readonly weightLimit: number;
  readonly endpoints: Readonly<Record<EndpointName, Endpoint | undefined>>;
  /** REST depth `limit`: the largest allowed, and the only values allowed if the market lists them. */
  readonly depthLimits: { readonly max: number; readonly allowed?: readonly number[] };
  /** Stream kinds (the part after `<symbol>@`, klines as `kline_<interval>`) the market offers. */
  readonly streams: readonly string[];
  readonly klineIntervals: readonly string[];
  /** Streams recorded when the config does not list its own. */
  readonly defaultStreams: readonly string[];
  /** JSON control messages per second per connection (pongs included). */
  readonly controlMessagesPerSecond: number;
  /** Streams the collector puts on one connection (at most what Binance allows). */
  readonly streamsPerConnection: number;
  /** What depth, trade, ticker and liquidation quantities count: coins, or contracts of `contractSize` USD. */
  readonly quantity: "base asset" | "contracts";
  /** Perpetuals pay funding (and have mark prices with funding rates); delivery contracts do not. */
  readonly funding: boolean;
  /** Spot sends `serverShutdown` before a maintenance restart. */
  readonly serverShutdown: boolean;
}

const fixed = (weight: number): WeightRule => ({ kind: "fixed", weight });
const FUTURES_DEPTH_WEIGHT: WeightRule = {
  kind: "byLimit",
  defaultLimit: 500,
  tiers: [{ upTo: 50, weight: 2 }, { upTo: 100, weight: 5 }, { upTo: 500, weight: 10 }, {
    upTo: Infinity,
    weight: 20,
  }],
};
// Futures klines weigh by limit: [1,100) 1, [100,500) 2, [500,1000] 5, above 10.
const FUTURES_KLINES_WEIGHT: WeightRule = {
  kind: "byLimit",
  defaultLimit: 500,
  tiers: [{ upTo: 99, weight: 1 }, { upTo: 499, weight: 2 }, { upTo: 1000, weight: 5 }, {
    upTo: Infinity,
    weight: 10,
  }],
};
const FUTURES_KLINE_INTERVALS = [
  "1m",
  "3m",
  "5m",
  "15m",
  "30m",
  "1h",
  "2h",
  "4h",
  "6h",
  "8h",
  "12h",
  "1d",
  "3d",
  "1w",
  "1M",
];
const FUTURES_DEPTH_LIMITS = { max: 1000, allowed: [5, 10, 20, 50, 100, 500, 1000] };
const FUTURES_STREAMS = [
  "depth",
  "depth@100ms",
  "depth@500ms",
  "aggTrade",
  "bookTicker",
  "forceOrder",
  "markPrice",
  "markPrice@1s",
];
const FUTURES_DEFAULT_STREAMS = [
  "depth@100ms",
  "aggTrade",
  "kline_1m",
  "bookTicker",
  "forceOrder",
  "markPrice@1s",
];

/** The profiles. */
export const PROFILES: Readonly<Record<Market, MarketProfile>> = {
  spot: {
    market: "spot",
    name: "Spot",
    restUrl: "https://api.binance.com",
    wsUrl: "wss://stream.binance.com:9443",
    family: "spot",
    routed: false,
    journalCode: 1,
    weightLimit: 6000,
    endpoints: {
      // Since 2023-10-19; a limit above 5000 is truncated to 5000 by the server.
      depth: {
        path: "/api/v3/depth",
        weight: {
          kind: "byLimit",
          defaultLimit: 100,
          tiers: [{ upTo: 100, weight: 5 }, { upTo: 500, weight: 25 }, { upTo: 1000, weight: 50 }, {
            upTo: Infinity,
            weight: 250,
          }],
        },
      },
      exchangeInfo: { path: "/api/v3/exchangeInfo", weight: fixed(20) },
      time: { path: "/api/v3/time", weight: fixed(1) },
      aggTrades: { path: "/api/v3/aggTrades", weight: fixed(4) },
      klines: { path: "/api/v3/klines", weight: fixed(2) },
      premiumIndex: undefined,
      fundingRate: undefined,
      // All symbols (no `symbol`): 80; one symbol: 2.
      ticker24h: {
        path: "/api/v3/ticker/24hr",
        weight: { kind: "bySymbol", withSymbol: 2, withoutSymbol: 80 },
      },
    },
    depthLimits: { max: 5000 },
    streams: ["depth", "depth@100ms", "aggTrade", "trade", "bookTicker"],
    klineIntervals: ["1s", ...FUTURES_KLINE_INTERVALS],
    defaultStreams: ["depth@100ms", "aggTrade", "kline_1m", "bookTicker"],
    controlMessagesPerSecond: 5,
    streamsPerConnection: 1024,
    quantity: "base asset",
    funding: false,
    serverShutdown: true,
  },
  usdm: {
    market: "usdm",
    name: "USD-M futures",
    restUrl: "https://fapi.binance.com",
    wsUrl: "wss://fstream.binance.com",
    family: "futures",
    routed: true,
    journalCode: 2,
    weightLimit: 2400,
    endpoints: {
      depth: { path: "/fapi/v1/depth", weight: FUTURES_DEPTH_WEIGHT },
      exchangeInfo: { path: "/fapi/v1/exchangeInfo", weight: fixed(1) },
      time: { path: "/fapi/v1/time", weight: fixed(1) },
      aggTrades: { path: "/fapi/v1/aggTrades", weight: fixed(20) },
      klines: { path: "/fapi/v1/klines", weight: FUTURES_KLINES_WEIGHT },
      premiumIndex: {
        path: "/fapi/v1/premiumIndex",
        weight: { kind: "bySymbol", withSymbol: 1, withoutSymbol: 10 },
      },
      // No REQUEST_WEIGHT: it shares 500 per 5 min per IP with /fapi/v1/fundingInfo instead.
      fundingRate: { path: "/fapi/v1/fundingRate", weight: fixed(0), extraBudget: "fundingRate" },
      ticker24h: {
        path: "/fapi/v1/ticker/24hr",
        weight: { kind: "bySymbol", withSymbol: 1, withoutSymbol: 40 },
      },
    },
    depthLimits: FUTURES_DEPTH_LIMITS,
    streams: FUTURES_STREAMS,
    klineIntervals: FUTURES_KLINE_INTERVALS,
    defaultStreams: FUTURES_DEFAULT_STREAMS,
    controlMessagesPerSecond: 10,
    streamsPerConnection: 1024,
    quantity: "base asset",
    funding: true,
    serverShutdown: false,
  },
  coinm: {
    market: "coinm",
    name: "COIN-M futures",
    restUrl: "https://dapi.binance.com",
    wsUrl: "wss://dstream.binance.com",
    family: "futures",
    routed: false,
    journalCode: 3,
    weightLimit: 6000,
    endpoints: {
      depth: { path: "/dapi/v1/depth", weight: FUTURES_DEPTH_WEIGHT },
      exchangeInfo: { path: "/dapi/v1/exchangeInfo", weight: fixed(1) },
      time: { path: "/dapi/v1/time", weight: fixed(1) },
      aggTrades: { path: "/dapi/v1/aggTrades", weight: fixed(20) },
      klines: { path: "/dapi/v1/klines", weight: FUTURES_KLINES_WEIGHT },
      // Always an array, and weight 10 with or without a symbol.
      premiumIndex: { path: "/dapi/v1/premiumIndex", weight: fixed(10) },
      fundingRate: { path: "/dapi/v1/fundingRate", weight: fixed(1) },
      ticker24h: {
        path: "/dapi/v1/ticker/24hr",
        weight: { kind: "bySymbol", withSymbol: 1, withoutSymbol: 40 },
      },
    },
    depthLimits: FUTURES_DEPTH_LIMITS,
    streams: FUTURES_STREAMS,
    klineIntervals: FUTURES_KLINE_INTERVALS,
    defaultStreams: FUTURES_DEFAULT_STREAMS,
    controlMessagesPerSecond: 10,
    // The current page says 1024, an older copy of it 200: the lower costs a few connections, never a refusal.
    streamsPerConnection: 200,
    quantity: "contracts",
    funding: true,
    serverShutdown: false,
  },
};

/**
 * The profile of a market.
 *
 * @example
 * ```ts
 * profile("coinm").restUrl; // "https://dapi.binance.com"
 * profile("spot").family; // "spot"
 * ```
 */
export function profile(market: Market): MarketProfile {
  return PROFILES[market];
}

/** True for the markets whose order books follow the futures rules (`pu` chains). */
export function isFutures(market: Market): boolean {
  return PROFILES[market].family === "futures";
}

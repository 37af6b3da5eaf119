/**
 * Stream planning: turns one market's resolved config into combined-stream names, groups them into connection
 * plans (routed per USD-M category, at most 1024 streams each) and builds the reverse routing table that the
 * normalizer uses to route a frame by its `stream` field without taking the name apart in the hot path.
 *
 * Pure: no sockets, no clock.
 */
import { type Market, MARKETS, PROFILES } from "./markets.ts";

/** Binance's limit on streams per WebSocket connection (every market alike; docs/binance-api.md §2, §9). */
export const MAX_STREAMS_PER_CONNECTION = 1024;

/** The kinds of market-data stream the collector subscribes to. */
export type StreamKind = "depth" | "aggTrade" | "trade" | "kline" | "bookTicker" | "forceOrder" | "markPrice";

/** USD-M routed endpoint category; spot and COIN-M have a single unrouted endpoint (`null`). */
export type Route = "public" | "market" | null;

/** One market's resolved stream config. */
export interface MarketStreamConfig {
  market: Market;
  /** Base WebSocket URL without a path, e.g. `wss://fstream.binance.com`. */
  wsUrl: string;
  /** Symbols as configured (upper case, possibly non-ASCII such as `测试USDT`). */
  symbols: readonly string[];
  /** Stream suffixes, e.g. `depth@100ms`, `aggTrade`, `kline_1m`, `bookTicker`, `forceOrder`, `markPrice@1s`. */
  streams: readonly string[];
}

/** One subscribed stream. */
export interface PlannedStream {
  /** Dense index over all streams of the plan (0..n-1); liveness and per-stream state use it. */
  index: number;
  /** Combined-stream name, e.g. `btcusdt@depth@100ms`; what Binance echoes in the `stream` field. */
  name: string;
  /** Symbol as configured (upper case). */
  symbol: string;
  /** The configured suffix, e.g. `depth@100ms`. */
  stream: string;
  kind: StreamKind;
  /** The kind's parameter: kline interval (`1m`), depth or markPrice speed (`100ms`, `1s`); `""` if none. */
  param: string;
}

/** The streams of one WebSocket connection. */
export interface ConnectionPlan {
  /** Stable label, e.g. `usdm/public/0`; the same plan keeps it across reconnects and rotations. */
  key: string;
  market: Market;
  route: Route;
  /** Combined-stream endpoint (no streams in the URL; they are subscribed after open). */
  url: string;
  streams: readonly PlannedStream[];
}

/** The full plan for one market. */
export interface StreamPlan {
  market: Market;
  /** Every stream, indexed by {@link PlannedStream.index}. */
  streams: readonly PlannedStream[];
  connections: readonly ConnectionPlan[];
  /** Combined-stream name → stream, for routing frames by their `stream` field. */
  routes: ReadonlyMap<string, PlannedStream>;
  /** What the plan was made from, so that {@link extendPlan} adds symbols the same way. */
  readonly source: MarketStreamConfig & { readonly maxStreamsPerConnection: number };
}

/** The config cannot be turned into a valid subscription plan. */
export class StreamPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StreamPlanError";
  }
}

/** Options for {@link planStreams}. */
export interface PlanOptions {
  /** Streams per connection; lower it in tests. @default 1024 */
  maxStreamsPerConnection?: number;
}

/**
 * Lower-cases ASCII letters only. `String.prototype.toLowerCase` would also fold non-ASCII letters (fullwidth
 * `Ａ`, Greek `Σ`, Turkish `İ` → two code points), producing names Binance does not know.
 *
 * @example
 * ```ts
 * asciiLower("测试USDT"); // "测试usdt"
 * ```
 */
export function asciiLower(symbol: string): string {
  return symbol.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/**
 * Every per-symbol stream kind, with its kind and parameter (docs/binance-api.md §4, §5); which market offers which
 * is the market profile's `streams` (markets.ts). Only documented diff-depth speeds: `depth` alone is 1000 ms on
 * spot and 250 ms on the futures markets.
 */
const STREAMS: Readonly<Record<string, { kind: StreamKind; param: string }>> = {
  "depth": { kind: "depth", param: "" },
  "depth@100ms": { kind: "depth", param: "100ms" },
  "depth@500ms": { kind: "depth", param: "500ms" },
  "aggTrade": { kind: "aggTrade", param: "" },
  "trade": { kind: "trade", param: "" },
  "bookTicker": { kind: "bookTicker", param: "" },
  "forceOrder": { kind: "forceOrder", param: "" },
  "markPrice": { kind: "markPrice", param: "" },
  "markPrice@1s": { kind: "markPrice", param: "1s" },
};

const INTERVAL_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Length of a kline interval in ms (`1s`, `15m`, `4h`, `1d`, `1w`); null for months, which vary.
 *
 * @example
 * ```ts
 * klineIntervalMs("15m"); // 900000
 * klineIntervalMs("1M"); // null
 * ```
 */
export function klineIntervalMs(interval: string): number | null {
  const m = /^(\d+)([smhdw])$/.exec(interval);
  return m ? Number(m[1]) * INTERVAL_MS[m[2]!]! : null;
}

/**
 * Parses a stream suffix into its kind and parameter, checking that the market offers it. This table is the one
 * authority on recordable streams: the config validates against it.
 *
 * @throws {StreamPlanError} for an unknown suffix or one the market does not offer
 * @example
 * ```ts
 * parseStream("kline_1m", "spot"); // { kind: "kline", param: "1m" }
 * ```
 */
export function parseStream(stream: string, market: Market): { kind: StreamKind; param: string } {
  if (stream.startsWith("kline_")) {
    const param = stream.slice(6);
    const intervals = PROFILES[market].klineIntervals;
    if (!intervals.includes(param)) {
      throw new StreamPlanError(
        `"${stream}": no such ${market} kline interval; valid: ${intervals.join(", ")}`,
      );
    }
    return { kind: "kline", param };
  }
  const known = Object.hasOwn(STREAMS, stream) ? STREAMS[stream] : undefined;
  if (!known) {
    throw new StreamPlanError(
      `unknown stream "${stream}"; known: ${Object.keys(STREAMS).join(", ")}, kline_<interval>`,
    );
  }
  if (!PROFILES[market].streams.includes(stream)) {
    const offering = MARKETS.filter((m) => PROFILES[m].streams.includes(stream));
    throw new StreamPlanError(`"${stream}" is a ${offering.join("/")} stream, not available on ${market}`);
  }
  return { kind: known.kind, param: known.param };
}

/**
 * The routed category of a stream kind on a routed market (USD-M; docs/binance-api.md §1: depth and bookTicker are
 * high-frequency, `/public`), null on the others.
 */
export function routeOf(market: Market, kind: StreamKind): Route {
  if (!PROFILES[market].routed) return null;
  return kind === "depth" || kind === "bookTicker" ? "public" : "market";
}

/** Combined-stream endpoint for a route. */
function endpointUrl(wsUrl: string, route: Route): string {
  const base = wsUrl.replace(/\/+$/, "");
  return route === null ? `${base}/stream` : `${base}/${route}/stream`;
}

/**
 * Builds the plan for one market: stream names (symbol-major, in config order), connections per route with at
 * most `maxStreamsPerConnection` streams each, and the routing table.
 *
 * @throws {StreamPlanError} on an empty, malformed or duplicate symbol or stream
 * @example
 * ```ts
 * const plan = planStreams({
 *   market: "usdm", wsUrl: "wss://fstream.binance.com", symbols: ["BTCUSDT"], streams: ["depth@100ms", "aggTrade"],
 * });
 * plan.connections.map((c) => c.url);
 * // ["wss://fstream.binance.com/public/stream", "wss://fstream.binance.com/market/stream"]
 * ```
 */
export function planStreams(config: MarketStreamConfig, options: PlanOptions = {}): StreamPlan {
  const asked = options.maxStreamsPerConnection ?? MAX_STREAMS_PER_CONNECTION;
  if (!Number.isInteger(asked) || asked < 1 || asked > MAX_STREAMS_PER_CONNECTION) {
    throw new RangeError(
      `Cannot plan streams as 'maxStreamsPerConnection' must be an integer in 1..${MAX_STREAMS_PER_CONNECTION}: current value is ${asked}`,
    );
  }
  const max = Math.min(asked, PROFILES[config.market].streamsPerConnection);
  const plan: StreamPlan = {
    market: config.market,
    streams: [],
    connections: [],
    routes: new Map(),
    source: { ...config, symbols: [], maxStreamsPerConnection: max },
  };
  extendPlan(plan, config.symbols);
  return plan;
}

/**
 * Adds the streams of `symbols` that the plan does not have yet (a symbol planned before is skipped), on new
 * connections after the existing ones (keys count on per route, so the same additions in the same order give
 * the same plan: a journal replay rebuilds it). Returns the new connections.
 *
 * @example
 * ```ts
 * const plan = planStreams({ market: "spot", wsUrl: "wss://x", symbols: ["BTCUSDT"], streams: ["aggTrade"] });
 * extendPlan(plan, ["ETHUSDT"]).map((c) => c.key); // ["spot/stream/1"]
 * ```
 */
export function extendPlan(plan: StreamPlan, symbols: readonly string[]): ConnectionPlan[] {
  const { market, wsUrl } = plan.source;
  const max = plan.source.maxStreamsPerConnection;
  const kinds = plan.source.streams.map((s) => ({ stream: s, ...parseStream(s, market) }));
  const dup = plan.source.streams.find((s, i) => plan.source.streams.indexOf(s) !== i);
  if (dup !== undefined) throw new StreamPlanError(`Cannot plan ${market} stream "${dup}": listed twice`);
  const streams = plan.streams as PlannedStream[];
  const routes = plan.routes as Map<string, PlannedStream>;
  const added: PlannedStream[] = [];
  const seen = new Set<string>();
  for (const symbol of symbols) {
    // `@` and `/` would corrupt stream names and URLs; whitespace is never part of a Binance symbol.
    if (symbol === "" || /[@/\s]/u.test(symbol)) {
      throw new StreamPlanError(
        `Cannot plan ${market} symbol "${symbol}": empty or contains '@', '/' or space`,
      );
    }
    const lower = asciiLower(symbol);
    if (seen.has(lower)) {
      throw new StreamPlanError(`Cannot plan ${market} stream "${lower}@${kinds[0]?.stream}": listed twice`);
    }
    seen.add(lower);
    for (const { stream, kind, param } of kinds) {
      const name = `${lower}@${stream}`;
      if (routes.has(name)) continue; // planned before (a symbol that trades again)
      const planned: PlannedStream = { index: streams.length, name, symbol, stream, kind, param };
      streams.push(planned);
      routes.set(name, planned);
      added.push(planned);
    }
  }
  const byRoute = new Map<Route, PlannedStream[]>();
  for (const s of added) {
    const route = routeOf(market, s.kind);
    const list = byRoute.get(route);
    if (list === undefined) byRoute.set(route, [s]);
    else list.push(s);
  }
  const connections = plan.connections as ConnectionPlan[];
  const fresh: ConnectionPlan[] = [];
  for (const [route, list] of byRoute) {
    const url = endpointUrl(wsUrl, route);
    let n = connections.filter((c) => c.route === route).length;
    for (let at = 0; at < list.length; at += max, n++) {
      const c: ConnectionPlan = {
        key: `${market}/${route ?? "stream"}/${n}`,
        market,
        route,
        url,
        streams: list.slice(at, at + max),
      };
      connections.push(c);
      fresh.push(c);
    }
  }
  return fresh;
}

/**
 * The simulated REST API (sans-I/O): a request (market, method, path, query, time) in, a response or a "hang"
 * verdict out. Endpoints, weights, defaults and error bodies follow docs/binance-api.md §3; every response
 * carries `X-MBX-USED-WEIGHT-1M`; 429/418 come from the weight limiter; the `rest` and `staleSnapshots` fault
 * switches are applied here. `ticker/24hr` weights: spot 2 for one symbol, 2/40/80 for 1–20/21–100/more
 * `symbols`, 80 for all; futures 1 for one symbol, 40 otherwise. COIN-M (`/dapi/v1`) answers `ticker/24hr` and
 * `premiumIndex` with an array always (and both take `pair`), weighs `premiumIndex` 10 and `fundingRate` 1
 * (with a mandatory `symbol`), and ignores exchangeInfo parameters, as Binance does.
 */
import type { Market } from "../binance/markets.ts";
import type { Exchange, ListedSymbol } from "./exchange.ts";
import { exchangeInfo } from "./exchange_info.ts";
import { type Faults, targets } from "./faults.ts";
import type { Prng } from "./prng.ts";
import { WeightLimiter } from "./rate_limit.ts";
import { aggTradesBody, depthBody, fundingRateBody, klinesBody, premiumIndexItem } from "./rest_bodies.ts";
import {
  boundedLimit,
  error,
  intParam,
  ok,
  parseSymbolList,
  type RestOutcome,
  RestRequestError,
  tiered,
} from "./rest_params.ts";
import { KLINE_INTERVALS } from "./streams.ts";
import type { SymbolEngine } from "./symbol_engine.ts";
import { ticker24h, type TickerType } from "./ticker_24h.ts";
import { SYMBOL_STATUSES, type SymbolStatus } from "./universe.ts";

/** Rate limits of the simulated REST API. */
export interface RestLimits {
  /** REQUEST_WEIGHT per minute (Binance: spot 6000, USD-M 2400, COIN-M 6000). */
  weightPerMinute: Readonly<Record<Market, number>>;
  /** First ban's length after ignoring a 429 (Binance: 2 minutes). */
  banMs: number;
}

interface Route {
  weight: (q: URLSearchParams) => number;
  handle: (q: URLSearchParams, now: number) => string;
}

const FUTURES_DEPTH_LIMITS = [5, 10, 20, 50, 100, 500, 1000];
/** USD-M `fundingRate` has its own budget: 500 requests per 5 minutes per IP, shared with fundingInfo. */
const FUNDING_BUDGET = { limit: 500, windowMs: 300_000 };

/**
 * REST endpoints of the three markets.
 *
 * @example
 * ```ts
 * import { Exchange } from "./exchange.ts";
 * import { noFaults } from "./faults.ts";
 * import { Prng } from "./prng.ts";
 * const exchange = new Exchange({ symbols: ["BTCUSDT", "BTCUSD_PERP"] }, Date.now());
 * const api = new RestApi(exchange, noFaults(), new Prng(1), {
 *   weightPerMinute: { spot: 6000, usdm: 2400, coinm: 6000 },
 *   banMs: 120_000,
 * });
 * api.handle("spot", "GET", "/api/v3/time", new URLSearchParams(), Date.now());
 * api.handle("coinm", "GET", "/dapi/v1/depth", new URLSearchParams("symbol=BTCUSD_PERP&limit=5"), Date.now());
 * ```
 */
export class RestApi {
  readonly #exchange: Exchange;
  readonly #faults: Faults;
  readonly #rng: Prng;
  readonly #limiters: Record<Market, WeightLimiter>;
  readonly #fundingLimiter: WeightLimiter;
  readonly #routes: Record<Market, Map<string, Route>>;
  readonly #weightPerMinute: Readonly<Record<Market, number>>;

  constructor(exchange: Exchange, faults: Faults, rng: Prng, limits: RestLimits) {
    this.#exchange = exchange;
    this.#faults = faults;
    this.#rng = rng;
    this.#weightPerMinute = limits.weightPerMinute;
    const limiter = (m: Market) => new WeightLimiter(limits.weightPerMinute[m], 60_000, limits.banMs);
    this.#limiters = { spot: limiter("spot"), usdm: limiter("usdm"), coinm: limiter("coinm") };
    this.#fundingLimiter = new WeightLimiter(FUNDING_BUDGET.limit, FUNDING_BUDGET.windowMs, limits.banMs);
    this.#routes = { spot: this.#spotRoutes(), usdm: this.#usdmRoutes(), coinm: this.#coinmRoutes() };
  }

  /** Handles one request; `path` is relative to the market prefix (e.g. `/api/v3/depth`). */
  handle(market: Market, method: string, path: string, query: URLSearchParams, now: number): RestOutcome {
    const limiter = this.#limiters[market];
    const fault = this.#faults.rest;
    if (fault !== null && (fault.market === undefined || fault.market === market)) {
      const rng = this.#rng;
      if (rng.chance(fault.hangProbability ?? 0)) return { kind: "hang", ms: fault.hangMs ?? 30_000 };
      if (rng.chance(fault.errorProbability ?? 0)) {
        return error(503, -1008, "Service Unavailable.", limiter.used(now));
      }
      if (rng.chance(fault.rateLimitProbability ?? 0)) {
        return error(
          429,
          -1003,
          "Too many requests; please use the websocket for live updates.",
          limiter.used(now),
          1,
        );
      }
    }
    const route = this.#routes[market].get(path);
    if (route === undefined) return error(404, -1000, `Unknown endpoint ${path}.`, limiter.used(now));
    if (method !== "GET") return error(405, -1000, `Method ${method} is not allowed.`, limiter.used(now));
    let weight: number;
    try {
      weight = route.weight(query);
    } catch (e) {
      if (e instanceof RestRequestError) return error(e.status, e.code, e.message, limiter.used(now));
      throw e;
    }
    const verdict = limiter.charge(weight, now);
    if (verdict.status === 429) {
      return error(
        429,
        -1003,
        "Too many requests; current limit of IP is exceeded.",
        verdict.used,
        verdict.retryAfterSec,
      );
    }
    if (verdict.status === 418) {
      return error(418, -1003, "Way too many requests; IP banned.", verdict.used, verdict.retryAfterSec);
    }
    if (market === "usdm" && path === "/fapi/v1/fundingRate") {
      const funding = this.#fundingLimiter.charge(1, now);
      if (funding.status !== 200) {
        return error(
          funding.status,
          -1003,
          "Too many fundingRate requests.",
          verdict.used,
          funding.retryAfterSec,
        );
      }
    }
    try {
      return ok(route.handle(query, now), verdict.used);
    } catch (e) {
      if (e instanceof RestRequestError) return error(e.status, e.code, e.message, verdict.used);
      throw e;
    }
  }

  #spotRoutes(): Map<string, Route> {
    const market: Market = "spot";
    return new Map<string, Route>([
      ["/api/v3/ping", { weight: () => 1, handle: () => "{}" }],
      ["/api/v3/time", { weight: () => 1, handle: (_q, now) => `{"serverTime":${now}}` }],
      ["/api/v3/exchangeInfo", { weight: () => 20, handle: (q, now) => this.#exchangeInfo(market, q, now) }],
      ["/api/v3/depth", {
        weight: (q) =>
          tiered(Math.min(intParam(q, "limit") ?? 100, 5000), [[100, 5], [500, 25], [1000, 50]], 250),
        handle: (q, now) => this.#depth(market, q, now),
      }],
      ["/api/v3/aggTrades", { weight: () => 4, handle: (q) => this.#aggTrades(market, q) }],
      ["/api/v3/klines", { weight: () => 2, handle: (q) => this.#klines(market, q, 1000) }],
      ["/api/v3/ticker/24hr", {
        weight: (q) =>
          q.has("symbol")
            ? 2
            : q.has("symbols")
            ? tiered(parseSymbolList(q.get("symbols")!).length, [[20, 2], [100, 40]], 80)
            : 80,
        handle: (q, now) => this.#ticker24h(market, q, now),
      }],
    ]);
  }

  /** The endpoints USD-M (`/fapi/v1`) and COIN-M (`/dapi/v1`) share, with the same weights. */
  #futuresRoutes(market: Market, prefix: string): [string, Route][] {
    return [
      [`${prefix}/ping`, { weight: () => 1, handle: () => "{}" }],
      [`${prefix}/time`, { weight: () => 1, handle: (_q, now) => `{"serverTime":${now}}` }],
      [`${prefix}/exchangeInfo`, { weight: () => 1, handle: (q, now) => this.#exchangeInfo(market, q, now) }],
      [`${prefix}/depth`, {
        weight: (q) => tiered(intParam(q, "limit") ?? 500, [[50, 2], [100, 5], [500, 10]], 20),
        handle: (q, now) => this.#depth(market, q, now),
      }],
      [`${prefix}/aggTrades`, { weight: () => 20, handle: (q) => this.#aggTrades(market, q) }],
      [`${prefix}/klines`, {
        weight: (q) => tiered(intParam(q, "limit") ?? 500, [[99, 1], [499, 2], [1000, 5]], 10),
        handle: (q) => this.#klines(market, q, 1500),
      }],
      [`${prefix}/ticker/24hr`, {
        weight: (q) => (q.has("symbol") ? 1 : 40),
        handle: (q, now) => this.#ticker24h(market, q, now),
      }],
    ];
  }

  #usdmRoutes(): Map<string, Route> {
    const seed = this.#exchange.seed;
    return new Map<string, Route>([
      ...this.#futuresRoutes("usdm", "/fapi/v1"),
      ["/fapi/v1/premiumIndex", {
        weight: (q) => (q.has("symbol") ? 1 : 10),
        handle: (q, now) => {
          const items = this.#futuresEngines("usdm", q).map((e) => premiumIndexItem(seed, e, now));
          return q.has("symbol") ? items[0]! : `[${items.join(",")}]`;
        },
      }],
      ["/fapi/v1/fundingRate", {
        weight: () => 0,
        handle: (q, now) => fundingRateBody(seed, this.#futuresEngines("usdm", q), fundingQuery(q), now),
      }],
    ]);
  }

  #coinmRoutes(): Map<string, Route> {
    const seed = this.#exchange.seed;
    return new Map<string, Route>([
      ...this.#futuresRoutes("coinm", "/dapi/v1"),
      ["/dapi/v1/premiumIndex", {
        weight: () => 10,
        handle: (q, now) =>
          `[${this.#futuresEngines("coinm", q).map((e) => premiumIndexItem(seed, e, now)).join(",")}]`,
      }],
      ["/dapi/v1/fundingRate", {
        weight: () => 1,
        handle: (q, now) => fundingRateBody(seed, [this.#engine("coinm", q)], fundingQuery(q), now),
      }],
    ]);
  }

  #engine(market: Market, q: URLSearchParams): SymbolEngine {
    const symbol = q.get("symbol");
    if (symbol === null || symbol === "") {
      throw new RestRequestError(
        -1102,
        "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
      );
    }
    const engine = this.#exchange.engine(market, symbol);
    if (engine === undefined) throw new RestRequestError(-1121, "Invalid symbol.");
    return engine;
  }

  /**
   * The symbols a request names with `symbol`, `symbols` (where `many` is allowed) or, on COIN-M, `pair`; all
   * when none.
   */
  #listed(market: Market, q: URLSearchParams, many: boolean): ListedSymbol[] {
    const one = q.get("symbol");
    const list = many ? q.get("symbols") : null;
    const pair = market === "coinm" ? q.get("pair") : null;
    if (one !== null && pair !== null) {
      throw new RestRequestError(-1128, "Combination of optional parameters invalid.");
    }
    if (pair !== null) {
      const listed = this.#exchange.listed(market).filter((l) => l.engine.spec.pair === pair);
      if (listed.length === 0) throw new RestRequestError(-4087, "Invalid pair.");
      return listed;
    }
    if (one === null && list === null) return this.#exchange.listed(market);
    const wanted = one !== null ? [one] : parseSymbolList(list!);
    return wanted.map((symbol) => {
      const listed = this.#exchange.listing(market, symbol);
      if (listed === undefined) throw new RestRequestError(-1121, "Invalid symbol.");
      return listed;
    });
  }

  /** The futures symbols of a `premiumIndex` or USD-M `fundingRate` request. */
  #futuresEngines(market: Market, q: URLSearchParams): SymbolEngine[] {
    return this.#listed(market, q, false).map((l) => l.engine);
  }

  #exchangeInfo(market: Market, q: URLSearchParams, now: number): string {
    // COIN-M exchangeInfo takes no parameters (and its contract types rank every contract of a pair).
    let listed = market === "coinm" ? this.#exchange.listed(market) : this.#listed(market, q, true);
    const wanted = market === "spot" ? q.get("symbolStatus") : null;
    if (wanted !== null) {
      if (q.has("symbol") || q.has("symbols")) {
        throw new RestRequestError(-1128, "Combination of optional parameters invalid.");
      }
      if (!SYMBOL_STATUSES.includes(wanted as SymbolStatus)) {
        throw new RestRequestError(-1100, "Illegal characters found in parameter 'symbolStatus'.");
      }
      listed = listed.filter((l) => l.status === wanted);
    }
    const settings = { weightPerMinute: this.#weightPerMinute[market], serverTime: now };
    return JSON.stringify(exchangeInfo(market, listed, settings));
  }

  #ticker24h(market: Market, q: URLSearchParams, now: number): string {
    const type = market === "spot" ? q.get("type") ?? "FULL" : "FULL";
    if (type !== "FULL" && type !== "MINI") {
      throw new RestRequestError(
        -1100,
        "Illegal characters found in parameter 'type'; legal range is 'FULL, MINI'.",
      );
    }
    const items = this.#listed(market, q, market === "spot").map((l) =>
      ticker24h(market, l, now, type as TickerType)
    );
    return q.has("symbol") && market !== "coinm" ? items[0]! : `[${items.join(",")}]`;
  }

  #depth(market: Market, q: URLSearchParams, now: number): string {
    const engine = this.#engine(market, q);
    let limit: number;
    if (market === "spot") {
      limit = Math.min(intParam(q, "limit") ?? 100, 5000);
      if (limit < 1) throw new RestRequestError(-1100, "Illegal characters found in parameter 'limit'.");
    } else {
      limit = intParam(q, "limit") ?? 500;
      if (!FUTURES_DEPTH_LIMITS.includes(limit)) {
        throw new RestRequestError(-1130, "Data sent for parameter 'limit' is not valid.");
      }
    }
    const stale = this.#faults.staleSnapshots;
    const useStale = stale !== null && targets(stale, engine.spec) &&
      this.#rng.chance(stale.probability ?? 1);
    const book = useStale ? engine.staleSnapshot(limit) : engine.snapshot(limit, now);
    return depthBody(engine.spec, book, now);
  }

  #aggTrades(market: Market, q: URLSearchParams): string {
    const engine = this.#engine(market, q);
    const limit = boundedLimit(q, 500, 1000);
    const fromId = intParam(q, "fromId");
    const startTime = intParam(q, "startTime");
    const endTime = intParam(q, "endTime");
    if (
      market === "spot" && startTime !== undefined && endTime !== undefined && endTime - startTime > 3_600_000
    ) {
      throw new RestRequestError(-1127, "More than 1 hours between startTime and endTime.");
    }
    const trades = engine.trades.query(
      fromId !== undefined ? { fromId, limit } : { startTime, endTime, limit },
    );
    return aggTradesBody(engine.spec, trades);
  }

  #klines(market: Market, q: URLSearchParams, maxLimit: number): string {
    const engine = this.#engine(market, q);
    const interval = q.get("interval");
    if (interval === null) {
      throw new RestRequestError(
        -1102,
        "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.",
      );
    }
    const series = KLINE_INTERVALS[market].some((k) => k.name === interval)
      ? engine.klines.get(interval)
      : undefined;
    if (series === undefined) throw new RestRequestError(-1120, "Invalid interval.");
    const candles = series.query(
      intParam(q, "startTime"),
      intParam(q, "endTime"),
      boundedLimit(q, 500, maxLimit),
    );
    return klinesBody(engine.spec, candles);
  }
}

/** The query of a `fundingRate` request (Binance: limit default 100, at most 1000). */
function fundingQuery(q: URLSearchParams) {
  return {
    startTime: intParam(q, "startTime"),
    endTime: intParam(q, "endTime"),
    limit: boundedLimit(q, 100, 1000),
  };
}

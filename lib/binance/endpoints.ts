/**
 * Binance REST endpoints per market, as data: default hosts, paths, request weights and rate-limit budgets
 * (docs/binance-api.md §1 and §3). Market differences live in these tables, not in code branches.
 */
import type { Market } from "./types.ts";

/** The REST calls the collector makes. */
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
 * How an endpoint's request weight is computed:
 * - `fixed`: always `weight`;
 * - `byLimit`: the first tier whose `upTo` is ≥ the `limit` parameter (absent → `defaultLimit`);
 * - `bySymbol`: `withSymbol` when the `symbol` parameter is given, else `withoutSymbol`.
 */
export type WeightRule =
  | { readonly kind: "fixed"; readonly weight: number }
  | {
    readonly kind: "byLimit";
    readonly defaultLimit: number;
    readonly tiers: readonly { readonly upTo: number; readonly weight: number }[];
  }
  | { readonly kind: "bySymbol"; readonly withSymbol: number; readonly withoutSymbol: number };

/** Which budget, besides REQUEST_WEIGHT, a request draws on. */
export type ExtraBudget = "fundingRate";

/** One REST endpoint of one market. */
export interface Endpoint {
  readonly path: string;
  readonly weight: WeightRule;
  readonly extraBudget?: ExtraBudget;
}

/** A request budget: at most `limit` units per `intervalMs`. */
export interface Budget {
  readonly limit: number;
  readonly intervalMs: number;
}

const fixed = (weight: number): WeightRule => ({ kind: "fixed", weight });

/** Paths and weights; an endpoint missing from a market does not exist there. */
export const ENDPOINTS: Readonly<Record<Market, Readonly<Partial<Record<EndpointName, Endpoint>>>>> = {
  spot: {
    depth: {
      path: "/api/v3/depth",
      // Since 2023-10-19; a limit above 5000 is truncated to 5000 by the server.
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
    // All symbols (no `symbol`): 80; one symbol: 2.
    ticker24h: {
      path: "/api/v3/ticker/24hr",
      weight: { kind: "bySymbol", withSymbol: 2, withoutSymbol: 80 },
    },
  },
  usdm: {
    depth: {
      path: "/fapi/v1/depth",
      weight: {
        kind: "byLimit",
        defaultLimit: 500,
        tiers: [{ upTo: 50, weight: 2 }, { upTo: 100, weight: 5 }, { upTo: 500, weight: 10 }, {
          upTo: Infinity,
          weight: 20,
        }],
      },
    },
    exchangeInfo: { path: "/fapi/v1/exchangeInfo", weight: fixed(1) },
    time: { path: "/fapi/v1/time", weight: fixed(1) },
    aggTrades: { path: "/fapi/v1/aggTrades", weight: fixed(20) },
    // Futures klines weigh by limit: [1,100) 1, [100,500) 2, [500,1000] 5, above 10 (Binance futures docs).
    klines: {
      path: "/fapi/v1/klines",
      weight: {
        kind: "byLimit",
        defaultLimit: 500,
        tiers: [{ upTo: 99, weight: 1 }, { upTo: 499, weight: 2 }, { upTo: 1000, weight: 5 }, {
          upTo: Infinity,
          weight: 10,
        }],
      },
    },
    premiumIndex: {
      path: "/fapi/v1/premiumIndex",
      weight: { kind: "bySymbol", withSymbol: 1, withoutSymbol: 10 },
    },
    ticker24h: {
      path: "/fapi/v1/ticker/24hr",
      weight: { kind: "bySymbol", withSymbol: 1, withoutSymbol: 40 },
    },
    // No REQUEST_WEIGHT: it shares 500 per 5 min per IP with /fapi/v1/fundingInfo instead.
    fundingRate: { path: "/fapi/v1/fundingRate", weight: fixed(0), extraBudget: "fundingRate" },
  },
};

/** REQUEST_WEIGHT per minute when exchangeInfo does not say (doc §3). */
export const DEFAULT_WEIGHT_LIMITS: Readonly<Record<Market, number>> = { spot: 6000, usdm: 2400 };

/** Budgets other than REQUEST_WEIGHT (not announced in exchangeInfo). */
export const EXTRA_BUDGETS: Readonly<Record<ExtraBudget, Budget>> = {
  fundingRate: { limit: 500, intervalMs: 5 * 60_000 },
};

/** Default REST hosts. */
export const DEFAULT_REST_URLS: Readonly<Record<Market, string>> = {
  spot: "https://api.binance.com",
  usdm: "https://fapi.binance.com",
};

/** Default WebSocket hosts (USD-M routes `/public` and `/market` below this). */
export const DEFAULT_WS_URLS: Readonly<Record<Market, string>> = {
  spot: "wss://stream.binance.com:9443",
  usdm: "wss://fstream.binance.com",
};

/** Depth `limit` values each market accepts: a range on spot, a fixed list on USD-M. */
export const DEPTH_LIMITS: Readonly<
  Record<Market, { readonly max: number; readonly allowed?: readonly number[] }>
> = {
  spot: { max: 5000 },
  usdm: { max: 1000, allowed: [5, 10, 20, 50, 100, 500, 1000] },
};

/**
 * The largest depth limit valid on `market` that is ≤ `wanted`, or null if there is none.
 *
 * @example
 * ```ts
 * depthLimitFor("usdm", 5000); // 1000
 * depthLimitFor("usdm", 300); // 100
 * depthLimitFor("spot", 300); // 300
 * ```
 */
export function depthLimitFor(market: Market, wanted: number): number | null {
  const rule = DEPTH_LIMITS[market];
  if (!Number.isInteger(wanted) || wanted < 1) return null;
  if (!rule.allowed) return Math.min(wanted, rule.max);
  let best: number | null = null;
  for (const l of rule.allowed) if (l <= wanted) best = l;
  return best;
}

/**
 * The REQUEST_WEIGHT of one call to `endpoint` with `params`.
 *
 * @example
 * ```ts
 * requestWeight(ENDPOINTS.spot.depth!, { limit: 1000 }); // 50
 * ```
 */
export function requestWeight(endpoint: Endpoint, params: { limit?: number; symbol?: string }): number {
  const rule = endpoint.weight;
  switch (rule.kind) {
    case "fixed":
      return rule.weight;
    case "bySymbol":
      return params.symbol === undefined ? rule.withoutSymbol : rule.withSymbol;
    case "byLimit": {
      const limit = params.limit ?? rule.defaultLimit;
      for (const t of rule.tiers) if (limit <= t.upTo) return t.weight;
      // Tiers end with upTo: Infinity, so this is unreachable for valid tables.
      throw new RangeError(`Cannot weigh ${endpoint.path}: no tier for limit ${limit}`);
    }
  }
}

/**
 * REST request weights and budgets, computed from the market profiles (markets.ts), which hold every market's
 * paths and weight rules (docs/binance-api.md §1 and §3).
 */
import { type Endpoint, type ExtraBudget, type Market, PROFILES } from "./markets.ts";

export type { Endpoint, EndpointName, ExtraBudget, WeightRule } from "./markets.ts";

/** A request budget: `limit` per `intervalMs`. */
export interface Budget {
  readonly limit: number;
  readonly intervalMs: number;
}

/** Budgets besides `REQUEST_WEIGHT` (the endpoint's `extraBudget` names one). */
export const EXTRA_BUDGETS: Readonly<Record<ExtraBudget, Budget>> = {
  fundingRate: { limit: 500, intervalMs: 5 * 60_000 },
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
  const rule = PROFILES[market].depthLimits;
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
 * import { PROFILES } from "./markets.ts";
 * requestWeight(PROFILES.spot.endpoints.depth!, { limit: 1000 }); // 50
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

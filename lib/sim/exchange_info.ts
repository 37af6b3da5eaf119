/**
 * `exchangeInfo` bodies of the simulated markets, shaped like Binance's (spot `/api/v3/exchangeInfo`, USD-M
 * `/fapi/v1/exchangeInfo`), with the simulator's REQUEST_WEIGHT limit in `rateLimits` so clients that read
 * their budget from it (as they should) pace themselves against the simulator's actual limit.
 */
import type { Market } from "./sim_markets.ts";
import { formatScaled } from "./decimal.ts";
import type { ListedSymbol } from "./exchange.ts";
import type { SymbolSpec } from "./symbol_spec.ts";
import type { SymbolStatus } from "./universe.ts";

/** Settings in the body besides the symbols. */
export interface ExchangeInfoSettings {
  weightPerMinute: number;
  serverTime: number;
}

/**
 * The exchangeInfo object of `market` for the given symbols, each with its status.
 *
 * @example
 * ```ts
 * const body = exchangeInfo("spot", exchange.listed("spot"), { weightPerMinute: 6000, serverTime: now });
 * ```
 */
export function exchangeInfo(
  market: Market,
  listed: readonly Pick<ListedSymbol, "engine" | "status">[],
  settings: ExchangeInfoSettings,
): Record<string, unknown> {
  const specs = listed.map((l) => l.engine.spec);
  const weight = {
    rateLimitType: "REQUEST_WEIGHT",
    interval: "MINUTE",
    intervalNum: 1,
    limit: settings.weightPerMinute,
  };
  if (market === "spot") {
    return {
      timezone: "UTC",
      serverTime: settings.serverTime,
      rateLimits: [
        weight,
        { rateLimitType: "ORDERS", interval: "SECOND", intervalNum: 10, limit: 100 },
        { rateLimitType: "ORDERS", interval: "DAY", intervalNum: 1, limit: 200000 },
        { rateLimitType: "RAW_REQUESTS", interval: "MINUTE", intervalNum: 5, limit: 300000 },
      ],
      exchangeFilters: [],
      symbols: listed.map((l) => spotSymbol(l.engine.spec, l.status)),
    };
  }
  return {
    timezone: "UTC",
    serverTime: settings.serverTime,
    futuresType: "U_MARGINED",
    rateLimits: [
      weight,
      { rateLimitType: "ORDERS", interval: "MINUTE", intervalNum: 1, limit: 1200 },
      { rateLimitType: "ORDERS", interval: "SECOND", intervalNum: 10, limit: 300 },
    ],
    exchangeFilters: [],
    assets: [...new Set(specs.map((s) => s.quoteAsset))].map((asset) => ({
      asset,
      marginAvailable: true,
      autoAssetExchange: "-10000",
    })),
    symbols: listed.map((l) => usdmSymbol(l.engine.spec, l.status)),
  };
}

const tick = (s: SymbolSpec) => formatScaled(1, s.priceDecimals, s.pricePrint);
const step = (s: SymbolSpec) => formatScaled(1, s.qtyDecimals, s.qtyPrint);

function spotSymbol(s: SymbolSpec, status: SymbolStatus): Record<string, unknown> {
  return {
    symbol: s.symbol,
    status,
    baseAsset: s.baseAsset,
    baseAssetPrecision: 8,
    quoteAsset: s.quoteAsset,
    quotePrecision: 8,
    quoteAssetPrecision: 8,
    orderTypes: ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
    icebergAllowed: true,
    ocoAllowed: true,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    filters: [
      { filterType: "PRICE_FILTER", minPrice: tick(s), maxPrice: "1000000.00000000", tickSize: tick(s) },
      { filterType: "LOT_SIZE", minQty: step(s), maxQty: "9000000.00000000", stepSize: step(s) },
    ],
    permissions: [],
    permissionSets: [["SPOT"]],
  };
}

function usdmSymbol(s: SymbolSpec, status: SymbolStatus): Record<string, unknown> {
  return {
    symbol: s.symbol,
    pair: s.symbol,
    contractType: "PERPETUAL",
    deliveryDate: 4133404800000,
    onboardDate: 1569398400000,
    status,
    baseAsset: s.baseAsset,
    quoteAsset: s.quoteAsset,
    marginAsset: s.quoteAsset,
    pricePrecision: s.pricePrint,
    quantityPrecision: s.qtyDecimals,
    baseAssetPrecision: 8,
    quotePrecision: 8,
    underlyingType: "COIN",
    underlyingSubType: [],
    filters: [
      { filterType: "PRICE_FILTER", minPrice: tick(s), maxPrice: "4529764", tickSize: tick(s) },
      { filterType: "LOT_SIZE", stepSize: step(s), maxQty: "1000000", minQty: step(s) },
    ],
    orderTypes: ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"],
    timeInForce: ["GTC", "IOC", "FOK", "GTX", "GTD"],
  };
}

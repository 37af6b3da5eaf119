/**
 * `exchangeInfo` bodies of the simulated markets, shaped like Binance's (spot `/api/v3/exchangeInfo`, USD-M
 * `/fapi/v1/exchangeInfo`, COIN-M `/dapi/v1/exchangeInfo`), with the simulator's REQUEST_WEIGHT limit in
 * `rateLimits` so clients that read their budget from it (as they should) pace themselves against the
 * simulator's actual limit. COIN-M names the status `contractStatus` (not `status`) and carries each
 * contract's pair, type, delivery and onboard dates and `contractSize`, as Binance does.
 */
import type { Market } from "../binance/markets.ts";
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
 * import { Exchange } from "./exchange.ts";
 * const exchange = new Exchange({ symbols: ["BTCUSDT", "BTCUSD_PERP"] }, Date.now());
 * exchangeInfo("spot", exchange.listed("spot"), { weightPerMinute: 6000, serverTime: Date.now() });
 * exchangeInfo("coinm", exchange.listed("coinm"), { weightPerMinute: 6000, serverTime: Date.now() });
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
  if (market === "coinm") {
    const types = contractTypes(listed);
    return {
      timezone: "UTC",
      serverTime: settings.serverTime,
      rateLimits: [weight, { rateLimitType: "ORDERS", interval: "MINUTE", intervalNum: 1, limit: 1200 }],
      exchangeFilters: [],
      symbols: listed.map((l) => coinmSymbol(l.engine.spec, l.status, types.get(l.engine.spec.symbol)!)),
    };
  }
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

/**
 * PERPETUAL, or for a delivery contract CURRENT_QUARTER (the earliest of its pair still to deliver, and one
 * that has delivered) or NEXT_QUARTER.
 */
function contractTypes(listed: readonly Pick<ListedSymbol, "engine" | "status">[]): Map<string, string> {
  const types = new Map<string, string>();
  const pending = new Map<string, SymbolSpec[]>();
  for (const { engine: { spec }, status } of listed) {
    const perpetual = spec.contract!.perpetual;
    types.set(spec.symbol, perpetual ? "PERPETUAL" : "CURRENT_QUARTER");
    if (perpetual || status === "DELIVERING") continue;
    pending.set(spec.pair, [...(pending.get(spec.pair) ?? []), spec]);
  }
  for (const specs of pending.values()) {
    specs.sort((a, b) => a.contract!.deliveryDate - b.contract!.deliveryDate);
    for (const s of specs.slice(1)) types.set(s.symbol, "NEXT_QUARTER");
  }
  return types;
}

function coinmSymbol(s: SymbolSpec, status: SymbolStatus, contractType: string): Record<string, unknown> {
  const c = s.contract!;
  return {
    symbol: s.symbol,
    pair: s.pair,
    contractType,
    deliveryDate: c.deliveryDate,
    onboardDate: c.onboardDate,
    contractStatus: status,
    contractSize: c.size,
    marginAsset: s.baseAsset,
    maintMarginPercent: "2.5000",
    requiredMarginPercent: "5.0000",
    baseAsset: s.baseAsset,
    quoteAsset: s.quoteAsset,
    pricePrecision: s.pricePrint,
    quantityPrecision: 0,
    baseAssetPrecision: 8,
    quotePrecision: 8,
    equalQtyPrecision: 4,
    triggerProtect: "0.0500",
    underlyingType: "COIN",
    underlyingSubType: [],
    filters: [
      { minPrice: tick(s), maxPrice: "1000000", filterType: "PRICE_FILTER", tickSize: tick(s) },
      { stepSize: "1", filterType: "LOT_SIZE", maxQty: "1000000", minQty: "1" },
    ],
    orderTypes: ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"],
    timeInForce: ["GTC", "IOC", "FOK", "GTX"],
    liquidationFee: "0.010000",
    marketTakeBound: "0.30",
  };
}

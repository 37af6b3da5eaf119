/**
 * Parsers for Binance REST response bodies. Pure: each takes the body text and returns typed values, or throws
 * {@link MalformedMessageError} naming the bad field. Unknown fields are ignored (Binance adds them freely).
 */
import {
  type AggTrade,
  type Candle,
  MalformedMessageError,
  parseLevels,
  parseRestAggTrade,
  type Payload,
} from "./messages.ts";
import { isFutures } from "./markets.ts";
import type { DepthSnapshot, Market } from "./types.ts";

/** One entry of exchangeInfo `rateLimits`. */
export interface RateLimit {
  rateLimitType: string;
  interval: string;
  intervalNum: number;
  limit: number;
}

/**
 * One exchangeInfo symbol: its trading status and assets (`""` where Binance leaves an asset out), and for
 * futures the contract (null where the market has none: spot has no contracts, USD-M no contract size).
 */
export interface ExchangeSymbol {
  symbol: string;
  /** `status` (spot, USD-M) or `contractStatus` (COIN-M): `TRADING`, `BREAK`, `HALT`, `DELIVERING`, … */
  status: string;
  baseAsset: string;
  quoteAsset: string;
  marginAsset: string | null;
  pair: string | null;
  /** `PERPETUAL`, `CURRENT_QUARTER`, `NEXT_QUARTER`, … */
  contractType: string | null;
  /** COIN-M: USD per contract. */
  contractSize: number | null;
  /** ms; null for perpetuals (Binance gives them a date in 2100). */
  deliveryDate: number | null;
  onboardDate: number | null;
}

/** The parts of exchangeInfo the collector uses. */
export interface ExchangeInfo {
  rateLimits: RateLimit[];
  symbols: ExchangeSymbol[];
}

/** One symbol's rolling 24 h statistics, as far as the collector uses them. */
export interface Ticker24h {
  symbol: string;
  /** Traded volume in the quote asset; null on COIN-M, whose tickers have none (see {@link volume}). */
  quoteVolume: number | null;
  /** Traded volume in the base asset (spot, USD-M) or in contracts (COIN-M). */
  volume: number;
}

/** A REST kline row (`[openTime, o, h, l, c, v, closeTime, q, n, V, Q, ignore]`). */
export type RestKline = Candle;

/** A futures `premiumIndex` entry; COIN-M delivery contracts have no funding (null fields). */
export interface PremiumIndex {
  symbol: string;
  markPrice: number;
  indexPrice: number;
  estimatedSettlePrice: number;
  lastFundingRate: number | null;
  interestRate: number | null;
  nextFundingTime: number | null;
  time: number;
}

/** A futures `fundingRate` history entry; `markPrice` is `""` on old USD-M entries and absent on COIN-M: null. */
export interface FundingRate {
  symbol: string;
  fundingTime: number;
  fundingRate: number;
  markPrice: number | null;
}

function fail(what: string, value: unknown): never {
  const shown = value === undefined ? "missing" : `got ${JSON.stringify(value)?.slice(0, 40)}`;
  throw new MalformedMessageError(`Cannot parse REST ${what}: ${shown}`);
}

function json(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new MalformedMessageError(`Cannot parse REST ${what}: body is not JSON (${(e as Error).message})`);
  }
}

function object(v: unknown, what: string): Payload {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? v as Payload : fail(what, v);
}

function array(v: unknown, what: string): unknown[] {
  return Array.isArray(v) ? v : fail(what, v);
}

function int(v: unknown, what: string): number {
  return typeof v === "number" && Number.isSafeInteger(v) ? v : fail(what, v);
}

function str(v: unknown, what: string): string {
  return typeof v === "string" ? v : fail(what, v);
}

/** A decimal string as float64; `""` is read as null where Binance uses it for "not applicable". */
function optDec(v: unknown, what: string): number | null {
  if (v === "" || v === undefined) return null;
  return dec(v, what);
}

function dec(v: unknown, what: string): number {
  if (typeof v === "string" && v !== "") {
    const n = Number(v);
    if (Number.isFinite(n)) return n;
  }
  return fail(what, v);
}

/**
 * Parses a REST depth snapshot body. The body carries no symbol, so the caller names it; `E`/`T` exist on the
 * futures markets only and are null on spot (and if a futures body lacks them).
 *
 * @example
 * ```ts
 * const s = parseDepthSnapshot('{"lastUpdateId":7,"bids":[["1.5","2"]],"asks":[]}', "BTCUSDT", "spot");
 * s.bids; // [[1.5, 2]]
 * ```
 */
export function parseDepthSnapshot(text: string, symbol: string, market: Market): DepthSnapshot {
  const p = object(json(text, "depth"), "depth");
  const optTime = (field: "E" | "T") =>
    !isFutures(market) || p[field] === undefined ? null : int(p[field], `depth.${field}`);
  return {
    symbol,
    lastUpdateId: int(p.lastUpdateId, "depth.lastUpdateId"),
    eventTime: optTime("E"),
    transactionTime: optTime("T"),
    bids: parseLevels(p.bids, "bids"),
    asks: parseLevels(p.asks, "asks"),
  };
}

/** Parses an exchangeInfo body down to `rateLimits` and each symbol's `status`. */
export function parseExchangeInfo(text: string): ExchangeInfo {
  const p = object(json(text, "exchangeInfo"), "exchangeInfo");
  const rateLimits = array(p.rateLimits ?? [], "exchangeInfo.rateLimits").map((r, i) => {
    const o = object(r, `exchangeInfo.rateLimits[${i}]`);
    return {
      rateLimitType: str(o.rateLimitType, "rateLimitType"),
      interval: str(o.interval, "interval"),
      intervalNum: int(o.intervalNum, "intervalNum"),
      limit: int(o.limit, "limit"),
    };
  });
  const symbols = array(p.symbols, "exchangeInfo.symbols").map((s, i) => {
    const o = object(s, `exchangeInfo.symbols[${i}]`);
    const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : null);
    const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
    const contractType = text(o.contractType);
    return {
      symbol: str(o.symbol, "symbol"),
      status: str(o.status ?? o.contractStatus, "status"),
      baseAsset: text(o.baseAsset) ?? "",
      quoteAsset: text(o.quoteAsset) ?? "",
      marginAsset: text(o.marginAsset),
      pair: text(o.pair),
      contractType,
      contractSize: num(o.contractSize),
      deliveryDate: contractType === "PERPETUAL" ? null : num(o.deliveryDate),
      onboardDate: num(o.onboardDate),
    };
  });
  return { rateLimits, symbols };
}

/** Parses a `ticker/24hr` body: one object (with a symbol) or an array (without). */
export function parseTickers24h(text: string): Ticker24h[] {
  const v = json(text, "ticker/24hr");
  return (Array.isArray(v) ? v : [v]).map((e, i) => {
    const o = object(e, `ticker/24hr[${i}]`);
    return {
      symbol: str(o.symbol, "ticker.symbol"),
      quoteVolume: o.quoteVolume === undefined ? null : dec(o.quoteVolume, "ticker.quoteVolume"),
      volume: dec(o.volume, "ticker.volume"),
    };
  });
}

/** Parses a `/time` body to the server time in ms. */
export function parseServerTime(text: string): number {
  return int(object(json(text, "time"), "time").serverTime, "time.serverTime");
}

/** Parses an `aggTrades` body (ascending by id). */
export function parseAggTrades(text: string): AggTrade[] {
  return array(json(text, "aggTrades"), "aggTrades").map((t, i) =>
    parseRestAggTrade(object(t, `aggTrades[${i}]`))
  );
}

/** Parses a `klines` body (array rows). */
export function parseKlines(text: string): RestKline[] {
  return array(json(text, "klines"), "klines").map((r, i) => {
    const row = array(r, `klines[${i}]`);
    const at = (j: number) => `klines[${i}][${j}]`;
    return {
      openTime: int(row[0], at(0)),
      open: dec(row[1], at(1)),
      high: dec(row[2], at(2)),
      low: dec(row[3], at(3)),
      close: dec(row[4], at(4)),
      volume: dec(row[5], at(5)),
      closeTime: int(row[6], at(6)),
      quoteVolume: dec(row[7], at(7)),
      tradeCount: int(row[8], at(8)),
      takerBuyVolume: dec(row[9], at(9)),
      takerBuyQuoteVolume: dec(row[10], at(10)),
    };
  });
}

/** Parses a `premiumIndex` body: one object (with a symbol) or an array (without). */
export function parsePremiumIndex(text: string): PremiumIndex[] {
  const v = json(text, "premiumIndex");
  const list = Array.isArray(v) ? v : [v];
  return list.map((e, i) => {
    const o = object(e, `premiumIndex[${i}]`);
    const next = int(o.nextFundingTime, "premiumIndex.nextFundingTime");
    return {
      symbol: str(o.symbol, "premiumIndex.symbol"),
      markPrice: dec(o.markPrice, "premiumIndex.markPrice"),
      indexPrice: dec(o.indexPrice, "premiumIndex.indexPrice"),
      estimatedSettlePrice: dec(o.estimatedSettlePrice, "premiumIndex.estimatedSettlePrice"),
      lastFundingRate: optDec(o.lastFundingRate, "premiumIndex.lastFundingRate"),
      interestRate: optDec(o.interestRate, "premiumIndex.interestRate"),
      nextFundingTime: next === 0 ? null : next,
      time: int(o.time, "premiumIndex.time"),
    };
  });
}

/** Parses a `fundingRate` history body (ascending by time). */
export function parseFundingRates(text: string): FundingRate[] {
  return array(json(text, "fundingRate"), "fundingRate").map((e, i) => {
    const o = object(e, `fundingRate[${i}]`);
    return {
      symbol: str(o.symbol, "fundingRate.symbol"),
      fundingTime: int(o.fundingTime, "fundingRate.fundingTime"),
      fundingRate: dec(o.fundingRate, "fundingRate.fundingRate"),
      markPrice: optDec(o.markPrice, "fundingRate.markPrice"),
    };
  });
}

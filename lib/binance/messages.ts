/**
 * Parsing of Binance market-data payloads (the `data` of a combined-stream envelope) into typed events.
 *
 * Pure: each parser takes the already JSON-parsed payload and returns a typed event, or throws
 * {@link MalformedMessageError} naming the missing or invalid field. Unknown fields are ignored on purpose:
 * Binance adds fields (`ap`, `nq`, `st`, `ps`) without notice.
 */
import { isFutures } from "./markets.ts";
import type { DepthDiff, Level, Market } from "./types.ts";

/** A payload that lacks a field the collector needs, or carries it with the wrong type. */
export class MalformedMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MalformedMessageError";
  }
}

/** A payload as it comes out of `JSON.parse`. */
export type Payload = Record<string, unknown>;

/** An `aggTrade` event. */
export interface AggTrade {
  eventTime: number;
  tradeTime: number;
  aggTradeId: number;
  firstTradeId: number;
  lastTradeId: number;
  price: number;
  quantity: number;
  isBuyerMaker: boolean;
}

/** One candle, as the kline stream and REST `klines` both give it. */
export interface Candle {
  openTime: number;
  closeTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  tradeCount: number;
  takerBuyVolume: number;
  takerBuyQuoteVolume: number;
}

/** A `kline` event (closed or still open). */
export interface Kline extends Candle {
  eventTime: number;
  interval: string;
  closed: boolean;
}

/** A `bookTicker` event; the event and transaction times exist on the futures markets only. */
export interface BookTicker {
  updateId: number;
  eventTime: number | null;
  transactionTime: number | null;
  bidPrice: number;
  bidQuantity: number;
  askPrice: number;
  askQuantity: number;
}

/** A `forceOrder` (liquidation) event. */
export interface Liquidation {
  eventTime: number;
  tradeTime: number;
  side: "buy" | "sell";
  orderType: string;
  timeInForce: string;
  price: number;
  averagePrice: number;
  originalQuantity: number;
  lastFilledQuantity: number;
  filledQuantity: number;
  status: string;
}

/** A `markPriceUpdate` event. */
export interface MarkPrice {
  eventTime: number;
  markPrice: number;
  indexPrice: number;
  estimatedSettlePrice: number;
  fundingRate: number | null;
  nextFundingTime: number | null;
}

function fail(field: string, value: unknown): never {
  const shown = value === undefined ? "missing" : `got ${JSON.stringify(value)?.slice(0, 40)}`;
  throw new MalformedMessageError(`Cannot parse field '${field}': ${shown}`);
}

function int(p: Payload, field: string): number {
  const v = p[field];
  if (typeof v === "number" && Number.isSafeInteger(v)) return v;
  return fail(field, v);
}

/** A decimal string (or, leniently, a number) as float64. */
function dec(p: Payload, field: string): number {
  const v = p[field];
  if (typeof v === "string") {
    const n = Number(v);
    if (v !== "" && Number.isFinite(n)) return n;
  } else if (typeof v === "number" && Number.isFinite(v)) return v;
  return fail(field, v);
}

function str(p: Payload, field: string): string {
  const v = p[field];
  return typeof v === "string" ? v : fail(field, v);
}

function bool(p: Payload, field: string): boolean {
  const v = p[field];
  return typeof v === "boolean" ? v : fail(field, v);
}

function optInt(p: Payload, field: string): number | null {
  return p[field] === undefined ? null : int(p, field);
}

/** Funding fields are `""` / `0` for COIN-M delivery contracts: read those as null. */
function optDec(p: Payload, field: string): number | null {
  const v = p[field];
  return v === undefined || v === "" ? null : dec(p, field);
}

/** Parses `[["price","qty"], ...]` into numeric levels. */
export function parseLevels(v: unknown, field: string): Level[] {
  if (!Array.isArray(v)) return fail(field, v);
  const out: Level[] = new Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const lv = v[i];
    if (!Array.isArray(lv) || lv.length < 2) return fail(`${field}[${i}]`, lv);
    const price = Number(lv[0]);
    const qty = Number(lv[1]);
    if (!Number.isFinite(price) || !Number.isFinite(qty) || lv[0] === "" || lv[1] === "") {
      return fail(`${field}[${i}]`, lv);
    }
    out[i] = [price, qty];
  }
  return out;
}

/** Parses a `depthUpdate` diff. `symbol` comes from the stream name (authoritative for routing). */
export function parseDepthDiff(p: Payload, market: Market, symbol: string): DepthDiff {
  return {
    symbol,
    eventTime: int(p, "E"),
    transactionTime: isFutures(market) ? optInt(p, "T") : null,
    firstUpdateId: int(p, "U"),
    finalUpdateId: int(p, "u"),
    prevFinalUpdateId: isFutures(market) ? int(p, "pu") : null,
    bids: parseLevels(p.b, "b"),
    asks: parseLevels(p.a, "a"),
  };
}

/** Parses an `aggTrade` event. */
export function parseAggTrade(p: Payload): AggTrade {
  return aggTrade(p, int(p, "E"));
}

/** Parses a REST `aggTrades` element (`{a,p,q,f,l,T,m}`, no event time: the trade time stands in). */
export function parseRestAggTrade(p: Payload): AggTrade {
  return aggTrade(p, int(p, "T"));
}

function aggTrade(p: Payload, eventTime: number): AggTrade {
  return {
    eventTime,
    tradeTime: int(p, "T"),
    aggTradeId: int(p, "a"),
    firstTradeId: int(p, "f"),
    lastTradeId: int(p, "l"),
    price: dec(p, "p"),
    quantity: dec(p, "q"),
    isBuyerMaker: bool(p, "m"),
  };
}

/** Parses a `kline` event. */
export function parseKline(p: Payload): Kline {
  const k = p.k;
  if (typeof k !== "object" || k === null) return fail("k", k);
  const kk = k as Payload;
  return {
    eventTime: int(p, "E"),
    interval: str(kk, "i"),
    openTime: int(kk, "t"),
    closeTime: int(kk, "T"),
    open: dec(kk, "o"),
    high: dec(kk, "h"),
    low: dec(kk, "l"),
    close: dec(kk, "c"),
    volume: dec(kk, "v"),
    quoteVolume: dec(kk, "q"),
    tradeCount: int(kk, "n"),
    takerBuyVolume: dec(kk, "V"),
    takerBuyQuoteVolume: dec(kk, "Q"),
    closed: bool(kk, "x"),
  };
}

/** Parses a `bookTicker` event (spot has no `E`/`T`). */
export function parseBookTicker(p: Payload): BookTicker {
  return {
    updateId: int(p, "u"),
    eventTime: optInt(p, "E"),
    transactionTime: optInt(p, "T"),
    bidPrice: dec(p, "b"),
    bidQuantity: dec(p, "B"),
    askPrice: dec(p, "a"),
    askQuantity: dec(p, "A"),
  };
}

/** Parses a `forceOrder` event. */
export function parseLiquidation(p: Payload): Liquidation {
  const o = p.o;
  if (typeof o !== "object" || o === null) return fail("o", o);
  const oo = o as Payload;
  const side = str(oo, "S");
  if (side !== "BUY" && side !== "SELL") return fail("o.S", side);
  return {
    eventTime: int(p, "E"),
    tradeTime: int(oo, "T"),
    side: side === "BUY" ? "buy" : "sell",
    orderType: str(oo, "o"),
    timeInForce: str(oo, "f"),
    price: dec(oo, "p"),
    averagePrice: dec(oo, "ap"),
    originalQuantity: dec(oo, "q"),
    lastFilledQuantity: dec(oo, "l"),
    filledQuantity: dec(oo, "z"),
    status: str(oo, "X"),
  };
}

/** Parses a `markPriceUpdate` event. */
export function parseMarkPrice(p: Payload): MarkPrice {
  const next = optInt(p, "T");
  return {
    eventTime: int(p, "E"),
    markPrice: dec(p, "p"),
    indexPrice: dec(p, "i"),
    estimatedSettlePrice: dec(p, "P"),
    fundingRate: optDec(p, "r"),
    nextFundingTime: next === 0 ? null : next,
  };
}

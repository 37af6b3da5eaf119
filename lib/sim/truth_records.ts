/**
 * Ground-truth storage and records. Each kind of event is kept as one compact row of numbers in a
 * {@link ColumnLog} (column 0 is always the event time, so the truth window drops rows by time), and read back
 * as the records a collector's parser would produce from the wire: the simulator's integers (ticks, lots)
 * converted to the numbers a client reads from Binance's decimal strings.
 */
import { isFutures } from "../binance/markets.ts";
import type { AggTrade, BookTicker, Candle, Liquidation } from "../binance/messages.ts";
import type { DepthDiff, DepthSnapshot, Level } from "../binance/types.ts";
import { scaledToNumber } from "./decimal.ts";
import type { BookModel } from "./book_model.ts";
import type { ColumnLog } from "./column_log.ts";
import type { BookCapture } from "./engine_params.ts";
import type {
  AggTradeEvent,
  BookTickerEvent,
  DiffEvent,
  ForceOrderEvent,
  KlineEvent,
  MarkPriceEvent,
} from "./events.ts";
import { MARK_EXTRA_DECIMALS, RATE_DECIMALS } from "./events.ts";
import { formatQuote } from "./frames.ts";
import { KLINE_INTERVALS } from "./streams.ts";
import type { SymbolSpec } from "./symbol_spec.ts";

/** An aggregate trade as the exchange made it (the wire's fields, plus its symbol). */
export interface TruthTrade extends AggTrade {
  symbol: string;
}

/** A closed candle. */
export interface TruthKline extends Candle {
  symbol: string;
  eventTime: number;
  interval: string;
}

/** A bookTicker event; `eventTime`/`transactionTime` are null on spot (not on the wire), `time` never is. */
export interface TruthBookTicker extends BookTicker {
  symbol: string;
  time: number;
}

/** A markPriceUpdate event. */
export interface TruthMarkPrice {
  symbol: string;
  eventTime: number;
  markPrice: number;
  indexPrice: number;
  estimatedSettlePrice: number;
  /** Null for a COIN-M delivery contract (wire `"r":""`), as the collector's parser reads it. */
  fundingRate: number | null;
  /** Null for a COIN-M delivery contract (wire `"T":0`). */
  nextFundingTime: number | null;
}

/** A forceOrder event. */
export interface TruthLiquidation extends Liquidation {
  symbol: string;
}

/** Row widths of each kind's log. */
export const WIDTH = { diff: 6, trade: 8, kline: 13, bookTicker: 6, markPrice: 6, forceOrder: 6 } as const;

/** Flat `[tick, lots, …]` pairs as `[price, quantity]` levels. */
export function levels(spec: SymbolSpec, pairs: ArrayLike<number>): Level[] {
  const out: Level[] = new Array(pairs.length >> 1);
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    out[i >> 1] = [
      scaledToNumber(pairs[i]!, spec.priceDecimals),
      scaledToNumber(pairs[i + 1]!, spec.qtyDecimals),
    ];
  }
  return out;
}

/** A captured book as a REST depth snapshot would read. */
export function snapshotOf(spec: SymbolSpec, c: BookCapture): DepthSnapshot {
  return {
    symbol: spec.symbol,
    lastUpdateId: c.updateId,
    eventTime: isFutures(spec.market) ? c.time : null,
    transactionTime: isFutures(spec.market) ? c.transactionTime : null,
    bids: levels(spec, c.bids),
    asks: levels(spec, c.asks),
  };
}

/** Appends a diff event: its ids and times, and its levels (bids then asks) as the row's list. */
export function pushDiff(log: ColumnLog, d: DiffEvent): void {
  log.push([d.eventTime, d.transactionTime, d.firstId, d.finalId, d.prevFinalId, d.bids.length], [
    ...d.bids,
    ...d.asks,
  ]);
}

/** The final update id of diff row `i`. */
export function finalIdOf(log: ColumnLog, i: number): number {
  return log.get(i, 3);
}

/** Applies diff rows `[from, to)` to `book`. */
export function applyDiffs(book: BookModel, log: ColumnLog, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const pairs = log.list(i);
    const split = log.get(i, 5);
    book.apply("bid", pairs.subarray(0, split));
    book.apply("ask", pairs.subarray(split));
  }
}

/** The book after diff row `i` applied to `book`, as a capture. */
export function captureAfter(book: BookModel, log: ColumnLog, i: number): BookCapture {
  return {
    updateId: log.get(i, 3),
    time: log.get(i, 0),
    transactionTime: log.get(i, 1),
    bids: book.bids.topInto(Infinity, []),
    asks: book.asks.topInto(Infinity, []),
  };
}

/** Diff rows as parsed `depthUpdate`s. */
export function diffRecords(spec: SymbolSpec, log: ColumnLog): DepthDiff[] {
  const futures = isFutures(spec.market);
  const out: DepthDiff[] = [];
  for (let i = 0; i < log.length; i++) {
    const pairs = log.list(i);
    const split = log.get(i, 5);
    out.push({
      symbol: spec.symbol,
      eventTime: log.get(i, 0),
      transactionTime: futures ? log.get(i, 1) : null,
      firstUpdateId: log.get(i, 2),
      finalUpdateId: log.get(i, 3),
      prevFinalUpdateId: futures ? log.get(i, 4) : null,
      bids: levels(spec, pairs.subarray(0, split)),
      asks: levels(spec, pairs.subarray(split)),
    });
  }
  return out;
}

/** Appends an aggregate trade. */
export function pushTrade(log: ColumnLog, t: AggTradeEvent): void {
  log.push([
    t.eventTime,
    t.tradeTime,
    t.aggId,
    t.firstTradeId,
    t.lastTradeId,
    t.priceTicks,
    t.lots,
    t.buyerMaker ? 1 : 0,
  ]);
}

/** Aggregate trade rows as parsed. */
export function tradeRecords(spec: SymbolSpec, log: ColumnLog): TruthTrade[] {
  return rows(log, (g) => ({
    symbol: spec.symbol,
    eventTime: g(0),
    tradeTime: g(1),
    aggTradeId: g(2),
    firstTradeId: g(3),
    lastTradeId: g(4),
    price: scaledToNumber(g(5), spec.priceDecimals),
    quantity: scaledToNumber(g(6), spec.qtyDecimals),
    isBuyerMaker: g(7) === 1,
  }));
}

/** Appends a closed candle (its interval as its length in ms). */
export function pushKline(log: ColumnLog, k: KlineEvent): void {
  const c = k.candle;
  const ms = c.closeTime + 1 - c.openTime;
  log.push([
    k.eventTime,
    ms,
    c.openTime,
    c.closeTime,
    c.open,
    c.high,
    c.low,
    c.close,
    c.volumeLots,
    c.quoteVolume,
    c.trades,
    c.takerBuyLots,
    c.takerBuyQuote,
  ]);
}

/** Closed candle rows as parsed, optionally of one interval. */
export function klineRecords(spec: SymbolSpec, log: ColumnLog, interval?: string): TruthKline[] {
  const px = (t: number) => scaledToNumber(t, spec.priceDecimals);
  const qty = (l: number) => scaledToNumber(l, spec.qtyDecimals);
  const names = new Map(KLINE_INTERVALS[spec.market].map((k) => [k.ms, k.name]));
  return rows(log, (g) => ({
    symbol: spec.symbol,
    eventTime: g(0),
    interval: names.get(g(1))!,
    openTime: g(2),
    closeTime: g(3),
    open: px(g(4)),
    high: px(g(5)),
    low: px(g(6)),
    close: px(g(7)),
    volume: qty(g(8)),
    quoteVolume: Number(formatQuote(spec, g(9))),
    tradeCount: g(10),
    takerBuyVolume: qty(g(11)),
    takerBuyQuoteVolume: Number(formatQuote(spec, g(12))),
  })).filter((k) => interval === undefined || k.interval === interval);
}

/** Appends a bookTicker event. */
export function pushBookTicker(log: ColumnLog, b: BookTickerEvent): void {
  log.push([b.eventTime, b.updateId, b.bidTicks, b.bidLots, b.askTicks, b.askLots]);
}

/** bookTicker rows as parsed. */
export function bookTickerRecords(spec: SymbolSpec, log: ColumnLog): TruthBookTicker[] {
  const futures = isFutures(spec.market);
  return rows(log, (g) => ({
    symbol: spec.symbol,
    updateId: g(1),
    time: g(0),
    eventTime: futures ? g(0) : null,
    transactionTime: futures ? g(0) : null,
    bidPrice: scaledToNumber(g(2), spec.priceDecimals),
    bidQuantity: scaledToNumber(g(3), spec.qtyDecimals),
    askPrice: scaledToNumber(g(4), spec.priceDecimals),
    askQuantity: scaledToNumber(g(5), spec.qtyDecimals),
  }));
}

/** Appends a markPriceUpdate event (no funding rate: NaN). */
export function pushMarkPrice(log: ColumnLog, m: MarkPriceEvent): void {
  log.push([m.eventTime, m.mark, m.index, m.settle, m.fundingRate ?? NaN, m.nextFundingTime]);
}

/** markPriceUpdate rows as parsed. */
export function markPriceRecords(spec: SymbolSpec, log: ColumnLog): TruthMarkPrice[] {
  const d = spec.priceDecimals + MARK_EXTRA_DECIMALS;
  return rows(log, (g) => ({
    symbol: spec.symbol,
    eventTime: g(0),
    markPrice: scaledToNumber(g(1), d),
    indexPrice: scaledToNumber(g(2), d),
    estimatedSettlePrice: scaledToNumber(g(3), d),
    fundingRate: Number.isNaN(g(4)) ? null : scaledToNumber(g(4), RATE_DECIMALS),
    nextFundingTime: g(5) === 0 ? null : g(5),
  }));
}

/** Appends a forceOrder event. */
export function pushForceOrder(log: ColumnLog, f: ForceOrderEvent): void {
  log.push([f.eventTime, f.tradeTime, f.side === "BUY" ? 1 : 0, f.priceTicks, f.averageTicks, f.lots]);
}

/** forceOrder rows as parsed. */
export function forceOrderRecords(spec: SymbolSpec, log: ColumnLog): TruthLiquidation[] {
  const px = (t: number) => scaledToNumber(t, spec.priceDecimals);
  return rows(log, (g) => {
    const q = scaledToNumber(g(5), spec.qtyDecimals);
    return {
      symbol: spec.symbol,
      eventTime: g(0),
      tradeTime: g(1),
      side: g(2) === 1 ? "buy" : "sell",
      orderType: "LIMIT",
      timeInForce: "IOC",
      price: px(g(3)),
      averagePrice: px(g(4)),
      originalQuantity: q,
      lastFilledQuantity: q,
      filledQuantity: q,
      status: "FILLED",
    };
  });
}

/** Maps every row of `log` through `make`, which reads the row's columns with `g(column)`. */
function rows<T>(log: ColumnLog, make: (g: (column: number) => number) => T): T[] {
  const out: T[] = [];
  for (let i = 0; i < log.length; i++) out.push(make((column) => log.get(i, column)));
  return out;
}

/**
 * Ground-truth records as the collector's parser would produce them from the wire: the simulator's integer
 * events (ticks, lots) converted to the numbers a client reads from Binance's decimal strings. Pure functions
 * of a symbol's spec and its recorded events; the ground truth (`truth.ts`) keeps the events and calls these on query.
 */
import type { AggTrade, BookTicker, Candle, Liquidation } from "../binance/messages.ts";
import type { DepthDiff, DepthSnapshot, Level } from "../binance/types.ts";
import { scaledToNumber } from "./decimal.ts";
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
  fundingRate: number;
  nextFundingTime: number;
}

/** A forceOrder event. */
export interface TruthLiquidation extends Liquidation {
  symbol: string;
}

/** Flat `[tick, lots, …]` pairs as `[price, quantity]` levels. */
export function levels(spec: SymbolSpec, pairs: readonly number[]): Level[] {
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
    eventTime: spec.market === "usdm" ? c.time : null,
    transactionTime: spec.market === "usdm" ? c.transactionTime : null,
    bids: levels(spec, c.bids),
    asks: levels(spec, c.asks),
  };
}

/** Diff events as parsed `depthUpdate`s. */
export function diffRecords(spec: SymbolSpec, events: readonly DiffEvent[]): DepthDiff[] {
  const usdm = spec.market === "usdm";
  return events.map((d) => ({
    symbol: spec.symbol,
    eventTime: d.eventTime,
    transactionTime: usdm ? d.transactionTime : null,
    firstUpdateId: d.firstId,
    finalUpdateId: d.finalId,
    prevFinalUpdateId: usdm ? d.prevFinalId : null,
    bids: levels(spec, d.bids),
    asks: levels(spec, d.asks),
  }));
}

/** Aggregate trades as parsed. */
export function tradeRecords(spec: SymbolSpec, events: readonly AggTradeEvent[]): TruthTrade[] {
  return events.map((t) => ({
    symbol: spec.symbol,
    eventTime: t.eventTime,
    tradeTime: t.tradeTime,
    aggTradeId: t.aggId,
    firstTradeId: t.firstTradeId,
    lastTradeId: t.lastTradeId,
    price: scaledToNumber(t.priceTicks, spec.priceDecimals),
    quantity: scaledToNumber(t.lots, spec.qtyDecimals),
    isBuyerMaker: t.buyerMaker,
  }));
}

/** Closed candles as parsed, optionally of one interval. */
export function klineRecords(
  spec: SymbolSpec,
  events: readonly KlineEvent[],
  interval?: string,
): TruthKline[] {
  const px = (t: number) => scaledToNumber(t, spec.priceDecimals);
  const qty = (l: number) => scaledToNumber(l, spec.qtyDecimals);
  return events.filter((k) => interval === undefined || k.candle.interval === interval).map((k) => {
    const c = k.candle;
    return {
      symbol: spec.symbol,
      eventTime: k.eventTime,
      interval: c.interval,
      openTime: c.openTime,
      closeTime: c.closeTime,
      open: px(c.open),
      high: px(c.high),
      low: px(c.low),
      close: px(c.close),
      volume: qty(c.volumeLots),
      quoteVolume: Number(formatQuote(spec, c.quoteVolume)),
      tradeCount: c.trades,
      takerBuyVolume: qty(c.takerBuyLots),
      takerBuyQuoteVolume: Number(formatQuote(spec, c.takerBuyQuote)),
    };
  });
}

/** bookTicker events as parsed. */
export function bookTickerRecords(spec: SymbolSpec, events: readonly BookTickerEvent[]): TruthBookTicker[] {
  const usdm = spec.market === "usdm";
  return events.map((b) => ({
    symbol: spec.symbol,
    updateId: b.updateId,
    time: b.eventTime,
    eventTime: usdm ? b.eventTime : null,
    transactionTime: usdm ? b.eventTime : null,
    bidPrice: scaledToNumber(b.bidTicks, spec.priceDecimals),
    bidQuantity: scaledToNumber(b.bidLots, spec.qtyDecimals),
    askPrice: scaledToNumber(b.askTicks, spec.priceDecimals),
    askQuantity: scaledToNumber(b.askLots, spec.qtyDecimals),
  }));
}

/** markPriceUpdate events as parsed. */
export function markPriceRecords(spec: SymbolSpec, events: readonly MarkPriceEvent[]): TruthMarkPrice[] {
  const d = spec.priceDecimals + MARK_EXTRA_DECIMALS;
  return events.map((m) => ({
    symbol: spec.symbol,
    eventTime: m.eventTime,
    markPrice: scaledToNumber(m.mark, d),
    indexPrice: scaledToNumber(m.index, d),
    estimatedSettlePrice: scaledToNumber(m.settle, d),
    fundingRate: scaledToNumber(m.fundingRate, RATE_DECIMALS),
    nextFundingTime: m.nextFundingTime,
  }));
}

/** forceOrder events as parsed. */
export function forceOrderRecords(spec: SymbolSpec, events: readonly ForceOrderEvent[]): TruthLiquidation[] {
  const px = (t: number) => scaledToNumber(t, spec.priceDecimals);
  return events.map((f) => {
    const q = scaledToNumber(f.lots, spec.qtyDecimals);
    return {
      symbol: spec.symbol,
      eventTime: f.eventTime,
      tradeTime: f.tradeTime,
      side: f.side === "BUY" ? "buy" : "sell",
      orderType: "LIMIT",
      timeInForce: "IOC",
      price: px(f.priceTicks),
      averagePrice: px(f.averageTicks),
      originalQuantity: q,
      lastFilledQuantity: q,
      filledQuantity: q,
      status: "FILLED",
    };
  });
}

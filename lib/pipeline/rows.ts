/**
 * Row mapping: parsed Binance messages in, rows of the output tables out. One function per stream kind, shared
 * by the socket path and the REST paths (backfill, funding polls), so a trade or a candle has one shape
 * whichever way it arrived. Pure.
 * @module
 */
import type { AggTrade, BookTicker, Candle, Liquidation, MarkPrice } from "../binance/messages.ts";
import type { ExchangeSymbol, FundingRate, PremiumIndex } from "../binance/rest_parse.ts";
import type { Row } from "../storage/tables.ts";

/** Binance milliseconds to the contract's microseconds; null stays null. */
export function msToUs(ms: number | null): number | null {
  return ms === null ? null : ms * 1000;
}

/**
 * A `trades` row; REST trades (backfill) have no event time.
 *
 * @example
 * ```ts
 * const t = { aggTradeId: 7, price: 1, quantity: 2, firstTradeId: 9, lastTradeId: 9, tradeTime: 1000,
 *   isBuyerMaker: false, eventTime: 1001 };
 * tradeRow("BTCUSDT", t, null, 5_000_000, "rest").exchange_time; // null
 * ```
 */
export function tradeRow(
  symbol: string,
  t: AggTrade,
  eventTimeMs: number | null,
  localUs: number,
  source: "ws" | "rest",
): Row<"trades"> {
  return {
    symbol,
    exchange_time: msToUs(eventTimeMs),
    trade_time: t.tradeTime * 1000,
    local_time: localUs,
    agg_trade_id: t.aggTradeId,
    first_trade_id: t.firstTradeId,
    last_trade_id: t.lastTradeId,
    price: t.price,
    quantity: t.quantity,
    is_buyer_maker: t.isBuyerMaker,
    source,
  };
}

/** A `klines` row from a stream candle or a REST one (no event time). */
export function klineRow(
  symbol: string,
  interval: string,
  k: Candle,
  eventTimeMs: number | null,
  localUs: number,
): Row<"klines"> {
  return {
    symbol,
    interval,
    open_time: k.openTime * 1000,
    close_time: k.closeTime * 1000,
    open: k.open,
    high: k.high,
    low: k.low,
    close: k.close,
    volume: k.volume,
    quote_volume: k.quoteVolume,
    trade_count: k.tradeCount,
    taker_buy_volume: k.takerBuyVolume,
    taker_buy_quote_volume: k.takerBuyQuoteVolume,
    exchange_time: msToUs(eventTimeMs),
    local_time: localUs,
  };
}

/** A `book_tickers` row. */
export function bookTickerRow(symbol: string, b: BookTicker, localUs: number): Row<"book_tickers"> {
  return {
    symbol,
    update_id: b.updateId,
    exchange_time: msToUs(b.eventTime),
    transaction_time: msToUs(b.transactionTime),
    local_time: localUs,
    bid_price: b.bidPrice,
    bid_quantity: b.bidQuantity,
    ask_price: b.askPrice,
    ask_quantity: b.askQuantity,
  };
}

/** A `liquidations` row. */
export function liquidationRow(symbol: string, l: Liquidation, localUs: number): Row<"liquidations"> {
  return {
    symbol,
    exchange_time: l.eventTime * 1000,
    trade_time: l.tradeTime * 1000,
    local_time: localUs,
    side: l.side,
    order_type: l.orderType,
    time_in_force: l.timeInForce,
    price: l.price,
    average_price: l.averagePrice,
    original_quantity: l.originalQuantity,
    last_filled_quantity: l.lastFilledQuantity,
    filled_quantity: l.filledQuantity,
    status: l.status,
  };
}

/** A `mark_prices` row from the `markPrice` stream. */
export function markPriceRow(symbol: string, m: MarkPrice, localUs: number): Row<"mark_prices"> {
  return {
    symbol,
    exchange_time: m.eventTime * 1000,
    local_time: localUs,
    mark_price: m.markPrice,
    index_price: m.indexPrice,
    estimated_settle_price: m.estimatedSettlePrice,
    funding_rate: m.fundingRate,
    next_funding_time: msToUs(m.nextFundingTime),
  };
}

/** A `mark_prices` row from a REST `premiumIndex` answer (symbols not streamed). */
export function premiumIndexRow(p: PremiumIndex, localUs: number): Row<"mark_prices"> {
  return {
    symbol: p.symbol,
    exchange_time: p.time * 1000,
    local_time: localUs,
    mark_price: p.markPrice,
    index_price: p.indexPrice,
    estimated_settle_price: p.estimatedSettlePrice,
    funding_rate: p.lastFundingRate,
    next_funding_time: msToUs(p.nextFundingTime),
  };
}

/** An `instruments` row: a symbol as exchangeInfo describes it. */
export function instrumentRow(s: ExchangeSymbol, localUs: number): Row<"instruments"> {
  return {
    symbol: s.symbol,
    local_time: localUs,
    status: s.status,
    contract_type: s.contractType,
    contract_size: s.contractSize,
    delivery_time: msToUs(s.deliveryDate),
    onboard_time: msToUs(s.onboardDate),
    pair: s.pair,
    base_asset: s.baseAsset,
    quote_asset: s.quoteAsset,
    margin_asset: s.marginAsset,
  };
}

/** A `funding_rates` row from a REST `fundingRate` answer. */
export function fundingRow(f: FundingRate, localUs: number): Row<"funding_rates"> {
  return {
    symbol: f.symbol,
    funding_time: f.fundingTime * 1000,
    funding_rate: f.fundingRate,
    mark_price: f.markPrice,
    local_time: localUs,
  };
}

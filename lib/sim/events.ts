/**
 * What the market model emits, before any wire formatting. Prices and quantities are integer ticks and lots of
 * the event's {@link SymbolSpec}; level lists are flat `[tick, lots, tick, lots, …]` arrays. Each event carries
 * its precomputed stream name, so the server can look up subscribers without building strings.
 */
import type { SymbolSpec } from "./symbol_spec.ts";

/** A `depthUpdate` diff: the absolute quantity of every level that changed in one batching window. */
export interface DiffEvent {
  kind: "depth";
  spec: SymbolSpec;
  /** e.g. `btcusdt@depth@100ms`. */
  stream: string;
  /** Batching window in ms (100, 250, 500 or 1000). */
  speedMs: number;
  eventTime: number;
  /** Time of the last change in the window (futures `T`). */
  transactionTime: number;
  firstId: number;
  finalId: number;
  /** The previous event's `finalId` on the same stream (futures `pu`). */
  prevFinalId: number;
  bids: number[];
  asks: number[];
}

/** An aggregate trade: the fills of one taker order at one price. */
export interface AggTradeEvent {
  kind: "aggTrade";
  spec: SymbolSpec;
  stream: string;
  /** The spot `@trade` stream of the same symbol, whose events are the individual fills. */
  tradeStream: string;
  eventTime: number;
  tradeTime: number;
  aggId: number;
  priceTicks: number;
  lots: number;
  firstTradeId: number;
  lastTradeId: number;
  buyerMaker: boolean;
  /** Lots of each fill, one per trade id from `firstTradeId` to `lastTradeId`. */
  fills: number[];
}

/** One candle's state. */
export interface Candle {
  interval: string;
  openTime: number;
  closeTime: number;
  /** First and last trade id, -1 when the candle has no trades. */
  firstTradeId: number;
  lastTradeId: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volumeLots: number;
  /**
   * The wire `q`: quote volume, the sum of price ticks × lots in units of `10^-(priceDecimals + qtyDecimals)`;
   * on COIN-M the base-asset volume in units of 1e-8 (see `quoteVolumeUnits`).
   */
  quoteVolume: number;
  /** Number of trades (trade ids, not aggregate trades). */
  trades: number;
  takerBuyLots: number;
  /** Taker-buy `quoteVolume` (the wire `Q`), in its units. */
  takerBuyQuote: number;
}

/** A kline push; `closed` is the wire `x`. */
export interface KlineEvent {
  kind: "kline";
  spec: SymbolSpec;
  stream: string;
  eventTime: number;
  closed: boolean;
  candle: Candle;
}

/** Best bid and ask after a change of either; `updateId` is the book update id of that change. */
export interface BookTickerEvent {
  kind: "bookTicker";
  spec: SymbolSpec;
  stream: string;
  updateId: number;
  eventTime: number;
  bidTicks: number;
  bidLots: number;
  askTicks: number;
  askLots: number;
}

/**
 * Futures mark price update. Prices are in units of `10^-(priceDecimals + 2)`; the rate in units of 1e-8. A
 * COIN-M delivery contract has no funding: `fundingRate` null and `nextFundingTime` 0 (wire `"r":""`, `"T":0`).
 */
export interface MarkPriceEvent {
  kind: "markPrice";
  spec: SymbolSpec;
  stream: string;
  eventTime: number;
  mark: number;
  markAverage: number;
  index: number;
  settle: number;
  fundingRate: number | null;
  nextFundingTime: number;
}

/** Futures liquidation order snapshot. */
export interface ForceOrderEvent {
  kind: "forceOrder";
  spec: SymbolSpec;
  stream: string;
  eventTime: number;
  side: "BUY" | "SELL";
  priceTicks: number;
  averageTicks: number;
  lots: number;
  tradeTime: number;
}

/** Anything the market model emits. */
export type SimEvent =
  | DiffEvent
  | AggTradeEvent
  | KlineEvent
  | BookTickerEvent
  | MarkPriceEvent
  | ForceOrderEvent;

/** Mark prices carry two more decimals than the price grid. */
export const MARK_EXTRA_DECIMALS = 2;
/** Funding rates are integers of 1e-8. */
export const RATE_DECIMALS = 8;

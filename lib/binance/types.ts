/**
 * Typed shapes of the Binance market-data messages the collector understands, after parsing.
 *
 * Prices and quantities are float64 (the nearest double to Binance's decimal string, which prints back to the
 * same decimal). Update ids and trade ids fit in a double exactly (USD-M ids are around 1e13 < 2^53).
 * Times are milliseconds since the epoch as Binance sends them.
 */

export { type Market, MARKETS } from "./markets.ts";

/** One price level: `[price, quantity]`; quantity 0 removes the level. */
export type Level = [price: number, quantity: number];

/** A `depthUpdate` diff event. `transactionTime` and `prevFinalUpdateId` are null on spot. */
export interface DepthDiff {
  symbol: string;
  eventTime: number;
  transactionTime: number | null;
  firstUpdateId: number;
  finalUpdateId: number;
  prevFinalUpdateId: number | null;
  bids: Level[];
  asks: Level[];
  /** When the frame arrived, µs since the epoch: set by the pipeline, carried through a book's buffer. */
  localUs?: number;
}

/** A REST depth snapshot. `eventTime` / `transactionTime` are null on spot (its REST depth has no E/T). */
export interface DepthSnapshot {
  symbol: string;
  lastUpdateId: number;
  eventTime: number | null;
  transactionTime: number | null;
  bids: Level[];
  asks: Level[];
}

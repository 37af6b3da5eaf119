/**
 * Parameters and value types of the per-symbol market model (`symbol_engine.ts`), shared by the exchange that
 * builds engines and the ground truth that records their books.
 */
import type { Market } from "../binance/markets.ts";

/**
 * Where each market's ids start, before growing with the start time: book update ids (spot around 5e10,
 * USD-M 5e12, COIN-M 1e12, as recorded), aggregate trade ids and trade ids.
 */
export const ID_BASES: Readonly<Record<Market, { update: number; agg: number; trade: number }>> = {
  spot: { update: 4e10, agg: 2e9, trade: 3e9 },
  usdm: { update: 5e12, agg: 1.5e9, trade: 5e9 },
  coinm: { update: 1e12, agg: 5e8, trade: 8e8 },
};
/** Switches shared by all engines of an exchange, read on every step. */
export interface EngineControl {
  /** Keep a copy of the book every 2 s for the stale-snapshot fault (costly with thousands of symbols). */
  saveStaleBooks: boolean;
}

/** Tuning of the model; {@link Exchange} fills in defaults. */
export interface EngineParams {
  /** Seed of the whole exchange; each engine derives its own. */
  seed: number;
  /** Book level changes by makers per second. */
  changesPerSec: number;
  /** Taker orders per second (each gives one aggregate trade per price level it consumes). */
  tradesPerSec: number;
  /** Target number of levels per side; 0 picks 400–1200 from the symbol. */
  levelsPerSide: number;
  /** Standard deviation of the fair price's relative move per √second. */
  volatility: number;
  /** Most aggregate trades and candles per interval kept for REST. */
  historyLimit: number;
  /**
   * Step only at the first call in each slot of this many ms (0 = at every call). Quiet symbols of a whole
   * market step on the market's finest batching grid, which keeps every event on time at a fraction of the cost.
   */
  stepGridMs: number;
  control: EngineControl;
}

/** A full copy of the book at one update id (flat `[tick, lots, …]` pairs, best first). */
export interface BookCapture {
  updateId: number;
  time: number;
  transactionTime: number;
  bids: number[];
  asks: number[];
}

/** Extra work forced into one step (the burst fault). */
export interface Burst {
  updates: number;
  trades: number;
}

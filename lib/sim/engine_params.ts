/**
 * Parameters and value types of the per-symbol market model (`symbol_engine.ts`), shared by the exchange that
 * builds engines and the ground truth that records their books.
 */
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

/**
 * The markets the simulator plays: spot and USD-M (COIN-M is not simulated yet, so the collector's `coinm` is
 * left out of every per-market table here).
 * @module
 */
import type { Market as CollectorMarket } from "../binance/markets.ts";

/** A simulated market. */
export type Market = Exclude<CollectorMarket, "coinm">;

/** The simulated markets. */
export const MARKETS: readonly Market[] = ["spot", "usdm"];

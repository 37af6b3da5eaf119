/**
 * Message rate per market over the last hour, for the status page's rate chart: the market's frame counter is
 * sampled every `stepMs` (the caller's timer) and the rate between consecutive samples is kept in a ring of
 * `windowMs / stepMs` points. Memory is fixed (360 points per market by default), whatever the symbol count.
 * @module
 */

import type { Market } from "../binance/types.ts";

/** One market's rate over time: `[ms since the epoch, messages per second]`, oldest first. */
export interface RateSeries {
  market: Market;
  points: [number, number][];
}

/** Options of {@linkcode RateHistory}. */
export interface RateHistoryOptions {
  /** Time kept. @default 3600000 */
  windowMs?: number;
}

/**
 * Rates from cumulative counters.
 *
 * @example
 * ```ts
 * const history = new RateHistory();
 * history.sample(0, new Map([["spot", 120_000]]));
 * history.sample(30_000, new Map([["spot", 150_000]]));
 * history.series(); // [{ market: "spot", points: [[30000, 1000]] }]: 1,000 messages per second
 * ```
 */
export class RateHistory {
  readonly #windowMs: number;
  readonly #last = new Map<Market, { atMs: number; count: number }>();
  readonly #points = new Map<Market, [number, number][]>();

  constructor(options: RateHistoryOptions = {}) {
    this.#windowMs = options.windowMs ?? 3_600_000;
  }

  /**
   * Records each market's cumulative message count at `nowMs`. A counter that went down (a restart of the
   * source) starts over without a point.
   */
  sample(nowMs: number, counts: ReadonlyMap<Market, number>): void {
    for (const [market, count] of counts) {
      const last = this.#last.get(market);
      this.#last.set(market, { atMs: nowMs, count });
      if (last === undefined || count < last.count || nowMs <= last.atMs) continue;
      let points = this.#points.get(market);
      if (points === undefined) this.#points.set(market, points = []);
      points.push([nowMs, (count - last.count) / ((nowMs - last.atMs) / 1000)]);
      const oldest = nowMs - this.#windowMs;
      let drop = 0;
      while (drop < points.length && points[drop]![0] < oldest) drop++;
      if (drop > 0) points.splice(0, drop);
    }
  }

  /** The kept points per market, by market name. */
  series(): RateSeries[] {
    return [...this.#points].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([market, points]) => ({
      market,
      points: points.map(([t, r]): [number, number] => [t, r]),
    }));
  }
}

/**
 * The aggregate-trade history of one (market, symbol), for REST `aggTrades`: ids are consecutive and times are
 * non-decreasing, so both lookups are index arithmetic or a binary search. The oldest half is dropped when the
 * history reaches its limit, bounding memory in long or firehose runs.
 */
import type { AggTradeEvent } from "./events.ts";

/** Query of REST `aggTrades` (already validated). */
export interface AggTradeQuery {
  fromId?: number;
  startTime?: number;
  endTime?: number;
  limit: number;
}

/**
 * Stored aggregate trades.
 *
 * @example
 * ```ts
 * const h = new TradeHistory(100_000);
 * h.add(event);
 * h.query({ fromId: event.aggId, limit: 10 }); // [event]
 * ```
 */
export class TradeHistory {
  readonly #trades: AggTradeEvent[] = [];
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Number of stored trades. */
  get size(): number {
    return this.#trades.length;
  }

  /** Appends a trade (ids must be consecutive). */
  add(trade: AggTradeEvent): void {
    this.#trades.push(trade);
    if (this.#trades.length > this.#limit) this.#trades.splice(0, this.#trades.length >> 1);
  }

  /**
   * Binance semantics: `fromId` → trades from that id on; `startTime`/`endTime` → trades whose trade time is in
   * the range, oldest first; neither → the latest `limit` trades.
   */
  query(q: AggTradeQuery): AggTradeEvent[] {
    const all = this.#trades;
    const first = all[0];
    if (first === undefined) return [];
    let from: number;
    if (q.fromId !== undefined) from = Math.max(0, q.fromId - first.aggId);
    else if (q.startTime !== undefined) from = this.#firstAtOrAfter(q.startTime);
    else if (q.endTime !== undefined) from = Math.max(0, this.#firstAtOrAfter(q.endTime + 1) - q.limit);
    else from = Math.max(0, all.length - q.limit);
    const out: AggTradeEvent[] = [];
    for (let i = from; i < all.length && out.length < q.limit; i++) {
      const t = all[i]!;
      if (q.endTime !== undefined && t.tradeTime > q.endTime) break;
      if (q.startTime !== undefined && t.tradeTime < q.startTime) continue;
      out.push(t);
    }
    return out;
  }

  #firstAtOrAfter(time: number): number {
    const all = this.#trades;
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (all[mid]!.tradeTime < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

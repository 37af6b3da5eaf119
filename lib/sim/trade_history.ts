/**
 * The aggregate-trade history of one (market, symbol), for REST `aggTrades`: ids are consecutive and times are
 * non-decreasing, so both lookups are index arithmetic or a binary search. Trades are kept in columns of typed
 * arrays (about 35 bytes a trade, a seventh of an event object), so a whole simulated market's history stays
 * small; the oldest half is dropped when the history reaches its limit, bounding memory in long or firehose runs.
 */
import type { AggTradeEvent } from "./events.ts";

/** Query of REST `aggTrades` (already validated). */
export interface AggTradeQuery {
  fromId?: number;
  startTime?: number;
  endTime?: number;
  limit: number;
}

/** A stored aggregate trade: what REST `aggTrades` returns, in ticks and lots. */
export interface StoredTrade {
  aggId: number;
  priceTicks: number;
  lots: number;
  firstTradeId: number;
  lastTradeId: number;
  tradeTime: number;
  buyerMaker: boolean;
}

/**
 * Stored aggregate trades.
 *
 * @example
 * ```ts
 * import type { AggTradeEvent } from "./events.ts";
 * import { symbolSpec } from "./symbol_spec.ts";
 * const event: AggTradeEvent = {
 *   kind: "aggTrade",
 *   spec: symbolSpec("spot", "BTCUSDT"),
 *   stream: "btcusdt@aggTrade",
 *   tradeStream: "btcusdt@trade",
 *   eventTime: 1000,
 *   tradeTime: 1000,
 *   aggId: 7,
 *   priceTicks: 6160201,
 *   lots: 5,
 *   firstTradeId: 70,
 *   lastTradeId: 71,
 *   buyerMaker: false,
 *   fills: [2, 3],
 * };
 * const h = new TradeHistory(100_000);
 * h.add(event);
 * h.query({ fromId: 7, limit: 10 }); // [{ aggId: 7, priceTicks: 6160201, lots: 5, … }]
 * ```
 */
export class TradeHistory {
  readonly #limit: number;
  /** Aggregate id of the trade at index 0. */
  #firstAggId = 0;
  #size = 0;
  #price = new Float64Array(16);
  #lots = new Float64Array(16);
  #firstTradeId = new Float64Array(16);
  #time = new Float64Array(16);
  #fills = new Uint16Array(16);
  #buyerMaker = new Uint8Array(16);

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Number of stored trades. */
  get size(): number {
    return this.#size;
  }

  /** Appends a trade (ids must be consecutive). */
  add(trade: AggTradeEvent): void {
    if (this.#size === 0) this.#firstAggId = trade.aggId;
    if (this.#size === this.#price.length) this.#grow();
    const i = this.#size++;
    this.#price[i] = trade.priceTicks;
    this.#lots[i] = trade.lots;
    this.#firstTradeId[i] = trade.firstTradeId;
    this.#time[i] = trade.tradeTime;
    this.#fills[i] = trade.lastTradeId - trade.firstTradeId + 1;
    this.#buyerMaker[i] = trade.buyerMaker ? 1 : 0;
    if (this.#size > this.#limit) this.#dropOldest(this.#size >> 1);
  }

  /**
   * Binance semantics: `fromId` → trades from that id on; `startTime`/`endTime` → trades whose trade time is in
   * the range, oldest first; neither → the latest `limit` trades.
   */
  query(q: AggTradeQuery): StoredTrade[] {
    const size = this.#size;
    if (size === 0) return [];
    let from: number;
    if (q.fromId !== undefined) from = Math.max(0, q.fromId - this.#firstAggId);
    else if (q.startTime !== undefined) from = this.#firstAtOrAfter(q.startTime);
    else if (q.endTime !== undefined) from = Math.max(0, this.#firstAtOrAfter(q.endTime + 1) - q.limit);
    else from = Math.max(0, size - q.limit);
    const out: StoredTrade[] = [];
    for (let i = from; i < size && out.length < q.limit; i++) {
      const time = this.#time[i]!;
      if (q.endTime !== undefined && time > q.endTime) break;
      if (q.startTime !== undefined && time < q.startTime) continue;
      const first = this.#firstTradeId[i]!;
      out.push({
        aggId: this.#firstAggId + i,
        priceTicks: this.#price[i]!,
        lots: this.#lots[i]!,
        firstTradeId: first,
        lastTradeId: first + this.#fills[i]! - 1,
        tradeTime: time,
        buyerMaker: this.#buyerMaker[i] === 1,
      });
    }
    return out;
  }

  #grow(): void {
    const capacity = Math.min(this.#price.length * 2, this.#limit + 1);
    const widen = <T extends Float64Array | Uint16Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.#price = widen(this.#price, (n) => new Float64Array(n));
    this.#lots = widen(this.#lots, (n) => new Float64Array(n));
    this.#firstTradeId = widen(this.#firstTradeId, (n) => new Float64Array(n));
    this.#time = widen(this.#time, (n) => new Float64Array(n));
    this.#fills = widen(this.#fills, (n) => new Uint16Array(n));
    this.#buyerMaker = widen(this.#buyerMaker, (n) => new Uint8Array(n));
  }

  #dropOldest(n: number): void {
    for (
      const column of [this.#price, this.#lots, this.#firstTradeId, this.#time, this.#fills, this.#buyerMaker]
    ) {
      column.copyWithin(0, n, this.#size);
    }
    this.#size -= n;
    this.#firstAggId += n;
  }

  #firstAtOrAfter(time: number): number {
    let lo = 0;
    let hi = this.#size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#time[mid]! < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * Candles of one (market, symbol, interval): updated by every trade, closed when their time is up (empty
 * intervals give flat candles with no trades, as on Binance), pushed open at the stream's cadence, and kept
 * for REST `klines`.
 */
import type { Candle, KlineEvent, SimEvent } from "./events.ts";
import type { KlineInterval } from "./streams.ts";
import type { SymbolSpec } from "./symbol_spec.ts";

/** After a stall longer than this many intervals, skip ahead instead of emitting every empty candle. */
const MAX_CATCH_UP = 1000;

/**
 * One interval's candles.
 *
 * @example
 * ```ts
 * const k = new KlineSeries(spec, { name: "1m", ms: 60_000, pushMs: 2000 }, "btcusdt@kline_1m", now, 6160201, 10_000);
 * k.addTrade(6160300, 5, false, 7, 7);
 * k.advance(now + 60_000, events); // pushes the closed candle
 * ```
 */
export class KlineSeries {
  readonly interval: KlineInterval;
  readonly stream: string;
  readonly #spec: SymbolSpec;
  readonly #history: Candle[] = [];
  readonly #historyLimit: number;
  #current: Candle;
  #nextPush: number;

  constructor(
    spec: SymbolSpec,
    interval: KlineInterval,
    stream: string,
    now: number,
    priceTicks: number,
    historyLimit: number,
  ) {
    this.#spec = spec;
    this.interval = interval;
    this.stream = stream;
    this.#historyLimit = historyLimit;
    this.#current = emptyCandle(interval, Math.floor(now / interval.ms) * interval.ms, priceTicks);
    this.#nextPush = (Math.floor(now / interval.pushMs) + 1) * interval.pushMs;
  }

  /** Adds the fills of one aggregate trade (ids `firstId..lastId`) to the open candle. */
  addTrade(priceTicks: number, lots: number, takerBuy: boolean, firstId: number, lastId: number): void {
    const c = this.#current;
    if (c.trades === 0) {
      c.open = c.high = c.low = priceTicks;
      c.firstTradeId = firstId;
    }
    if (priceTicks > c.high) c.high = priceTicks;
    if (priceTicks < c.low) c.low = priceTicks;
    c.close = priceTicks;
    c.lastTradeId = lastId;
    c.trades += lastId - firstId + 1;
    c.volumeLots += lots;
    c.quoteVolume += priceTicks * lots;
    if (takerBuy) {
      c.takerBuyLots += lots;
      c.takerBuyQuote += priceTicks * lots;
    }
  }

  /** Closes every candle that ended by `now` and pushes the open one when its push time has come. */
  advance(now: number, out: SimEvent[]): void {
    const { ms, pushMs } = this.interval;
    if (now - this.#current.openTime >= ms * MAX_CATCH_UP) {
      this.#close(now, out);
      this.#current = emptyCandle(this.interval, Math.floor(now / ms) * ms, this.#current.close);
    }
    while (now > this.#current.closeTime) {
      this.#close(now, out);
      this.#current = emptyCandle(this.interval, this.#current.closeTime + 1, this.#current.close);
    }
    if (now >= this.#nextPush) {
      this.#nextPush = (Math.floor(now / pushMs) + 1) * pushMs;
      // A candle as long as the push cadence (1s) is only pushed when it closes.
      if (pushMs < ms) out.push(this.#event(now, { ...this.#current }, false));
    }
  }

  /**
   * Candles for REST `klines`: closed history plus the open candle, oldest first; `startTime`/`endTime` bound
   * the open time; without `startTime` the latest `limit` are returned.
   */
  query(startTime: number | undefined, endTime: number | undefined, limit: number): Candle[] {
    const all = [...this.#history, this.#current];
    const inRange = all.filter((c) =>
      (startTime === undefined || c.openTime >= startTime) && (endTime === undefined || c.openTime <= endTime)
    );
    return startTime === undefined ? inRange.slice(-limit) : inRange.slice(0, limit);
  }

  #close(now: number, out: SimEvent[]): void {
    const closed = this.#current;
    this.#history.push(closed);
    if (this.#history.length > this.#historyLimit) this.#history.splice(0, this.#history.length >> 1);
    out.push(this.#event(now, closed, true));
  }

  #event(now: number, candle: Candle, closed: boolean): KlineEvent {
    return { kind: "kline", spec: this.#spec, stream: this.stream, eventTime: now, closed, candle };
  }
}

function emptyCandle(interval: KlineInterval, openTime: number, priceTicks: number): Candle {
  return {
    interval: interval.name,
    openTime,
    closeTime: openTime + interval.ms - 1,
    firstTradeId: -1,
    lastTradeId: -1,
    open: priceTicks,
    high: priceTicks,
    low: priceTicks,
    close: priceTicks,
    volumeLots: 0,
    quoteVolume: 0,
    trades: 0,
    takerBuyLots: 0,
    takerBuyQuote: 0,
  };
}

/**
 * Candles of one (market, symbol, interval): updated by every trade, closed when their time is up (empty
 * intervals give flat candles with no trades, as on Binance), pushed open at the stream's cadence, and kept
 * for REST `klines`.
 *
 * History is compact: closed candles are rows of numbers in a {@link ColumnLog} (96 bytes, no object), and a
 * candle without trades is fully given by its open time and the previous close, so the trade-free candles after
 * a candle are a count on its row. A quiet symbol's 1 s candles (nearly all empty) then cost one row per
 * second with trades, which keeps a whole simulated market's memory bounded by its trades rather than by its
 * running time.
 */
import { ColumnLog } from "./column_log.ts";
import type { Candle, KlineEvent, SimEvent } from "./events.ts";
import type { KlineInterval } from "./streams.ts";
import { quoteVolumeUnits, type SymbolSpec } from "./symbol_spec.ts";

/** After a stall longer than this many intervals, skip ahead instead of emitting every empty candle. */
const MAX_CATCH_UP = 1000;

/**
 * Columns of a history row: the candle opening at `OPEN_TIME` (trade-free when `TRADES` is 0: all prices
 * `CLOSE`), then `RUN` trade-free candles at its close. A quiet symbol's row is one trade-second and the empty
 * seconds up to the next.
 */
const OPEN_TIME = 0;
const RUN = 1;
const OPEN = 2;
const HIGH = 3;
const LOW = 4;
const CLOSE = 5;
const VOLUME = 6;
const QUOTE = 7;
const TRADES = 8;
const TAKER_LOTS = 9;
const TAKER_QUOTE = 10;
const FIRST_ID = 11;
const WIDTH = 12;

/**
 * One interval's candles.
 *
 * @example
 * ```ts
 * import type { SimEvent } from "./events.ts";
 * import { symbolSpec } from "./symbol_spec.ts";
 * const interval = { name: "1m", ms: 60_000, pushMs: 2000 };
 * const now = Date.UTC(2026, 0, 1);
 * const k = new KlineSeries(symbolSpec("spot", "BTCUSDT"), interval, "btcusdt@kline_1m", now, 6160201, 10_000);
 * k.addTrade(6160300, 5, false, 7, 7);
 * const events: SimEvent[] = [];
 * k.advance(now + 60_000, events); // pushes the closed candle
 * ```
 */
export class KlineSeries {
  readonly interval: KlineInterval;
  readonly stream: string;
  readonly #spec: SymbolSpec;
  /** Closed candles, oldest first; runs of empty ones are one row. */
  readonly #history = new ColumnLog(WIDTH);
  /** Candles in `#history`, counting each run's length. */
  #stored = 0;
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

  /** The earliest time at which {@link advance} has something to do. */
  get nextDue(): number {
    return Math.min(this.#nextPush, this.#current.closeTime + 1);
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
    const quote = quoteVolumeUnits(this.#spec, priceTicks, lots);
    c.volumeLots += lots;
    c.quoteVolume += quote;
    if (takerBuy) {
      c.takerBuyLots += lots;
      c.takerBuyQuote += quote;
    }
  }

  /** Closes every candle that ended by `now` and pushes the open one when its push time has come. */
  advance(now: number, out: SimEvent[]): void {
    const { ms, pushMs } = this.interval;
    if (now - this.#current.openTime >= ms * MAX_CATCH_UP) this.#skipTo(now, out);
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
   * After a halt: closes the open candle if its time is up and starts the one containing `now`, without the
   * candles of the halted time in between (they never existed; REST history has a hole there).
   */
  resume(now: number, out: SimEvent[]): void {
    if (now > this.#current.closeTime) this.#skipTo(now, out);
    this.#nextPush = (Math.floor(now / this.interval.pushMs) + 1) * this.interval.pushMs;
  }

  /**
   * Candles for REST `klines`: closed history plus the open candle, oldest first; `startTime`/`endTime` bound
   * the open time; without `startTime` the latest `limit` are returned.
   */
  query(startTime: number | undefined, endTime: number | undefined, limit: number): Candle[] {
    const lo = startTime ?? -Infinity;
    const hi = endTime ?? Infinity;
    const rows = this.#history.length;
    const current = this.#current;
    const inRange = current.openTime >= lo && current.openTime <= hi;
    const out: Candle[] = [];
    if (startTime !== undefined) {
      for (let i = 0; i < rows && out.length < limit; i++) {
        this.#expand(i, lo, hi, limit - out.length, false, out);
      }
      if (inRange && out.length < limit) out.push(current);
      return out;
    }
    if (inRange && limit > 0) out.push(current);
    for (let i = rows - 1; i >= 0 && out.length < limit; i--) {
      this.#expand(i, lo, hi, limit - out.length, true, out);
    }
    return out.reverse();
  }

  /** Appends the candles of history row `i` with open time in [lo, hi], at most `max`, newest first if `backwards`. */
  #expand(i: number, lo: number, hi: number, max: number, backwards: boolean, out: Candle[]): void {
    const h = this.#history;
    const openTime = h.get(i, OPEN_TIME);
    const ms = this.interval.ms;
    const first = Math.max(0, Math.ceil((lo - openTime) / ms));
    const last = Math.min(h.get(i, RUN), Math.floor((hi - openTime) / ms));
    for (let n = 0; n <= last - first && n < max; n++) {
      const k = backwards ? last - n : first + n;
      out.push(
        k === 0 && h.get(i, TRADES) > 0
          ? this.#candleAt(i)
          : emptyCandle(this.interval, openTime + k * ms, h.get(i, CLOSE)),
      );
    }
  }

  /** The first candle of history row `i` (one with trades). */
  #candleAt(i: number): Candle {
    const g = (column: number) => this.#history.get(i, column);
    const openTime = g(OPEN_TIME);
    return {
      interval: this.interval.name,
      openTime,
      closeTime: openTime + this.interval.ms - 1,
      firstTradeId: g(FIRST_ID),
      lastTradeId: g(FIRST_ID) + g(TRADES) - 1,
      open: g(OPEN),
      high: g(HIGH),
      low: g(LOW),
      close: g(CLOSE),
      volumeLots: g(VOLUME),
      quoteVolume: g(QUOTE),
      trades: g(TRADES),
      takerBuyLots: g(TAKER_LOTS),
      takerBuyQuote: g(TAKER_QUOTE),
    };
  }

  /** Closes the open candle and starts the one containing `now` (a hole in between). */
  #skipTo(now: number, out: SimEvent[]): void {
    this.#close(now, out);
    const ms = this.interval.ms;
    this.#current = emptyCandle(this.interval, Math.floor(now / ms) * ms, this.#current.close);
  }

  #close(now: number, out: SimEvent[]): void {
    const closed = this.#current;
    this.#store(closed);
    out.push(this.#event(now, closed, true));
  }

  #store(c: Candle): void {
    const h = this.#history;
    const last = h.length - 1;
    const ms = this.interval.ms;
    if (
      c.trades === 0 && last >= 0 && h.get(last, CLOSE) === c.close &&
      h.get(last, OPEN_TIME) + (h.get(last, RUN) + 1) * ms === c.openTime
    ) {
      h.set(last, RUN, h.get(last, RUN) + 1);
    } else {
      h.push([
        c.openTime,
        0,
        c.open,
        c.high,
        c.low,
        c.close,
        c.volumeLots,
        c.quoteVolume,
        c.trades,
        c.takerBuyLots,
        c.takerBuyQuote,
        c.firstTradeId,
      ]);
    }
    this.#stored++;
    if (this.#stored <= this.#historyLimit) return;
    // Drop the oldest half, so trimming is rare.
    let drop = this.#stored >> 1;
    let n = 0;
    for (; n < h.length && drop > 0; n++) {
      const size = 1 + h.get(n, RUN);
      if (size > drop) {
        // The row keeps only trade-free candles: it becomes one opening with the first of them.
        h.set(n, OPEN_TIME, h.get(n, OPEN_TIME) + drop * ms);
        h.set(n, RUN, size - drop - 1);
        for (const column of [OPEN, HIGH, LOW]) h.set(n, column, h.get(n, CLOSE));
        for (const column of [VOLUME, QUOTE, TRADES, TAKER_LOTS, TAKER_QUOTE]) h.set(n, column, 0);
        h.set(n, FIRST_ID, -1);
        this.#stored -= drop;
        break;
      }
      drop -= size;
      this.#stored -= size;
    }
    h.dropFirst(n);
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

/**
 * Candles of one (market, symbol, interval): updated by every trade, closed when their time is up (empty
 * intervals give flat candles with no trades, as on Binance), pushed open at the stream's cadence, and kept
 * for REST `klines`.
 *
 * History is compact: a candle without trades is fully given by its open time and the previous close, so a run
 * of them is kept as one entry. A quiet symbol's 1 s candles (nearly all empty) then cost almost nothing, which
 * keeps a whole simulated market's memory bounded by its trades rather than by its running time.
 */
import type { Candle, KlineEvent, SimEvent } from "./events.ts";
import type { KlineInterval } from "./streams.ts";
import type { SymbolSpec } from "./symbol_spec.ts";

/** After a stall longer than this many intervals, skip ahead instead of emitting every empty candle. */
const MAX_CATCH_UP = 1000;

/** `count` consecutive trade-free candles from `openTime`, all at `price`. */
interface EmptyRun {
  run: true;
  openTime: number;
  count: number;
  price: number;
}

type Entry = Candle | EmptyRun;

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
  /** Closed candles, oldest first; runs of empty ones are one entry. */
  readonly #history: Entry[] = [];
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
    const entries = [...this.#history, this.#current];
    const out: Candle[] = [];
    if (startTime !== undefined) {
      for (const e of entries) {
        if (out.length >= limit) break;
        this.#expand(e, lo, hi, limit - out.length, false, out);
      }
      return out;
    }
    for (let i = entries.length - 1; i >= 0 && out.length < limit; i--) {
      this.#expand(entries[i]!, lo, hi, limit - out.length, true, out);
    }
    return out.reverse();
  }

  /** Appends the candles of `e` with open time in [lo, hi], at most `max`, newest first when `backwards`. */
  #expand(e: Entry, lo: number, hi: number, max: number, backwards: boolean, out: Candle[]): void {
    if (!("run" in e)) {
      if (e.openTime >= lo && e.openTime <= hi) out.push(e);
      return;
    }
    const ms = this.interval.ms;
    const first = Math.max(0, Math.ceil((lo - e.openTime) / ms));
    const last = Math.min(e.count - 1, Math.floor((hi - e.openTime) / ms));
    for (let n = 0; n <= last - first && n < max; n++) {
      const i = backwards ? last - n : first + n;
      out.push(emptyCandle(this.interval, e.openTime + i * ms, e.price));
    }
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
    const history = this.#history;
    const last = history[history.length - 1];
    if (c.trades > 0) {
      history.push(c);
    } else if (
      last !== undefined && "run" in last && last.price === c.close &&
      last.openTime + last.count * this.interval.ms === c.openTime
    ) {
      last.count++;
    } else {
      history.push({ run: true, openTime: c.openTime, count: 1, price: c.close });
    }
    this.#stored++;
    if (this.#stored <= this.#historyLimit) return;
    // Drop the oldest half, so trimming is rare.
    let drop = this.#stored >> 1;
    let n = 0;
    for (; n < history.length && drop > 0; n++) {
      const e = history[n]!;
      const size = "run" in e ? e.count : 1;
      if (size > drop) {
        const r = e as EmptyRun;
        r.openTime += drop * this.interval.ms;
        r.count -= drop;
        this.#stored -= drop;
        break;
      }
      drop -= size;
      this.#stored -= size;
    }
    history.splice(0, n);
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

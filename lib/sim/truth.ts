/**
 * Ground truth: what the simulated exchange really did, recorded before any fault touched it, so integration
 * tests can compare the collector's output with it. Kept in memory (queries below) and/or written as JSON
 * lines through a sink (one object per line, `type` first; events carry their exact wire frame in `data`).
 *
 * Recorded per (market, symbol): the initial book with its update id, every `@depth@100ms` diff event (plus,
 * in memory, the futures' internal 50 ms diffs, so `bookAt` answers for the final id of any diff stream), every
 * aggregate trade, every closed kline, every bookTicker, markPrice (1 s stream) and forceOrder event; plus
 * what the diff faults did to which event (drop, duplicate, delay), each disconnect or shutdown fault, and
 * every listing change (list, delist, halt, resume, and COIN-M deliveries).
 *
 * In memory every event is one compact row of numbers (`truth_records.ts`), about 50–100 bytes. With
 * `windowMs`, memory keeps only the events of the last `windowMs` (listing changes and initial books are always
 * kept): older diffs are folded into a base book, so `bookAt` still answers for every id in the window. That
 * bounds a long run of a whole market; the JSON-lines sink always gets everything.
 */
import type { DepthDiff, DepthSnapshot, Level } from "../binance/types.ts";
import type { Market } from "../binance/markets.ts";
import { BookModel } from "./book_model.ts";
import { ColumnLog } from "./column_log.ts";
import type { BookCapture } from "./engine_params.ts";
import type { SimEvent } from "./events.ts";
import { eventFrame, levelsJson } from "./frames.ts";
import { TRUTH_BATCH_MS, TRUTH_DEPTH_SPEED_MS } from "./streams.ts";
import type { SymbolSpec } from "./symbol_spec.ts";
import * as records from "./truth_records.ts";
import type { SymbolStatus } from "./universe.ts";

/** What a diff fault did to one diff event of one stream. */
export interface DiffFaultRecord {
  action: "drop" | "duplicate" | "delay";
  market: Market;
  symbol: string;
  stream: string;
  firstUpdateId: number;
  finalUpdateId: number;
  time: number;
}

/** A connection-level fault: how many connections it hit. */
export interface ConnectionFaultRecord {
  action: "disconnect" | "serverShutdown";
  market: Market | null;
  connections: number;
  time: number;
}

/** Any recorded fault. */
export type FaultRecord = DiffFaultRecord | ConnectionFaultRecord;

/**
 * A listing change: `status` is the symbol's status from `time` on (`deliver`: a COIN-M contract delivered,
 * DELIVERING). A change the exchange refused (listing a listed symbol, delisting an unknown one) changed
 * nothing and carries the reason in `error`.
 */
export interface ListingRecord {
  action: "list" | "delist" | "halt" | "resume" | "deliver";
  market: Market;
  symbol: string;
  status: SymbolStatus | null;
  time: number;
  error?: string;
}

/** The true book at an update id, best levels first. */
export interface TrueBook {
  lastUpdateId: number;
  bids: Level[];
  asks: Level[];
}

/** Thrown when a truth query cannot be answered. */
export class TruthQueryError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "TruthQueryError";
  }
}

interface Series {
  spec: SymbolSpec;
  initial: BookCapture;
  /** The book before `bookDiffs` row 0: the initial book until the window first moves. */
  base: BookCapture;
  diffs: ColumnLog;
  /** Diffs of the truth batch window ({@link TRUTH_BATCH_MS}); the same log as `diffs` on spot. */
  bookDiffs: ColumnLog;
  trades: ColumnLog;
  klines: ColumnLog;
  bookTickers: ColumnLog;
  markPrices: ColumnLog;
  forceOrders: ColumnLog;
  /** Replay cursor of {@link GroundTruth.bookAt}: the book after `bookDiffs` rows `[0, next)`. */
  cursor: { book: BookModel; next: number } | null;
}

/** Where ground truth goes. */
export interface TruthOptions {
  /** Keep events in memory for the query methods. */
  memory: boolean;
  /** Keep only the events of the last `windowMs` in memory (default: all). */
  windowMs?: number;
  /** Receives one JSON line (without newline) per record. */
  sink?: (line: string) => void;
}

/**
 * The ground-truth recorder.
 *
 * @example
 * ```ts
 * import { Exchange } from "./exchange.ts";
 * const start = Date.now();
 * const exchange = new Exchange({ symbols: ["BTCUSDT"] }, start);
 * const truth = new GroundTruth({ memory: true });
 * for (const engine of exchange.engines()) truth.addSymbol(engine.spec, engine.initial);
 * for (let now = start + 10; now <= start + 500; now += 10) {
 *   for (const event of exchange.step(now, null)) truth.record(event);
 * }
 * truth.bookAt("spot", "BTCUSDT", truth.diffs("spot", "BTCUSDT")[0]!.finalUpdateId, 10);
 * ```
 */
export class GroundTruth {
  readonly #series = new Map<string, Series>();
  readonly #faults: FaultRecord[] = [];
  readonly #listings: ListingRecord[] = [];
  readonly #memory: boolean;
  readonly #windowMs: number;
  readonly #sink: ((line: string) => void) | undefined;
  #nextPrune = -Infinity;

  constructor(options: TruthOptions) {
    this.#memory = options.memory;
    this.#windowMs = options.windowMs ?? Infinity;
    this.#sink = options.sink;
  }

  /** Registers a (market, symbol) with its initial book. */
  addSymbol(spec: SymbolSpec, initial: BookCapture): void {
    const W = records.WIDTH;
    const diffs = new ColumnLog(W.diff);
    this.#series.set(`${spec.market}:${spec.symbol}`, {
      spec,
      initial,
      base: initial,
      diffs,
      bookDiffs: TRUTH_BATCH_MS[spec.market] === TRUTH_DEPTH_SPEED_MS ? diffs : new ColumnLog(W.diff),
      trades: new ColumnLog(W.trade),
      klines: new ColumnLog(W.kline),
      bookTickers: new ColumnLog(W.bookTicker),
      markPrices: new ColumnLog(W.markPrice),
      forceOrders: new ColumnLog(W.forceOrder),
      cursor: null,
    });
    if (this.#sink !== undefined) {
      const bids = levelsJson(spec, initial.bids);
      const asks = levelsJson(spec, initial.asks);
      this.#sink(
        `{"type":"initialBook","market":"${spec.market}","symbol":${spec.json},"time":${initial.time},` +
          `"lastUpdateId":${initial.updateId},"bids":${bids},"asks":${asks}}`,
      );
    }
  }

  /** Records an exchange event if it is part of the truth (see the module docs). */
  record(ev: SimEvent): void {
    const series = this.#series.get(`${ev.spec.market}:${ev.spec.symbol}`);
    if (series === undefined) return;
    const memory = this.#memory;
    switch (ev.kind) {
      case "depth":
        if (ev.speedMs !== TRUTH_DEPTH_SPEED_MS) {
          if (ev.speedMs === TRUTH_BATCH_MS[ev.spec.market] && memory) records.pushDiff(series.bookDiffs, ev);
          return;
        }
        if (memory) records.pushDiff(series.diffs, ev);
        break;
      case "aggTrade":
        if (memory) records.pushTrade(series.trades, ev);
        break;
      case "kline":
        if (!ev.closed) return;
        if (memory) records.pushKline(series.klines, ev);
        break;
      case "bookTicker":
        if (memory) records.pushBookTicker(series.bookTickers, ev);
        break;
      case "markPrice":
        if (ev.stream !== `${ev.spec.lower}@markPrice@1s`) return;
        if (memory) records.pushMarkPrice(series.markPrices, ev);
        break;
      case "forceOrder":
        if (memory) records.pushForceOrder(series.forceOrders, ev);
        break;
    }
    if (this.#sink !== undefined) {
      this.#sink(
        `{"type":"${ev.kind}","market":"${ev.spec.market}","symbol":${ev.spec.json},"time":${ev.eventTime},` +
          `"data":${eventFrame(ev)}}`,
      );
    }
  }

  /** Records what a fault did. */
  recordFault(fault: FaultRecord): void {
    if (this.#memory) this.#faults.push(fault);
    if (this.#sink !== undefined) this.#sink(JSON.stringify({ type: "fault", ...fault }));
  }

  /** Records a listing change (after {@link addSymbol} for a new listing). */
  recordListing(change: ListingRecord): void {
    if (this.#memory) this.#listings.push(change);
    if (this.#sink !== undefined) this.#sink(JSON.stringify({ type: "listing", ...change }));
  }

  /**
   * Drops what has left the window at `now` (at most every tenth of the window, so each drop is a batch),
   * folding dropped diffs into each symbol's base book.
   */
  prune(now: number): void {
    if (!this.#memory || this.#windowMs === Infinity || now < this.#nextPrune) return;
    this.#nextPrune = now + Math.max(1000, this.#windowMs / 10);
    const cutoff = now - this.#windowMs;
    for (const s of this.#series.values()) {
      const folded = s.bookDiffs.firstAtLeast(0, cutoff);
      if (folded > 0) {
        const book = new BookModel();
        book.apply("bid", s.base.bids);
        book.apply("ask", s.base.asks);
        records.applyDiffs(book, s.bookDiffs, 0, folded);
        s.base = records.captureAfter(book, s.bookDiffs, folded - 1);
        s.bookDiffs.dropFirst(folded);
        s.cursor = null;
      }
      for (const log of [s.diffs, s.trades, s.klines, s.bookTickers, s.markPrices, s.forceOrders]) {
        if (log !== s.bookDiffs) log.dropFirst(log.firstAtLeast(0, cutoff));
      }
    }
    const faults = this.#faults.findIndex((f) => f.time >= cutoff);
    this.#faults.splice(0, faults < 0 ? this.#faults.length : faults);
  }

  /** The book the exchange started with (or listed the symbol with). */
  initialBook(market: Market, symbol: string): DepthSnapshot {
    const s = this.#get(market, symbol);
    return records.snapshotOf(s.spec, s.initial);
  }

  /** Every `@depth@100ms` diff event (in the window), in order. */
  diffs(market: Market, symbol: string): DepthDiff[] {
    const s = this.#get(market, symbol);
    return records.diffRecords(s.spec, s.diffs);
  }

  /** Every aggregate trade (in the window), in id order. */
  trades(market: Market, symbol: string): records.TruthTrade[] {
    const s = this.#get(market, symbol);
    return records.tradeRecords(s.spec, s.trades);
  }

  /** Every closed candle (in the window), optionally of one interval. */
  klines(market: Market, symbol: string, interval?: string): records.TruthKline[] {
    const s = this.#get(market, symbol);
    return records.klineRecords(s.spec, s.klines, interval);
  }

  /** Every bookTicker event (in the window). */
  bookTickers(market: Market, symbol: string): records.TruthBookTicker[] {
    const s = this.#get(market, symbol);
    return records.bookTickerRecords(s.spec, s.bookTickers);
  }

  /** Every markPriceUpdate of the 1 s stream (futures, in the window). */
  markPrices(market: Market, symbol: string): records.TruthMarkPrice[] {
    const s = this.#get(market, symbol);
    return records.markPriceRecords(s.spec, s.markPrices);
  }

  /** Every forceOrder event (futures, in the window). */
  forceOrders(market: Market, symbol: string): records.TruthLiquidation[] {
    const s = this.#get(market, symbol);
    return records.forceOrderRecords(s.spec, s.forceOrders);
  }

  /** Recorded faults (in the window), optionally only those of one market and/or symbol. */
  faults(market?: Market, symbol?: string): FaultRecord[] {
    return this.#faults.filter((f) =>
      (market === undefined || f.market === market) &&
      (symbol === undefined || ("symbol" in f && f.symbol === symbol))
    );
  }

  /** Every listing change, optionally only those of one market and/or symbol. */
  listings(market?: Market, symbol?: string): ListingRecord[] {
    this.#requireMemory();
    return this.#listings.filter((l) =>
      (market === undefined || l.market === market) && (symbol === undefined || l.symbol === symbol)
    );
  }

  /**
   * The true top-`topN` book after the diff event whose final id is `updateId`, on any diff stream (or the
   * initial book, for its id). Replays from a cursor, so ascending queries cost linear time in total.
   */
  bookAt(market: Market, symbol: string, updateId: number, topN: number): TrueBook {
    const s = this.#get(market, symbol);
    for (const c of [s.initial, s.base]) {
      if (updateId !== c.updateId) continue;
      const snap = records.snapshotOf(s.spec, c);
      return { lastUpdateId: updateId, bids: snap.bids.slice(0, topN), asks: snap.asks.slice(0, topN) };
    }
    const end = s.bookDiffs.firstAtLeast(3, updateId);
    const found = end < s.bookDiffs.length && records.finalIdOf(s.bookDiffs, end) === updateId;
    if (!found) {
      const why = updateId < s.base.updateId
        ? `it is before the truth window (which starts after ${s.base.updateId})`
        : "no diff event has that final update id";
      throw new TruthQueryError(`Cannot compute book of ${market} ${symbol} at ${updateId}: ${why}`);
    }
    if (s.cursor === null || s.cursor.next > end + 1) {
      const book = new BookModel();
      book.apply("bid", s.base.bids);
      book.apply("ask", s.base.asks);
      s.cursor = { book, next: 0 };
    }
    const cursor = s.cursor;
    records.applyDiffs(cursor.book, s.bookDiffs, cursor.next, end + 1);
    cursor.next = end + 1;
    const top = cursor.book.top(topN);
    return {
      lastUpdateId: updateId,
      bids: records.levels(s.spec, top.bids),
      asks: records.levels(s.spec, top.asks),
    };
  }

  #get(market: Market, symbol: string): Series {
    const s = this.#series.get(`${market}:${symbol}`);
    if (s === undefined) {
      throw new TruthQueryError(`Cannot query truth: ${market} ${symbol} is not simulated`);
    }
    this.#requireMemory();
    return s;
  }

  #requireMemory(): void {
    if (!this.#memory) throw new TruthQueryError("Cannot query truth: it is not kept in memory");
  }
}

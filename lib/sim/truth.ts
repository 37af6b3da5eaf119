/**
 * Ground truth: what the simulated exchange really did, recorded before any fault touched it, so integration
 * tests can compare the collector's output with it. Kept in memory (queries below) and/or written as JSON
 * lines through a sink (one object per line, `type` first; events carry their exact wire frame in `data`).
 *
 * Recorded per (market, symbol): the initial book with its update id, every `@depth@100ms` diff event (plus,
 * in memory, USD-M's internal 50 ms diffs, so `bookAt` answers for the final id of any diff stream), every
 * aggregate trade, every closed kline, every bookTicker, markPrice (1 s stream) and forceOrder event; plus
 * what the diff faults did to which event (drop, duplicate, delay) and each disconnect or shutdown fault.
 */
import type { DepthDiff, DepthSnapshot, Level, Market } from "../binance/types.ts";
import { BookModel } from "./book_model.ts";
import { scaledToNumber } from "./decimal.ts";
import type {
  AggTradeEvent,
  BookTickerEvent,
  DiffEvent,
  ForceOrderEvent,
  KlineEvent,
  MarkPriceEvent,
  SimEvent,
} from "./events.ts";
import { MARK_EXTRA_DECIMALS, RATE_DECIMALS } from "./events.ts";
import { eventFrame, formatQuote, levelsJson } from "./frames.ts";
import { TRUTH_BATCH_MS, TRUTH_DEPTH_SPEED_MS } from "./streams.ts";
import type { BookCapture } from "./symbol_engine.ts";
import type { AggTrade, BookTicker, Candle, Liquidation } from "../binance/messages.ts";
import type { SymbolSpec } from "./symbol_spec.ts";

/** An aggregate trade as the exchange made it (the wire's fields, plus its symbol). */
export interface TruthTrade extends AggTrade {
  symbol: string;
}

/** A closed candle. */
export interface TruthKline extends Candle {
  symbol: string;
  eventTime: number;
  interval: string;
}

/** A bookTicker event; `eventTime`/`transactionTime` are null on spot (not on the wire), `time` never is. */
export interface TruthBookTicker extends BookTicker {
  symbol: string;
  time: number;
}

/** A markPriceUpdate event. */
export interface TruthMarkPrice {
  symbol: string;
  eventTime: number;
  markPrice: number;
  indexPrice: number;
  estimatedSettlePrice: number;
  fundingRate: number;
  nextFundingTime: number;
}

/** A forceOrder event. */
export interface TruthLiquidation extends Liquidation {
  symbol: string;
}

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
  diffs: DiffEvent[];
  /** Diffs of the truth batch window ({@link TRUTH_BATCH_MS}); the same array as `diffs` on spot. */
  bookDiffs: DiffEvent[];
  trades: AggTradeEvent[];
  klines: KlineEvent[];
  bookTickers: BookTickerEvent[];
  markPrices: MarkPriceEvent[];
  forceOrders: ForceOrderEvent[];
  /** Replay cursor of {@link GroundTruth.bookAt}: the book after `bookDiffs[0..next)`. */
  cursor: { book: BookModel; next: number } | null;
}

/** Where ground truth goes. */
export interface TruthOptions {
  /** Keep everything in memory for the query methods. */
  memory: boolean;
  /** Receives one JSON line (without newline) per record. */
  sink?: (line: string) => void;
}

/**
 * The ground-truth recorder.
 *
 * @example
 * ```ts
 * const truth = new GroundTruth({ memory: true });
 * truth.addSymbol(engine.spec, engine.initial);
 * for (const event of exchange.step(now, null)) truth.record(event);
 * truth.bookAt("spot", "BTCUSDT", truth.diffs("spot", "BTCUSDT")[0]!.finalUpdateId, 10);
 * ```
 */
export class GroundTruth {
  readonly #series = new Map<string, Series>();
  readonly #faults: FaultRecord[] = [];
  readonly #memory: boolean;
  readonly #sink: ((line: string) => void) | undefined;

  constructor(options: TruthOptions) {
    this.#memory = options.memory;
    this.#sink = options.sink;
  }

  /** Registers a (market, symbol) with its initial book. */
  addSymbol(spec: SymbolSpec, initial: BookCapture): void {
    const diffs: DiffEvent[] = [];
    this.#series.set(`${spec.market}:${spec.symbol}`, {
      spec,
      initial,
      diffs,
      bookDiffs: TRUTH_BATCH_MS[spec.market] === TRUTH_DEPTH_SPEED_MS ? diffs : [],
      trades: [],
      klines: [],
      bookTickers: [],
      markPrices: [],
      forceOrders: [],
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
    let list: SimEvent[];
    switch (ev.kind) {
      case "depth":
        if (ev.speedMs !== TRUTH_DEPTH_SPEED_MS) {
          if (ev.speedMs === TRUTH_BATCH_MS[ev.spec.market] && this.#memory) series.bookDiffs.push(ev);
          return;
        }
        list = series.diffs;
        break;
      case "aggTrade":
        list = series.trades;
        break;
      case "kline":
        if (!ev.closed) return;
        list = series.klines;
        break;
      case "bookTicker":
        list = series.bookTickers;
        break;
      case "markPrice":
        if (ev.stream !== `${ev.spec.lower}@markPrice@1s`) return;
        list = series.markPrices;
        break;
      case "forceOrder":
        list = series.forceOrders;
        break;
    }
    if (this.#memory) list.push(ev);
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

  /** The book the exchange started with. */
  initialBook(market: Market, symbol: string): DepthSnapshot {
    const s = this.#get(market, symbol);
    return this.#snapshotOf(s.spec, s.initial);
  }

  /** Every `@depth@100ms` diff event, in order. */
  diffs(market: Market, symbol: string): DepthDiff[] {
    const s = this.#get(market, symbol);
    const usdm = market === "usdm";
    return s.diffs.map((d) => ({
      symbol,
      eventTime: d.eventTime,
      transactionTime: usdm ? d.transactionTime : null,
      firstUpdateId: d.firstId,
      finalUpdateId: d.finalId,
      prevFinalUpdateId: usdm ? d.prevFinalId : null,
      bids: levels(s.spec, d.bids),
      asks: levels(s.spec, d.asks),
    }));
  }

  /** Every aggregate trade, in id order. */
  trades(market: Market, symbol: string): TruthTrade[] {
    const s = this.#get(market, symbol);
    return s.trades.map((t) => ({
      symbol,
      eventTime: t.eventTime,
      tradeTime: t.tradeTime,
      aggTradeId: t.aggId,
      firstTradeId: t.firstTradeId,
      lastTradeId: t.lastTradeId,
      price: scaledToNumber(t.priceTicks, s.spec.priceDecimals),
      quantity: scaledToNumber(t.lots, s.spec.qtyDecimals),
      isBuyerMaker: t.buyerMaker,
    }));
  }

  /** Every closed candle, optionally of one interval. */
  klines(market: Market, symbol: string, interval?: string): TruthKline[] {
    const s = this.#get(market, symbol);
    const spec = s.spec;
    const px = (t: number) => scaledToNumber(t, spec.priceDecimals);
    const qty = (l: number) => scaledToNumber(l, spec.qtyDecimals);
    return s.klines.filter((k) => interval === undefined || k.candle.interval === interval).map((k) => {
      const c = k.candle;
      return {
        symbol,
        eventTime: k.eventTime,
        interval: c.interval,
        openTime: c.openTime,
        closeTime: c.closeTime,
        open: px(c.open),
        high: px(c.high),
        low: px(c.low),
        close: px(c.close),
        volume: qty(c.volumeLots),
        quoteVolume: Number(formatQuote(spec, c.quoteVolume)),
        tradeCount: c.trades,
        takerBuyVolume: qty(c.takerBuyLots),
        takerBuyQuoteVolume: Number(formatQuote(spec, c.takerBuyQuote)),
      };
    });
  }

  /** Every bookTicker event. */
  bookTickers(market: Market, symbol: string): TruthBookTicker[] {
    const s = this.#get(market, symbol);
    const usdm = market === "usdm";
    return s.bookTickers.map((b) => ({
      symbol,
      updateId: b.updateId,
      time: b.eventTime,
      eventTime: usdm ? b.eventTime : null,
      transactionTime: usdm ? b.eventTime : null,
      bidPrice: scaledToNumber(b.bidTicks, s.spec.priceDecimals),
      bidQuantity: scaledToNumber(b.bidLots, s.spec.qtyDecimals),
      askPrice: scaledToNumber(b.askTicks, s.spec.priceDecimals),
      askQuantity: scaledToNumber(b.askLots, s.spec.qtyDecimals),
    }));
  }

  /** Every markPriceUpdate of the 1 s stream (USD-M). */
  markPrices(market: Market, symbol: string): TruthMarkPrice[] {
    const s = this.#get(market, symbol);
    const d = s.spec.priceDecimals + MARK_EXTRA_DECIMALS;
    return s.markPrices.map((m) => ({
      symbol,
      eventTime: m.eventTime,
      markPrice: scaledToNumber(m.mark, d),
      indexPrice: scaledToNumber(m.index, d),
      estimatedSettlePrice: scaledToNumber(m.settle, d),
      fundingRate: scaledToNumber(m.fundingRate, RATE_DECIMALS),
      nextFundingTime: m.nextFundingTime,
    }));
  }

  /** Every forceOrder event (USD-M). */
  forceOrders(market: Market, symbol: string): TruthLiquidation[] {
    const s = this.#get(market, symbol);
    const px = (t: number) => scaledToNumber(t, s.spec.priceDecimals);
    return s.forceOrders.map((f) => {
      const q = scaledToNumber(f.lots, s.spec.qtyDecimals);
      return {
        symbol,
        eventTime: f.eventTime,
        tradeTime: f.tradeTime,
        side: f.side === "BUY" ? "buy" : "sell",
        orderType: "LIMIT",
        timeInForce: "IOC",
        price: px(f.priceTicks),
        averagePrice: px(f.averageTicks),
        originalQuantity: q,
        lastFilledQuantity: q,
        filledQuantity: q,
        status: "FILLED",
      };
    });
  }

  /** Recorded faults, optionally only those of one market and/or symbol. */
  faults(market?: Market, symbol?: string): FaultRecord[] {
    return this.#faults.filter((f) =>
      (market === undefined || f.market === market) &&
      (symbol === undefined || ("symbol" in f && f.symbol === symbol))
    );
  }

  /**
   * The true top-`topN` book after the diff event whose final id is `updateId`, on any diff stream (or the
   * initial book, for its id). Replays from a cursor, so ascending queries cost linear time in total.
   */
  bookAt(market: Market, symbol: string, updateId: number, topN: number): TrueBook {
    const s = this.#get(market, symbol);
    if (updateId === s.initial.updateId) {
      const snap = this.#snapshotOf(s.spec, s.initial);
      return { lastUpdateId: updateId, bids: snap.bids.slice(0, topN), asks: snap.asks.slice(0, topN) };
    }
    const end = indexOfFinalId(s.bookDiffs, updateId);
    if (end < 0) {
      throw new TruthQueryError(
        `Cannot compute book of ${market} ${symbol} at ${updateId}: no diff event has that final update id`,
      );
    }
    if (s.cursor === null || s.cursor.next > end + 1) {
      const book = new BookModel();
      book.apply("bid", s.initial.bids);
      book.apply("ask", s.initial.asks);
      s.cursor = { book, next: 0 };
    }
    const cursor = s.cursor;
    for (; cursor.next <= end; cursor.next++) {
      const d = s.bookDiffs[cursor.next]!;
      cursor.book.apply("bid", d.bids);
      cursor.book.apply("ask", d.asks);
    }
    const top = cursor.book.top(topN);
    return { lastUpdateId: updateId, bids: levels(s.spec, top.bids), asks: levels(s.spec, top.asks) };
  }

  #snapshotOf(spec: SymbolSpec, c: BookCapture): DepthSnapshot {
    return {
      symbol: spec.symbol,
      lastUpdateId: c.updateId,
      eventTime: spec.market === "usdm" ? c.time : null,
      transactionTime: spec.market === "usdm" ? c.transactionTime : null,
      bids: levels(spec, c.bids),
      asks: levels(spec, c.asks),
    };
  }

  #get(market: Market, symbol: string): Series {
    const s = this.#series.get(`${market}:${symbol}`);
    if (s === undefined) {
      throw new TruthQueryError(`Cannot query truth: ${market} ${symbol} is not simulated`);
    }
    if (!this.#memory) throw new TruthQueryError("Cannot query truth: it is not kept in memory");
    return s;
  }
}

function levels(spec: SymbolSpec, pairs: readonly number[]): Level[] {
  const out: Level[] = new Array(pairs.length >> 1);
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    out[i >> 1] = [
      scaledToNumber(pairs[i]!, spec.priceDecimals),
      scaledToNumber(pairs[i + 1]!, spec.qtyDecimals),
    ];
  }
  return out;
}

/** Index of the diff with this final id (final ids ascend), or -1. */
function indexOfFinalId(diffs: readonly DiffEvent[], id: number): number {
  let lo = 0;
  let hi = diffs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (diffs[mid]!.finalId < id) lo = mid + 1;
    else hi = mid;
  }
  return diffs[lo]?.finalId === id ? lo : -1;
}

/**
 * The market model of one (market, symbol): a limit-order book around a randomly walking fair price, changed
 * every engine step by its order flow (`order_flow.ts`: makers add, resize and cancel levels, takers consume
 * the best ones). Here every level change takes a new book update id (spot: +1; futures: jumps, as hidden RPI
 * and other updates also take ids) and feeds the diff batchers and the book ticker; trades feed klines and the
 * history.
 *
 * Pure and deterministic: all randomness comes from a PRNG seeded by (seed, market, symbol) and time is passed
 * in, so the same seed and the same step times give the same events.
 */
import { isFutures } from "../binance/markets.ts";
import { BookModel, type Side } from "./book_model.ts";
import { BookTicker } from "./book_ticker.ts";
import { DepthBatcher } from "./depth_batcher.ts";
import { type BookCapture, type Burst, type EngineParams, ID_BASES } from "./engine_params.ts";
import type { AggTradeEvent, SimEvent } from "./events.ts";
import { KlineSeries } from "./klines.ts";
import { MarkModel, type MarkState } from "./mark_model.ts";
import { OrderFlow } from "./order_flow.ts";
import { hashSeed, Prng } from "./prng.ts";
import {
  DEPTH_SPEEDS,
  KLINE_INTERVALS,
  type SymbolStreams,
  symbolStreams,
  TRUTH_BATCH_MS,
} from "./streams.ts";
import type { SymbolSpec } from "./symbol_spec.ts";
import { TradeHistory } from "./trade_history.ts";

/** Ids count up from this date (2026-01-01 UTC). */
const ID_EPOCH_MS = Date.UTC(2026, 0, 1);

/** Longest step the model simulates; after a stall the lost time is skipped rather than replayed. */
const MAX_STEP_MS = 1000;
/** How often a copy of the book is kept for the stale-snapshot fault. */
const SAVE_EVERY_MS = 2000;

/**
 * One symbol's market.
 *
 * @example
 * ```ts
 * import type { SimEvent } from "./events.ts";
 * import { symbolSpec } from "./symbol_spec.ts";
 * const params = {
 *   seed: 1,
 *   changesPerSec: 300,
 *   tradesPerSec: 7.5,
 *   levelsPerSide: 0,
 *   volatility: 2e-5,
 *   historyLimit: 100_000,
 *   stepGridMs: 0,
 *   control: { saveStaleBooks: true },
 * };
 * const engine = new SymbolEngine(symbolSpec("spot", "BTCUSDT"), params, Date.now());
 * const events: SimEvent[] = [];
 * engine.step(Date.now() + 10, events, null);
 * ```
 */
export class SymbolEngine {
  readonly spec: SymbolSpec;
  readonly streams: SymbolStreams;
  readonly book = new BookModel();
  /** The book the simulator started with. */
  readonly initial: BookCapture;
  readonly trades: TradeHistory;
  readonly klines: ReadonlyMap<string, KlineSeries>;
  /** When the engine was created (its market's first moment). */
  readonly startTime: number;
  readonly #params: EngineParams;
  readonly #rng: Prng;
  readonly #batchers: DepthBatcher[];
  readonly #flow: OrderFlow;
  readonly #marks: MarkModel | null;
  /** Futures ids jump between book changes (other updates take ids too); spot ids are consecutive. */
  readonly #idJumps: boolean;
  #out: SimEvent[] = [];
  #updateId: number;
  #transactionTime: number;
  #lastNow: number;
  #nextSecond: number;
  #nextSave: number;
  #saved: BookCapture[] = [];
  #aggId: number;
  #tradeId: number;
  #lastTradeTicks: number;
  #klineDue = -Infinity;
  #slot = -1;
  readonly #ticker: BookTicker;

  constructor(spec: SymbolSpec, params: EngineParams, now: number) {
    this.spec = spec;
    this.streams = symbolStreams(spec.market, spec.lower);
    this.startTime = now;
    this.#params = params;
    const rng = this.#rng = new Prng(hashSeed(params.seed, spec.market, spec.symbol));
    const futures = this.#idJumps = isFutures(spec.market);
    // Draws the starting fair price: before the ids below, as the seed's output depends on the order of draws.
    const flow = this.#flow = new OrderFlow(spec, params, this.book, rng, {
      change: (side, tick, lots, now) => this.#change(side, tick, lots, now),
      fill: (side, tick, lots, now) => this.#fill(side, tick, lots, now),
    });
    const startFair = flow.fair;
    // Realistic magnitudes (futures ids beyond 2^32, below 2^53). Ids also grow with the start time, as on the
    // exchange, so a restarted simulator never reuses an id a collector has already seen (it would rightly
    // drop it as a duplicate).
    const age = Math.max(0, Math.floor((now - ID_EPOCH_MS) / 1000));
    const ids = ID_BASES[spec.market];
    this.#updateId = futures
      ? ids.update + age * 100_000 + rng.int(1e4) * 10
      : ids.update + age * 10_000 + rng.int(1e4);
    this.#aggId = ids.agg + age * 100 + rng.int(100);
    this.#tradeId = ids.trade + age * 1000 + rng.int(1000);
    this.#lastTradeTicks = Math.round(startFair);
    this.#transactionTime = now;
    this.#lastNow = now;
    this.#nextSecond = (Math.floor(now / 1000) + 1) * 1000;
    this.#nextSave = now + SAVE_EVERY_MS;

    flow.seedBook();
    this.initial = this.#capture(now, Infinity);
    this.#batchers = DEPTH_SPEEDS[spec.market].map((s) =>
      new DepthBatcher(spec, this.streams.depth.get(s.ms)!, s.ms, this.#updateId, now)
    );
    const truthMs = TRUTH_BATCH_MS[spec.market];
    if (!this.streams.depth.has(truthMs)) {
      // The empty stream name matches no subscription: these events exist for the ground truth only.
      this.#batchers.push(new DepthBatcher(spec, "", truthMs, this.#updateId, now));
    }
    this.trades = new TradeHistory(params.historyLimit);
    this.klines = new Map(
      KLINE_INTERVALS[spec.market].map((k) => [
        k.name,
        new KlineSeries(
          spec,
          k,
          this.streams.kline.get(k.name)!,
          now,
          this.#lastTradeTicks,
          params.historyLimit,
        ),
      ]),
    );
    this.#marks = futures ? new MarkModel(spec, this.streams, params.seed, startFair, this.book, now) : null;
    this.#ticker = new BookTicker(spec, this.streams.bookTicker, this.book);
  }

  /** Taker orders per second this symbol is tuned for. */
  get tradesPerSec(): number {
    return this.#params.tradesPerSec;
  }

  /** The id of the last trade (fill) made, or the one before the first. */
  get lastTradeId(): number {
    return this.#tradeId - 1;
  }

  /** The book's current update id (the id of the last change). */
  get updateId(): number {
    return this.#updateId;
  }

  /** Time of the last book change (futures snapshot `T`). */
  get transactionTime(): number {
    return this.#transactionTime;
  }

  /** Latest mark/index state (futures; throws on spot). */
  get mark(): MarkState {
    return this.#futuresMarks().state;
  }

  /** Mark price at a past funding settlement, for the funding history (futures; throws on spot). */
  markAt(time: number): number {
    return this.#futuresMarks().markAt(time);
  }

  /** Advances the model to `now`, appending what happened to `out`. */
  step(now: number, out: SimEvent[], burst: Burst | null): void {
    const grid = this.#params.stepGridMs;
    if (grid > 0 && burst === null) {
      const slot = Math.floor(now / grid);
      if (slot === this.#slot) return;
      this.#slot = slot;
    }
    this.#out = out;
    const dt = Math.min(Math.max(now - this.#lastNow, 0), MAX_STEP_MS);
    this.#lastNow = now;
    for (const b of this.#batchers) {
      const event = b.flush(now);
      if (event !== null) out.push(event);
    }
    if (now >= this.#klineDue) this.#advanceKlines(now, out);
    this.#flow.step(now, dt, burst);
    if (now >= this.#nextSecond) {
      this.#nextSecond = (Math.floor(now / 1000) + 1) * 1000;
      this.#marks?.everySecond(now, this.#rng, out, () => this.#flow.sampleLots());
    }
    if (now >= this.#nextSave) {
      this.#nextSave = now + SAVE_EVERY_MS;
      if (this.#params.control.saveStaleBooks) {
        this.#saved.push(this.#capture(now, Infinity));
        if (this.#saved.length > 2) this.#saved.shift();
      } else {
        this.#saved.length = 0;
      }
    }
  }

  /** Publishes the changes of the open diff windows now, before a halt stops the symbol. */
  flushPending(now: number, out: SimEvent[]): void {
    for (const b of this.#batchers) {
      const event = b.flush(now, true);
      if (event !== null) out.push(event);
    }
  }

  /**
   * Restarts the model after a halt at `now`: the halted time is skipped, not simulated (no trades, no empty
   * candles for it).
   */
  resume(now: number, out: SimEvent[]): void {
    this.#lastNow = now;
    this.#slot = -1;
    this.#nextSecond = (Math.floor(now / 1000) + 1) * 1000;
    for (const k of this.klines.values()) k.resume(now, out);
    this.#klineDue = -Infinity;
  }

  /** The current book truncated to `limit` levels per side (what REST depth returns). */
  snapshot(limit: number, now: number): BookCapture {
    return this.#capture(now, limit);
  }

  /**
   * A book 2–4 s older than the current one (the stale-snapshot fault), truncated to `limit`; the starting book
   * while no copy is kept yet (`EngineControl.saveStaleBooks`).
   */
  staleSnapshot(limit: number): BookCapture {
    const old = this.#saved[0] ?? this.initial;
    return { ...old, bids: old.bids.slice(0, limit * 2), asks: old.asks.slice(0, limit * 2) };
  }

  #advanceKlines(now: number, out: SimEvent[]): void {
    let due = Infinity;
    for (const k of this.klines.values()) {
      k.advance(now, out);
      due = Math.min(due, k.nextDue);
    }
    this.#klineDue = due;
  }

  #futuresMarks(): MarkModel {
    if (this.#marks === null) throw new RangeError(`Cannot read the mark price of spot ${this.spec.symbol}`);
    return this.#marks;
  }

  #capture(now: number, limit: number): BookCapture {
    return {
      updateId: this.#updateId,
      time: now,
      transactionTime: this.#transactionTime,
      bids: this.book.bids.topInto(limit, []),
      asks: this.book.asks.topInto(limit, []),
    };
  }

  /** One level change: new update id, book, diff batchers, book ticker. */
  #change(side: Side, tick: number, lots: number, now: number): void {
    this.#updateId += !this.#idJumps || !this.#rng.chance(0.3) ? 1 : 2 + this.#rng.int(40);
    this.#transactionTime = now;
    this.book.side(side).set(tick, lots);
    for (const b of this.#batchers) b.record(side, tick, lots, this.#updateId, now);
    const ticker = this.#ticker.after(this.#updateId, now);
    if (ticker !== null) this.#out.push(ticker);
  }

  /** A taker fills `lots` at the level `tick` of the maker side: the level shrinks and a trade prints. */
  #fill(makerSide: Side, tick: number, lots: number, now: number): void {
    const rng = this.#rng;
    this.#change(makerSide, tick, this.book.side(makerSide).get(tick) - lots, now);
    // An aggregate trade covers one fill per resting maker order it hit.
    const makers = Math.min(lots, 1 + (rng.chance(0.4) ? rng.int(4) : 0));
    const fills = new Array<number>(makers);
    let left = lots;
    for (let i = 0; i < makers - 1; i++) {
      const q = 1 + rng.int(Math.max(1, Math.floor(left / (makers - i))));
      fills[i] = q;
      left -= q;
    }
    fills[makers - 1] = left;
    const takerBuy = makerSide === "ask";
    const trade: AggTradeEvent = {
      kind: "aggTrade",
      spec: this.spec,
      stream: this.streams.aggTrade,
      tradeStream: this.streams.trade,
      eventTime: now,
      tradeTime: now,
      aggId: this.#aggId++,
      priceTicks: tick,
      lots,
      firstTradeId: this.#tradeId,
      lastTradeId: this.#tradeId + makers - 1,
      buyerMaker: !takerBuy,
      fills,
    };
    this.#tradeId += makers;
    this.#lastTradeTicks = tick;
    this.trades.add(trade);
    for (const k of this.klines.values()) {
      k.addTrade(tick, lots, takerBuy, trade.firstTradeId, trade.lastTradeId);
    }
    this.#out.push(trade);
  }
}

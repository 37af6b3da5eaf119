/**
 * The order flow of one symbol's book: a fair price that walks randomly, makers who add, resize and cancel
 * levels around it, and takers who consume the best levels. It decides what happens to the book; the engine's
 * {@link BookActions} carry it out (update ids, diff batchers, book ticker, trades).
 *
 * It draws from the engine's PRNG, between the engine's own draws: the order of the calls is part of what a
 * seed gives, so moving a draw changes every event after it.
 */
import type { BookModel, Side } from "./book_model.ts";
import type { Burst, EngineParams } from "./engine_params.ts";
import { hashSeed, type Prng } from "./prng.ts";
import type { SymbolSpec } from "./symbol_spec.ts";

/** Price range of each side, relative to the price. */
const BAND_FRACTION = 0.01;
/** Takers sweep at most this many levels when the fair price jumps; deeper stale quotes are cancelled. */
const MAX_SWEEP_TRADES = 3;

/** What the order flow does to the book: each call is one level change (a fill also prints a trade). */
export interface BookActions {
  /** Sets the level `tick` of `side` to `lots` (0 removes it). */
  change(side: Side, tick: number, lots: number, now: number): void;
  /** A taker fills `lots` at the level `tick` of the maker side: the level shrinks and a trade prints. */
  fill(makerSide: Side, tick: number, lots: number, now: number): void;
}

/**
 * Makers and takers of one symbol. Constructing it draws the starting fair price from `rng`.
 *
 * @example
 * ```ts
 * import { BookModel, type Side } from "./book_model.ts";
 * import { Prng } from "./prng.ts";
 * import { symbolSpec } from "./symbol_spec.ts";
 * const params = {
 *   seed: 1,
 *   changesPerSec: 300,
 *   tradesPerSec: 7.5,
 *   levelsPerSide: 50,
 *   volatility: 2e-5,
 *   historyLimit: 1000,
 *   stepGridMs: 0,
 *   control: { saveStaleBooks: false },
 * };
 * const book = new BookModel();
 * const set = (side: Side, tick: number, lots: number) => book.side(side).set(tick, lots);
 * const take = (side: Side, tick: number, lots: number) => set(side, tick, book.side(side).get(tick) - lots);
 * const spec = symbolSpec("spot", "BTCUSDT");
 * const flow = new OrderFlow(spec, params, book, new Prng(1), { change: set, fill: take });
 * flow.seedBook();
 * flow.step(Date.now(), 100, null);
 * ```
 */
export class OrderFlow {
  readonly #spec: SymbolSpec;
  readonly #params: EngineParams;
  readonly #book: BookModel;
  readonly #rng: Prng;
  readonly #actions: BookActions;
  readonly #levels: number;
  readonly #band: number;
  readonly #lnBand: number;
  readonly #sigma: number;
  #fair: number;

  constructor(spec: SymbolSpec, params: EngineParams, book: BookModel, rng: Prng, actions: BookActions) {
    this.#spec = spec;
    this.#params = params;
    this.#book = book;
    this.#rng = rng;
    this.#actions = actions;
    this.#fair = spec.basePriceTicks * (1 + 0.01 * rng.normal());
    this.#levels = params.levelsPerSide > 0
      ? params.levelsPerSide
      : 400 + (hashSeed("levels", spec.symbol) % 801);
    this.#band = Math.max(Math.round(spec.basePriceTicks * BAND_FRACTION), 3 * this.#levels);
    this.#lnBand = Math.log(this.#band);
    this.#sigma = spec.basePriceTicks * params.volatility;
  }

  /** The fair price in ticks (not on the tick grid). */
  get fair(): number {
    return this.#fair;
  }

  /** Fills both sides towards their target depth, straight into the book: the starting book takes no ids. */
  seedBook(): void {
    for (const side of ["bid", "ask"] as const) {
      const s = this.#book.side(side);
      for (let tries = 0; s.size < this.#levels && tries < this.#levels * 20; tries++) {
        s.set(this.#sampleTick(side), this.sampleLots());
      }
    }
  }

  /** `dtMs` of order flow up to `now`: the price walks, makers and takers act, the band is trimmed. */
  step(now: number, dtMs: number, burst: Burst | null): void {
    const rng = this.#rng;
    if (dtMs > 0) this.#fair += rng.normal() * this.#sigma * Math.sqrt(dtMs / 1000);
    this.#reprice(now);
    const changes = rng.count((this.#params.changesPerSec * dtMs) / 1000) + (burst?.updates ?? 0);
    for (let i = 0; i < changes; i++) this.#makerChange(now);
    const takers = rng.count((this.#params.tradesPerSec * dtMs) / 1000) + (burst?.trades ?? 0);
    for (let i = 0; i < takers; i++) this.#taker(now);
    this.#trim(now);
  }

  /** A quantity for a new level, around the symbol's typical size. */
  sampleLots(): number {
    return Math.max(1, Math.round(this.#spec.typicalLots * Math.exp(this.#rng.normal() - 0.5)));
  }

  /**
   * A price for a new level: log-uniform distance from the fair price, so the top is dense and the tail sparse;
   * a quarter of new quotes join at the fair price itself, which keeps the spread tight after trades.
   */
  #sampleTick(side: Side): number {
    const rng = this.#rng;
    const d = rng.chance(0.25) ? 0 : Math.floor(Math.exp(rng.next() * this.#lnBand)) - 1;
    if (side === "bid") {
      const tick = Math.floor(this.#fair) - d;
      const ask = this.#book.asks.bestTick();
      return ask !== undefined && tick >= ask ? ask - 1 : tick;
    }
    const tick = Math.ceil(this.#fair) + d;
    const bid = this.#book.bids.bestTick();
    return bid !== undefined && tick <= bid ? bid + 1 : tick;
  }

  /** Quotes that the fair price moved through are taken (a few levels) or cancelled (the rest). */
  #reprice(now: number): void {
    const { asks, bids } = this.#book;
    let swept = 0;
    for (let ask = asks.bestTick(); ask !== undefined && ask < this.#fair;) {
      if (swept++ < MAX_SWEEP_TRADES) this.#actions.fill("ask", ask, asks.get(ask), now);
      else this.#actions.change("ask", ask, 0, now);
      ask = asks.bestTick();
    }
    swept = 0;
    for (let bid = bids.bestTick(); bid !== undefined && bid > this.#fair;) {
      if (swept++ < MAX_SWEEP_TRADES) this.#actions.fill("bid", bid, bids.get(bid), now);
      else this.#actions.change("bid", bid, 0, now);
      bid = bids.bestTick();
    }
  }

  /** A maker adds, resizes or cancels a level; adds are favoured while the side is short of its target. */
  #makerChange(now: number): void {
    const rng = this.#rng;
    const sideName: Side = rng.chance(0.5) ? "bid" : "ask";
    const side = this.#book.side(sideName);
    const pAdd = Math.min(0.9, Math.max(0.1, 0.45 + (0.5 * (this.#levels - side.size)) / this.#levels));
    const r = rng.next();
    if (r < pAdd || side.size < 2) {
      this.#actions.change(sideName, this.#sampleTick(sideName), this.sampleLots(), now);
    } else if (r < pAdd + (1 - pAdd) / 2) {
      // Resizes cluster near the top of the book, where most order flow is.
      const u = rng.next();
      const tick = side.tickAt(Math.floor(side.size * u * u))!;
      const lots = Math.max(1, Math.round(side.get(tick) * (0.3 + 1.4 * rng.next())));
      this.#actions.change(sideName, tick, lots, now);
    } else {
      this.#actions.change(sideName, side.tickAt(rng.int(side.size))!, 0, now);
    }
  }

  /** A taker order of random size consuming up to four levels from the top. */
  #taker(now: number): void {
    const rng = this.#rng;
    const buy = rng.chance(0.5);
    const sideName: Side = buy ? "ask" : "bid";
    const side = this.#book.side(sideName);
    let remaining = Math.max(1, Math.round(this.#spec.typicalLots * Math.exp(0.8 * rng.normal() - 1)));
    for (let level = 0; remaining > 0 && level < 4; level++) {
      const tick = side.bestTick();
      if (tick === undefined) return;
      const lots = Math.min(side.get(tick), remaining);
      this.#actions.fill(sideName, tick, lots, now);
      remaining -= lots;
    }
  }

  /** Levels that drifted out of the side's price band are cancelled, keeping the book centred on the price. */
  #trim(now: number): void {
    for (const sideName of ["bid", "ask"] as const) {
      const side = this.#book.side(sideName);
      for (let worst = side.worstTick(); worst !== undefined && side.size > 1;) {
        const far = Math.abs(worst - this.#fair) > this.#band || side.size > this.#levels * 1.5;
        if (!far) break;
        this.#actions.change(sideName, worst, 0, now);
        worst = side.worstTick();
      }
    }
  }
}

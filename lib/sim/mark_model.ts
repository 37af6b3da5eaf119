/**
 * The futures extras of one symbol: mark and index price (the mid price with a slowly drifting premium), the
 * funding rate they announce (none for COIN-M delivery contracts), and liquidation orders. Stepped once per second by its {@link SymbolEngine};
 * randomness comes from the engine's PRNG, so the market stays deterministic.
 */
import type { BookModel } from "./book_model.ts";
import { MARK_EXTRA_DECIMALS, type SimEvent } from "./events.ts";
import { fundingRateAt, nextFundingTime } from "./funding.ts";
import { hashSeed, type Prng } from "./prng.ts";
import type { SymbolStreams } from "./streams.ts";
import type { SymbolSpec } from "./symbol_spec.ts";

/** The mark/index state of a futures symbol, in units of `10^-(priceDecimals + 2)`. */
export interface MarkState {
  mark: number;
  markAverage: number;
  index: number;
  settle: number;
  time: number;
}

/** Chance per second of a liquidation on a futures symbol (at most one per second, as Binance pushes). */
const FORCE_ORDER_CHANCE = 0.15;

/**
 * Mark price and liquidations of one futures symbol.
 *
 * @example
 * ```ts
 * import { BookModel } from "./book_model.ts";
 * import type { SimEvent } from "./events.ts";
 * import { Prng } from "./prng.ts";
 * import { symbolStreams } from "./streams.ts";
 * import { symbolSpec } from "./symbol_spec.ts";
 * const spec = symbolSpec("usdm", "BTCUSDT");
 * const now = Date.now();
 * const marks = new MarkModel(spec, symbolStreams("usdm", spec.lower), 1, 616000, new BookModel(), now);
 * const events: SimEvent[] = [];
 * marks.everySecond(now + 1000, new Prng(1), events, () => 5); // a markPriceUpdate, maybe a forceOrder
 * ```
 */
export class MarkModel {
  readonly #spec: SymbolSpec;
  readonly #streams: SymbolStreams;
  readonly #seed: number;
  readonly #startFair: number;
  readonly #book: BookModel;
  #premium = 0;
  #state: MarkState;

  /** `startFair` is the fair price (ticks) the market started at; `book` is the symbol's live book. */
  constructor(
    spec: SymbolSpec,
    streams: SymbolStreams,
    seed: number,
    startFair: number,
    book: BookModel,
    now: number,
  ) {
    this.#spec = spec;
    this.#streams = streams;
    this.#seed = seed;
    this.#startFair = startFair;
    this.#book = book;
    this.#state = this.#compute(now, null);
  }

  /** Latest mark/index state. */
  get state(): MarkState {
    return this.#state;
  }

  /** Mark price at a past funding settlement, for the funding history (near the starting price). */
  markAt(time: number): number {
    const u = hashSeed(this.#seed, "mark", this.#spec.symbol, time) / 4294967296;
    return Math.round(this.#startFair * (1 + 0.004 * (u - 0.5)) * 10 ** MARK_EXTRA_DECIMALS);
  }

  /** Once per second: mark price (the 1 s stream and, on multiples of 3 s, the 3 s one) and maybe a liquidation. */
  everySecond(now: number, rng: Prng, out: SimEvent[], sampleLots: () => number): void {
    this.#premium = 0.95 * this.#premium + 0.00005 * rng.normal();
    const m = this.#state = this.#compute(now, this.#state);
    // Delivery contracts pay no funding: Binance prints "r":"" and "T":0.
    const funding = this.#spec.contract?.perpetual !== false;
    const nextFunding = funding ? nextFundingTime(now) : 0;
    const base = {
      kind: "markPrice" as const,
      spec: this.#spec,
      eventTime: now,
      mark: m.mark,
      markAverage: m.markAverage,
      index: m.index,
      settle: m.settle,
      fundingRate: funding ? fundingRateAt(this.#seed, this.#spec.symbol, nextFunding) : null,
      nextFundingTime: nextFunding,
    };
    out.push({ ...base, stream: this.#streams.markPrice1s });
    if (Math.floor(now / 1000) % 3 === 0) out.push({ ...base, stream: this.#streams.markPrice3s });
    if (!rng.chance(FORCE_ORDER_CHANCE)) return;
    const sell = rng.chance(0.5);
    // A liquidated long sells below the market (and vice versa); the fill averages a little better.
    const ref = sell ? this.#book.bids.bestTick() : this.#book.asks.bestTick();
    if (ref === undefined) return;
    const offset = Math.max(1, Math.round(ref * 0.002));
    const price = sell ? ref - offset : ref + offset;
    const average = sell ? price + rng.int(offset) : price - rng.int(offset);
    out.push({
      kind: "forceOrder",
      spec: this.#spec,
      stream: this.#streams.forceOrder,
      eventTime: now,
      side: sell ? "SELL" : "BUY",
      priceTicks: price,
      averageTicks: average,
      lots: sampleLots(),
      tradeTime: now - rng.int(50),
    });
  }

  #compute(now: number, previous: MarkState | null): MarkState {
    const bid = this.#book.bids.bestTick() ?? this.#startFair;
    const ask = this.#book.asks.bestTick() ?? this.#startFair;
    const scale = 10 ** MARK_EXTRA_DECIMALS;
    const mark = Math.round(((bid + ask) / 2) * scale);
    const index = Math.round(mark * (1 - this.#premium));
    const average = previous?.markAverage ?? mark;
    return { mark, markAverage: Math.round(average * 0.9 + mark * 0.1), index, settle: index, time: now };
  }
}

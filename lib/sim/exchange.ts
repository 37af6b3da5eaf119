/**
 * The simulated exchange: one {@link SymbolEngine} per (market, symbol), both markets sharing symbol names but
 * with independent books, ids and trades. Pure and deterministic: the caller passes the time of each step.
 */
import { type Market, MARKETS } from "../binance/types.ts";
import type { SimEvent } from "./events.ts";
import { type Burst, type EngineParams, SymbolEngine } from "./symbol_engine.ts";
import { symbolSpec } from "./symbol_spec.ts";

/** Exchange options; everything but `symbols` has a default. */
export interface ExchangeOptions {
  /** Upper-case symbols, listed on every market. */
  symbols: readonly string[];
  /** PRNG seed (default 1). */
  seed?: number;
  /** Markets to simulate (default both). */
  markets?: readonly Market[];
  /** Book level changes per second per (market, symbol) (default 300). */
  changesPerSec?: number;
  /** Taker orders per second per (market, symbol) (default `changesPerSec / 40`). */
  tradesPerSec?: number;
  /** Levels per book side (default 0: 400–1200 depending on the symbol). */
  levelsPerSide?: number;
  /** Relative price volatility per √second (default 2e-5). */
  volatility?: number;
  /** Aggregate trades and candles kept per symbol for REST (default 100 000). */
  historyLimit?: number;
}

/** A burst aimed at all engines or at one market and/or symbol. */
export interface BurstRequest extends Burst {
  market?: Market;
  symbol?: string;
}

/** Thrown for an invalid option. */
export class ExchangeOptionError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "ExchangeOptionError";
  }
}

/**
 * All simulated markets.
 *
 * @example
 * ```ts
 * const ex = new Exchange({ symbols: ["BTCUSDT"], seed: 7 }, Date.now());
 * for (const event of ex.step(Date.now() + 10, null)) console.log(event.kind);
 * ```
 */
export class Exchange {
  readonly seed: number;
  readonly markets: readonly Market[];
  readonly symbols: readonly string[];
  readonly #engines = new Map<string, SymbolEngine>();
  readonly #all: SymbolEngine[] = [];
  readonly #out: SimEvent[] = [];

  constructor(options: ExchangeOptions, now: number) {
    const changesPerSec = options.changesPerSec ?? 300;
    if (!(changesPerSec >= 0)) {
      throw new ExchangeOptionError(`Cannot create exchange: bad rate ${changesPerSec}`);
    }
    for (const s of options.symbols) {
      // Letters and digits only, so stream names never need JSON escaping in frame templates.
      if (!/^[\p{L}\p{N}]+$/u.test(s) || s !== s.toUpperCase()) {
        throw new ExchangeOptionError(
          `Cannot create exchange: symbol '${s}' must be upper-case letters and digits`,
        );
      }
    }
    const params: EngineParams = {
      seed: options.seed ?? 1,
      changesPerSec,
      tradesPerSec: options.tradesPerSec ?? changesPerSec / 40,
      levelsPerSide: options.levelsPerSide ?? 0,
      volatility: options.volatility ?? 2e-5,
      historyLimit: options.historyLimit ?? 100_000,
    };
    this.seed = params.seed;
    this.markets = options.markets ?? MARKETS;
    this.symbols = [...new Set(options.symbols)];
    for (const market of this.markets) {
      for (const symbol of this.symbols) {
        const engine = new SymbolEngine(symbolSpec(market, symbol), params, now);
        this.#engines.set(`${market}:${symbol}`, engine);
        this.#all.push(engine);
      }
    }
  }

  /** The engine of (market, symbol), or undefined if it is not listed. */
  engine(market: Market, symbol: string): SymbolEngine | undefined {
    return this.#engines.get(`${market}:${symbol}`);
  }

  /** Every engine, or those of one market. */
  engines(market?: Market): SymbolEngine[] {
    return market === undefined ? [...this.#all] : this.#all.filter((e) => e.spec.market === market);
  }

  /**
   * Advances every engine to `now`. The returned array is reused by the next call: consume it before stepping
   * again.
   */
  step(now: number, burst: BurstRequest | null): readonly SimEvent[] {
    const out = this.#out;
    out.length = 0;
    for (const engine of this.#all) {
      const hit = burst !== null && (burst.market === undefined || burst.market === engine.spec.market) &&
        (burst.symbol === undefined || burst.symbol === engine.spec.symbol);
      engine.step(now, out, hit ? burst : null);
    }
    return out;
  }
}

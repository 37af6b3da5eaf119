/**
 * The simulated exchange: one {@link SymbolEngine} per listed (market, symbol), each market with independent
 * books, ids and trades. Symbols come from a plain list (COIN-M names such as `BTCUSD_PERP` on COIN-M, every
 * other name on spot and USD-M, all alike) or from listings (a generated whole market, each symbol with its own
 * assets, price and activity), and can be listed, halted, delisted and resumed while running; COIN-M delivery
 * contracts deliver. Pure and deterministic: the caller passes the time of each step.
 */
import { type Market, MARKETS } from "../binance/markets.ts";
import { isCoinmSymbol, parseCoinmSymbol } from "./coinm_contracts.ts";
import type { Burst, EngineControl, EngineParams } from "./engine_params.ts";
import type { SimEvent } from "./events.ts";
import { SymbolEngine } from "./symbol_engine.ts";
import { symbolSpec } from "./symbol_spec.ts";
import type { Listing, SymbolStatus } from "./universe.ts";

/** Exchange options: `symbols` or `listings`; everything else has a default. */
export interface ExchangeOptions {
  /**
   * Upper-case symbols, listed with the same activity: COIN-M names (`<BASE>USD_PERP`, `<BASE>USD_YYMMDD`) on
   * COIN-M, the others on spot and USD-M.
   */
  symbols?: readonly string[];
  /** Or: each (market, symbol) with its own settings (see `generateUniverse`). */
  listings?: readonly Listing[];
  /** PRNG seed (default 1). */
  seed?: number;
  /** Markets to simulate with `symbols` (default all three). */
  markets?: readonly Market[];
  /** Book level changes per second per (market, symbol) of `symbols` and of runtime listings (default 300). */
  changesPerSec?: number;
  /** Taker orders per second per (market, symbol) (default `changesPerSec / 40`). */
  tradesPerSec?: number;
  /** Levels per book side (default 0: 400–1200 depending on the symbol, or the listing's). */
  levelsPerSide?: number;
  /** Relative price volatility per √second (default 2e-5). */
  volatility?: number;
  /** Aggregate trades and candles kept per symbol for REST (default 100 000). */
  historyLimit?: number;
  /**
   * Step symbols with fewer than 20 book changes per second only once per 100 ms (spot) or 50 ms (futures),
   * the finest diff window, instead of at every step (default false). For thousands of symbols.
   */
  quietStepping?: boolean;
}

/** A listing made at run time: market and symbol, and optionally what a generated listing fixes. */
export type ListingRequest = Pick<Listing, "market" | "symbol"> & Partial<Omit<Listing, "market" | "symbol">>;

/** A listed (market, symbol) and its status. */
export interface ListedSymbol {
  engine: SymbolEngine;
  status: SymbolStatus;
  /** What it was listed with (a new quarterly contract is listed alike). */
  request: ListingRequest;
  /** Whether it traded during the day before the simulator started (for its 24 h statistics). */
  hasPastDay: boolean;
}

/** A burst aimed at all engines or at one market and/or symbol. */
export interface BurstRequest extends Burst {
  market?: Market;
  symbol?: string;
}

/** Thrown for an invalid option or listing change. */
export class ExchangeOptionError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "ExchangeOptionError";
  }
}

/** Below this many book changes per second a symbol is quiet (see `quietStepping`). */
const QUIET_RATE = 20;
/** The finest diff window of each market (the futures' includes the truth's internal 50 ms batches). */
const QUIET_GRID_MS: Readonly<Record<Market, number>> = { spot: 100, usdm: 50, coinm: 50 };

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
  /** Switches read by every engine on every step. */
  readonly control: EngineControl = { saveStaleBooks: true };
  readonly #options: ExchangeOptions;
  readonly #listed = new Map<string, ListedSymbol>();
  #trading: SymbolEngine[] = [];
  /** The earliest delivery time of a COIN-M contract not yet delivered. */
  #nextDelivery = Infinity;
  /** Events of status changes, emitted with the next step's. */
  readonly #pending: SimEvent[] = [];
  readonly #out: SimEvent[] = [];

  constructor(options: ExchangeOptions, now: number) {
    const changesPerSec = options.changesPerSec ?? 300;
    if (!(changesPerSec >= 0)) {
      throw new ExchangeOptionError(`Cannot create exchange: bad rate ${changesPerSec}`);
    }
    if ((options.symbols === undefined) === (options.listings === undefined)) {
      throw new ExchangeOptionError("Cannot create exchange: give either symbols or listings");
    }
    this.#options = options;
    this.seed = options.seed ?? 1;
    const markets = this.markets = options.markets ?? MARKETS;
    const names = [...new Set(options.symbols)];
    const listings: readonly ListingRequest[] = options.listings ??
      markets.flatMap((market) =>
        names.filter((n) => isCoinmSymbol(n) === (market === "coinm")).map((symbol) => ({ market, symbol }))
      );
    for (const l of listings) this.#add(l, now, false);
    this.#refresh();
  }

  /** Every listed symbol name, once, in listing order. */
  get symbols(): string[] {
    return [...new Set([...this.#listed.values()].map((l) => l.engine.spec.symbol))];
  }

  /** The engine of (market, symbol), or undefined if it is not listed. */
  engine(market: Market, symbol: string): SymbolEngine | undefined {
    return this.#listed.get(`${market}:${symbol}`)?.engine;
  }

  /** The listing of (market, symbol), or undefined if it is not listed. */
  listing(market: Market, symbol: string): ListedSymbol | undefined {
    return this.#listed.get(`${market}:${symbol}`);
  }

  /** The status of (market, symbol), or undefined if it is not listed. */
  status(market: Market, symbol: string): SymbolStatus | undefined {
    return this.#listed.get(`${market}:${symbol}`)?.status;
  }

  /** Every listed engine (whatever its status), or those of one market. */
  engines(market?: Market): SymbolEngine[] {
    return this.listed(market).map((l) => l.engine);
  }

  /** Every listed symbol with its status, or those of one market, in listing order. */
  listed(market?: Market): ListedSymbol[] {
    const all = [...this.#listed.values()];
    return market === undefined ? all : all.filter((l) => l.engine.spec.market === market);
  }

  /** Lists a new symbol, trading from `now`. Throws if it is already listed or its name is invalid. */
  list(listing: ListingRequest, now: number): SymbolEngine {
    if (this.#listed.has(`${listing.market}:${listing.symbol}`)) {
      throw new ExchangeOptionError(`Cannot list ${listing.market} ${listing.symbol}: it is already listed`);
    }
    const engine = this.#add({ ...listing, status: "TRADING" }, now, true);
    this.#refresh();
    return engine;
  }

  /**
   * Changes the status of a listed symbol at `now`. Leaving TRADING publishes the open diff windows and stops
   * the symbol (no more events); returning to it restarts the symbol from `now`. Throws if it is not listed.
   */
  setStatus(market: Market, symbol: string, status: SymbolStatus, now: number): void {
    const entry = this.#listed.get(`${market}:${symbol}`);
    if (entry === undefined) {
      throw new ExchangeOptionError(`Cannot set ${market} ${symbol} to ${status}: it is not listed`);
    }
    if (entry.status === status) return;
    if (entry.status === "DELIVERING") {
      throw new ExchangeOptionError(`Cannot set ${market} ${symbol} to ${status}: it has been delivered`);
    }
    if (entry.status === "TRADING") entry.engine.flushPending(now, this.#pending);
    else if (status === "TRADING") entry.engine.resume(now, this.#pending);
    entry.status = status;
    this.#refresh();
  }

  /** COIN-M delivery contracts whose delivery time has come by `now` and that have not delivered yet. */
  dueDeliveries(now: number): ListedSymbol[] {
    if (now < this.#nextDelivery) return [];
    return this.listed("coinm").filter((l) => l.status !== "DELIVERING" && deliveryDateOf(l) <= now);
  }

  /**
   * Delivers a COIN-M delivery contract at `now`: its status becomes DELIVERING and, like a halt, it publishes
   * the open diff windows and stops. Throws for anything but a listed delivery contract not yet delivered.
   */
  deliver(symbol: string, now: number): void {
    const entry = this.#deliveryContract(symbol, "deliver");
    if (entry.status === "TRADING") entry.engine.flushPending(now, this.#pending);
    entry.status = "DELIVERING";
    this.#refresh();
  }

  /** Moves the delivery time of a COIN-M delivery contract not yet delivered (see {@link deliver}). */
  setDeliveryDate(symbol: string, time: number): void {
    this.#deliveryContract(symbol, "move the delivery of").engine.spec.contract!.deliveryDate = time;
    this.#refresh();
  }

  #deliveryContract(symbol: string, what: string): ListedSymbol {
    const entry = this.#listed.get(`coinm:${symbol}`);
    const why = entry === undefined
      ? "it is not a listed COIN-M symbol"
      : entry.engine.spec.contract!.perpetual
      ? "it is a perpetual"
      : entry.status === "DELIVERING"
      ? "it has been delivered"
      : null;
    if (why !== null) throw new ExchangeOptionError(`Cannot ${what} ${symbol}: ${why}`);
    return entry!;
  }

  /**
   * Advances every trading engine to `now`. The returned array is reused by the next call: consume it before
   * stepping again.
   */
  step(now: number, burst: BurstRequest | null): readonly SimEvent[] {
    const out = this.#out;
    out.length = 0;
    if (this.#pending.length > 0) {
      out.push(...this.#pending);
      this.#pending.length = 0;
    }
    for (const engine of this.#trading) {
      const hit = burst !== null && (burst.market === undefined || burst.market === engine.spec.market) &&
        (burst.symbol === undefined || burst.symbol === engine.spec.symbol);
      engine.step(now, out, hit ? burst : null);
    }
    return out;
  }

  /** `fresh`: listed while running, so it has no trading before `now`. */
  #add(l: ListingRequest, now: number, fresh: boolean): SymbolEngine {
    checkName(l.market, l.symbol, now);
    const o = this.#options;
    const changesPerSec = l.changesPerSec ?? o.changesPerSec ?? 300;
    if (!(changesPerSec >= 0 && changesPerSec < Infinity)) {
      throw new ExchangeOptionError(`Cannot list ${l.symbol}: bad rate ${changesPerSec}`);
    }
    const params: EngineParams = {
      seed: this.seed,
      changesPerSec,
      tradesPerSec: l.tradesPerSec ?? o.tradesPerSec ?? changesPerSec / 40,
      levelsPerSide: o.levelsPerSide ?? l.levelsPerSide ?? 0,
      volatility: l.volatility ?? o.volatility ?? 2e-5,
      historyLimit: o.historyLimit ?? 100_000,
      stepGridMs: o.quietStepping === true && changesPerSec < QUIET_RATE ? QUIET_GRID_MS[l.market] : 0,
      control: this.control,
    };
    const settings = l.baseAsset !== undefined && l.quoteAsset !== undefined && l.price !== undefined
      ? { baseAsset: l.baseAsset, quoteAsset: l.quoteAsset, price: l.price, levelNotional: l.levelNotional }
      : undefined;
    const engine = new SymbolEngine(symbolSpec(l.market, l.symbol, settings), params, now);
    const status = l.status ?? "TRADING";
    this.#listed.set(`${l.market}:${l.symbol}`, {
      engine,
      status,
      request: l,
      hasPastDay: !fresh && status === "TRADING",
    });
    return engine;
  }

  #refresh(): void {
    const listed = [...this.#listed.values()];
    this.#trading = listed.filter((l) => l.status === "TRADING").map((l) => l.engine);
    this.#nextDelivery = Math.min(
      ...listed.filter((l) => l.status !== "DELIVERING" && l.engine.spec.contract?.perpetual === false)
        .map(deliveryDateOf),
    );
  }
}

function deliveryDateOf(l: ListedSymbol): number {
  return l.engine.spec.contract?.deliveryDate ?? Infinity;
}

/**
 * Checks a symbol name for `market`. Letters and digits only (COIN-M: `<BASE>USD_PERP` or `<BASE>USD_YYMMDD`, of
 * a date still to come), so stream names never need JSON escaping in frame templates.
 */
function checkName(market: Market, symbol: string, now: number): void {
  if (market === "coinm") {
    const name = parseCoinmSymbol(symbol);
    if (name === null) {
      throw new ExchangeOptionError(
        `Cannot list COIN-M '${symbol}': expected <BASE>USD_PERP or <BASE>USD_YYMMDD, e.g. BTCUSD_PERP`,
      );
    }
    if (name.deliveryDate !== null && name.deliveryDate <= now) {
      const when = new Date(name.deliveryDate).toISOString();
      throw new ExchangeOptionError(`Cannot list COIN-M ${symbol}: it delivered at ${when}`);
    }
    return;
  }
  if (!/^[\p{L}\p{N}]+$/u.test(symbol) || symbol !== symbol.toUpperCase()) {
    throw new ExchangeOptionError(`Cannot list '${symbol}': a symbol must be upper-case letters and digits`);
  }
}

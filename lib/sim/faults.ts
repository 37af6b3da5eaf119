/**
 * Fault switches of the simulator: a plain mutable object (`sim.faults`) that tests and the CLI change at run
 * time. All are off by default. Diff faults act on events as the exchange emits them, so every connection sees
 * the same damage, and the ground truth records what was done to which event.
 *
 * | switch | effect |
 * |---|---|
 * | `dropDiffs` | matching depth diff events are not sent (a sequence gap for the client) |
 * | `duplicateDiffs` | matching diff events are sent twice in a row |
 * | `delayDiffs` | matching diff events are held back `delayMs` (default 250) and so arrive after later ones |
 * | `disconnect` | closes matching connections now (one-shot) or every `everyMs` |
 * | `refuseConnectionsUntil` | WebSocket upgrades are refused until this epoch-ms time |
 * | `refuseConnectionsStatus` | how they are refused: 503 (default) or 429 with `Retry-After` |
 * | `rest` | REST requests fail with 5xx, 429 (no ban) or hang, each with its probability |
 * | `staleSnapshots` | REST depth serves a book saved 2–4 s earlier (older than the stream) |
 * | `garbage` | each engine step, with `probability`, every connection gets a junk frame |
 * | `unknownFields` | every data frame carries extra unknown fields |
 * | `lifetimeMs` | lifetime of connections opened from now on (Binance: 24 h) |
 * | `burst` | one engine step makes `updates` extra book changes and `trades` extra taker orders |
 * | `serverShutdown` | spot connections get `serverShutdown` and are closed `closeAfterMs` later |
 * | `listingChanges` | queued listing changes: `list` a new symbol, `delist` (BREAK), `halt` (HALT), `resume`, `deliver` |
 *
 * A listing change applies at the first engine step `afterMs` after the simulator started (at once when absent
 * or past) and leaves the queue. `list` adds a TRADING symbol that starts producing data (`rate` book changes
 * per second); `delist` and `halt` set BREAK or HALT and stop the symbol's streams; `resume` sets TRADING
 * again. `deliver` (COIN-M delivery contracts) applies at once: it moves the contract's delivery time to
 * `afterMs` after the start (exchangeInfo's `deliveryDate` shows it), and at that time the contract delivers
 * (DELIVERING, its streams stop). Ground truth records each one, with its time (`truth.listings()`).
 *
 * Every fault with a `market` applies to COIN-M (`"coinm"`) as to USD-M; `serverShutdown` exists on spot only.
 */
import type { Market } from "../binance/markets.ts";
import type { Prng } from "./prng.ts";
import type { SymbolSpec } from "./symbol_spec.ts";

/** Narrows a fault to a market and/or symbol (absent = all). */
export interface FaultTarget {
  market?: Market;
  symbol?: string;
}

/** A fault on depth diff events: the next `count` matching events, or each with `probability`. */
export interface DiffFault extends FaultTarget {
  /** Affect this many more matching events; decremented as they are affected, the fault ends at 0. */
  count?: number;
  /** Otherwise affect each matching event with this probability (0..1). */
  probability?: number;
}

/** A diff delay (which reorders events when longer than the batching window). */
export interface DelayFault extends DiffFault {
  delayMs?: number;
}

/** A repeated action: one-shot at the next engine step if `everyMs` is absent. */
export interface Recurring {
  everyMs?: number;
}

/** REST failure probabilities (0..1), checked in this order: hang, 5xx, 429. */
export interface RestFault {
  market?: Market;
  hangProbability?: number;
  /** How long a hanging request is held before a 504 (default 30 000; the simulator's close releases it). */
  hangMs?: number;
  errorProbability?: number;
  rateLimitProbability?: number;
}

/** A listing change (see the module docs). */
export interface ListingChange {
  action: "list" | "delist" | "halt" | "resume" | "deliver";
  market: Market;
  /** Upper case, letters and digits (COIN-M: `<BASE>USD_PERP`, `<BASE>USD_YYMMDD`). */
  symbol: string;
  /**
   * Apply at the first step this long after the simulator started (default: the next step); `deliver`: the
   * delivery time, as this long after the start.
   */
  afterMs?: number;
  /** `list` only: book changes per second (default: the simulator's `rate` with a symbol list, else 300). */
  rate?: number;
}

/** All switches; see the module docs for each. */
export interface Faults {
  dropDiffs: DiffFault | null;
  duplicateDiffs: DiffFault | null;
  delayDiffs: DelayFault | null;
  disconnect: (Recurring & { market?: Market }) | null;
  refuseConnectionsUntil: number;
  refuseConnectionsStatus: 503 | 429;
  rest: RestFault | null;
  staleSnapshots: (FaultTarget & { probability?: number }) | null;
  garbage: { probability: number; market?: Market } | null;
  unknownFields: boolean;
  lifetimeMs: number;
  burst: (Recurring & FaultTarget & { updates: number; trades: number }) | null;
  serverShutdown: (Recurring & { closeAfterMs?: number }) | null;
  listingChanges: ListingChange[];
}

/** Binance closes every connection after 24 h. */
export const DEFAULT_LIFETIME_MS = 24 * 3_600_000;

/**
 * Switches with every fault off.
 *
 * @example
 * ```ts
 * const faults = noFaults();
 * faults.dropDiffs = { symbol: "BTCUSDT", count: 3 };
 * ```
 */
export function noFaults(lifetimeMs = DEFAULT_LIFETIME_MS): Faults {
  return {
    dropDiffs: null,
    duplicateDiffs: null,
    delayDiffs: null,
    disconnect: null,
    refuseConnectionsUntil: 0,
    refuseConnectionsStatus: 503,
    rest: null,
    staleSnapshots: null,
    garbage: null,
    unknownFields: false,
    lifetimeMs,
    burst: null,
    serverShutdown: null,
    listingChanges: [],
  };
}

/** True when `target` covers this (market, symbol). */
export function targets(target: FaultTarget, spec: SymbolSpec): boolean {
  return (target.market === undefined || target.market === spec.market) &&
    (target.symbol === undefined || target.symbol === spec.symbol);
}

/**
 * Decides whether a diff fault hits this event. A `count` fault is decremented in place when it hits and does
 * nothing once it reaches 0.
 */
export function diffFaultHits(fault: DiffFault | null, spec: SymbolSpec, rng: Prng): boolean {
  if (fault === null || !targets(fault, spec)) return false;
  if (fault.count !== undefined) {
    if (fault.count <= 0) return false;
    fault.count--;
    return true;
  }
  return rng.chance(fault.probability ?? 0);
}

/** True when a recurring action is due at `now` given when it last fired. */
export function isDue(action: Recurring, lastFired: number, now: number): boolean {
  return action.everyMs === undefined || now - lastFired >= action.everyMs;
}

/**
 * Applies the `listingChanges` fault switch: queued changes that are due are taken off the queue and applied to
 * the exchange (list a new symbol, set BREAK/HALT, resume TRADING), and the ground truth records each, with
 * the time it took effect or, for a change the exchange refused, why it did nothing.
 */
import { type Exchange, ExchangeOptionError } from "./exchange.ts";
import type { ListingChange } from "./faults.ts";
import type { GroundTruth } from "./truth.ts";
import type { SymbolStatus } from "./universe.ts";

/** What a listing change applies to. */
export interface ListingTarget {
  exchange: Exchange;
  truth: GroundTruth;
  /** Register new listings' initial books with the truth (when truth is recorded at all). */
  recordBooks: boolean;
  /** `afterMs` counts from here. */
  startedAt: number;
}

const STATUS_OF: Readonly<Record<Exclude<ListingChange["action"], "list">, SymbolStatus>> = {
  delist: "BREAK",
  halt: "HALT",
  resume: "TRADING",
};

/**
 * Applies every change of `queue` that is due at `now`, removing it from the queue; later ones stay queued.
 *
 * @example
 * ```ts
 * faults.listingChanges.push({ action: "list", market: "spot", symbol: "NEWUSDT" });
 * applyListingChanges(faults.listingChanges, target, Date.now());
 * ```
 */
export function applyListingChanges(queue: ListingChange[], target: ListingTarget, now: number): void {
  for (let i = 0; i < queue.length;) {
    const change = queue[i]!;
    if (target.startedAt + (change.afterMs ?? 0) > now) {
      i++;
      continue;
    }
    queue.splice(i, 1);
    apply(change, target, now);
  }
}

function apply(change: ListingChange, target: ListingTarget, now: number): void {
  const { exchange, truth } = target;
  const { action, market, symbol } = change;
  try {
    if (action === "list") {
      const engine = exchange.list({ market, symbol, changesPerSec: change.rate }, now);
      if (target.recordBooks) truth.addSymbol(engine.spec, engine.initial);
    } else {
      exchange.setStatus(market, symbol, STATUS_OF[action], now);
    }
    truth.recordListing({ action, market, symbol, status: exchange.status(market, symbol)!, time: now });
  } catch (e) {
    if (!(e instanceof ExchangeOptionError)) throw e;
    truth.recordListing({
      action,
      market,
      symbol,
      status: exchange.status(market, symbol) ?? null,
      time: now,
      error: e.message,
    });
  }
}

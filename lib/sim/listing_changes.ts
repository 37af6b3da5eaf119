/**
 * Applies the `listingChanges` fault switch and COIN-M deliveries. Queued changes that are due are taken off
 * the queue and applied to the exchange (list a new symbol, set BREAK/HALT, resume TRADING; `deliver` moves a
 * COIN-M delivery contract's delivery time, at once), and every step delivers the contracts whose delivery
 * time has come (with a whole market, the pair's next quarterly contract is listed then). The ground truth
 * records each change with the time it took effect or, for a change the exchange refused, why it did nothing.
 */
import { deliverySymbol, quarterlyAfter } from "./coinm_contracts.ts";
import { type Exchange, ExchangeOptionError, type ListedSymbol } from "./exchange.ts";
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
  /** When a quarterly contract delivers, list its pair's next one (a whole market does, as Binance). */
  rollQuarters: boolean;
}

const STATUS_OF: Readonly<Record<"delist" | "halt" | "resume", SymbolStatus>> = {
  delist: "BREAK",
  halt: "HALT",
  resume: "TRADING",
};

/**
 * Applies every change of `queue` that is due at `now`, removing it from the queue (later ones stay queued; a
 * `deliver` change is never later: it schedules the delivery), then delivers what is due.
 *
 * @example
 * ```ts
 * import { Exchange } from "./exchange.ts";
 * import { noFaults } from "./faults.ts";
 * import { GroundTruth } from "./truth.ts";
 * const exchange = new Exchange({ symbols: ["BTCUSDT"] }, Date.now());
 * const target = {
 *   exchange,
 *   truth: new GroundTruth({ memory: true }),
 *   recordBooks: false,
 *   startedAt: Date.now(),
 *   rollQuarters: false,
 * };
 * const faults = noFaults();
 * faults.listingChanges.push({ action: "list", market: "spot", symbol: "NEWUSDT" });
 * applyListingChanges(faults.listingChanges, target, Date.now());
 * exchange.status("spot", "NEWUSDT"); // "TRADING"
 * ```
 */
export function applyListingChanges(queue: ListingChange[], target: ListingTarget, now: number): void {
  for (let i = 0; i < queue.length;) {
    const change = queue[i]!;
    if (change.action !== "deliver" && target.startedAt + (change.afterMs ?? 0) > now) {
      i++;
      continue;
    }
    queue.splice(i, 1);
    apply(change, target, now);
  }
  applyDeliveries(target, now);
}

/**
 * Delivers the COIN-M contracts whose delivery time has come: each becomes DELIVERING and stops (truth:
 * a `deliver` record); with `rollQuarters`, the pair's next quarterly contract is listed at the same time.
 */
export function applyDeliveries(target: ListingTarget, now: number): void {
  const { exchange, truth } = target;
  for (const listed of exchange.dueDeliveries(now)) {
    const symbol = listed.engine.spec.symbol;
    exchange.deliver(symbol, now);
    truth.recordListing({ action: "deliver", market: "coinm", symbol, status: "DELIVERING", time: now });
    if (target.rollQuarters) listNextQuarter(target, listed, now);
  }
}

/** Lists the quarterly contract after the pair's last one, like the delivered one, at its last mid price. */
function listNextQuarter(target: ListingTarget, delivered: ListedSymbol, now: number): void {
  const { exchange, truth } = target;
  const spec = delivered.engine.spec;
  const dates = exchange.listed("coinm").filter((l) => l.engine.spec.pair === spec.pair)
    .map((l) => l.engine.spec.contract!)
    .filter((c) => !c.perpetual).map((c) => c.deliveryDate);
  const symbol = deliverySymbol(spec.pair, quarterlyAfter(Math.max(now, ...dates)));
  const book = delivered.engine.book;
  const mid =
    ((book.bids.bestTick() ?? spec.basePriceTicks) + (book.asks.bestTick() ?? spec.basePriceTicks)) / 2;
  const engine = exchange.list({
    ...delivered.request,
    symbol,
    baseAsset: spec.baseAsset,
    quoteAsset: spec.quoteAsset,
    price: mid / 10 ** spec.priceDecimals,
    status: "TRADING",
  }, now);
  if (target.recordBooks) truth.addSymbol(engine.spec, engine.initial);
  truth.recordListing({ action: "list", market: "coinm", symbol, status: "TRADING", time: now });
}

function apply(change: ListingChange, target: ListingTarget, now: number): void {
  const { exchange, truth } = target;
  const { action, market, symbol } = change;
  try {
    if (action === "list") {
      const engine = exchange.list({ market, symbol, changesPerSec: change.rate }, now);
      if (target.recordBooks) truth.addSymbol(engine.spec, engine.initial);
    } else if (action === "deliver") {
      if (market !== "coinm") {
        throw new ExchangeOptionError(`Cannot deliver ${market} ${symbol}: only COIN-M contracts deliver`);
      }
      // Recorded when the delivery happens (applyDeliveries), not when it is scheduled.
      exchange.setDeliveryDate(symbol, target.startedAt + (change.afterMs ?? 0));
      return;
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

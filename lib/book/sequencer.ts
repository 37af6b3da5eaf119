/**
 * The Binance depth-stream sequence rules, one named pure predicate per rule, plus the verdicts the book sync
 * builds from them.
 *
 * Naming: `U` = first update id of a diff, `u` = its final update id, `pu` = its previous final update id
 * (futures only), `L` = the update id of the local book (the snapshot's `lastUpdateId`, then the `u` of the last
 * applied diff).
 *
 * Spot ("How to manage a local order book correctly", text of 2025-11-12):
 * - "discard any event where `u` is <= `lastUpdateId` of the snapshot" ({@link spotIsStale}).
 * - "If the event last update ID (`u`) is less than the update ID of your local order book, ignore the event."
 *   An event with `u == L` brings nothing new either, so one rule, `u <= L`, serves before and after sync.
 * - "If the event first update ID (`U`) is greater than the update ID of your local order book + 1, you have
 *   missed some events" ({@link spotHasGap}).
 * - "Normally, `U` of the next event is equal to `u + 1` of the previous event." That is the exact case of
 *   {@link spotCoversNext} (`U <= L+1 <= u`), which also accepts an overlapping event (duplicate delivery) and the
 *   first event after the snapshot. The snapshot step "if `lastUpdateId` is strictly less than `U`, get a new
 *   snapshot" is the same gap test on the first kept event; it is relaxed at exactly `U == L+1`, where the event
 *   continues the snapshot without a hole and a refetch would only cost request weight.
 *
 * Futures, USD-M and COIN-M alike ("How to manage a local order book correctly", the same text on both; the
 * `usdm*` predicates serve both markets, docs/binance-api.md §4, §9):
 * - "Drop any event where `u` is < `lastUpdateId` in the snapshot" ({@link usdmIsStaleBeforeSync}).
 * - "The first processed event should have `U` <= `lastUpdateId` AND `u` >= `lastUpdateId`"
 *   ({@link usdmBridgesSnapshot}). Futures ids skip (`U != pu + 1` on most events: the ids between `pu` and `U`
 *   are not updates of this book), so an event with `pu <= L <= u` bridges the snapshot as well; this covers a
 *   snapshot id that falls between two events and never accepts a hole.
 * - "each new event's `pu` should be equal to the previous event's `u`" ({@link usdmChains}). After sync the book
 *   id is always a stream `u`, so an event with `u <= L` is an old duplicate ({@link usdmIsDuplicate}), one with
 *   `pu == L` applies, and anything else is a gap. `U` is never compared with `u + 1` on futures: it skips on
 *   almost every event, so the spot rule would report false gaps.
 *
 * @module
 */
import { isFutures, type Market } from "../binance/markets.ts";
import type { DepthDiff } from "../binance/types.ts";

/** What to do with a diff relative to a book id: drop it as old, apply it, or declare a gap. */
export type Verdict = "stale" | "apply" | "gap";

/** The fields of a diff the sequence rules read. */
export type DiffIds = Pick<DepthDiff, "symbol" | "firstUpdateId" | "finalUpdateId" | "prevFinalUpdateId">;

/** Spot: the diff holds nothing newer than the book (`u <= L`), so it is dropped or ignored. */
export function spotIsStale(finalUpdateId: number, bookId: number): boolean {
  return finalUpdateId <= bookId;
}

/** Spot: the diff contains the next update after the book (`U <= L+1 <= u`), so it applies. */
export function spotCoversNext(firstUpdateId: number, finalUpdateId: number, bookId: number): boolean {
  return firstUpdateId <= bookId + 1 && bookId + 1 <= finalUpdateId;
}

/** Spot: updates between the book and the diff are missing (`U > L+1`). */
export function spotHasGap(firstUpdateId: number, bookId: number): boolean {
  return firstUpdateId > bookId + 1;
}

/** USD-M, before sync: the diff ended before the snapshot (`u < L`) and is dropped. */
export function usdmIsStaleBeforeSync(finalUpdateId: number, snapshotId: number): boolean {
  return finalUpdateId < snapshotId;
}

/**
 * USD-M, first diff after the snapshot: it straddles the snapshot id, documented as `U <= L <= u`, or
 * continues right after it (`pu <= L <= u`).
 */
export function usdmBridgesSnapshot(
  firstUpdateId: number,
  finalUpdateId: number,
  prevFinalUpdateId: number,
  snapshotId: number,
): boolean {
  return (firstUpdateId <= snapshotId || prevFinalUpdateId <= snapshotId) && snapshotId <= finalUpdateId;
}

/** USD-M, after sync: the diff ends at or before the book id (`u <= L`), an old duplicate to ignore. */
export function usdmIsDuplicate(finalUpdateId: number, bookId: number): boolean {
  return finalUpdateId <= bookId;
}

/** USD-M, after sync: the diff continues the book exactly (`pu == L`). */
export function usdmChains(prevFinalUpdateId: number, bookId: number): boolean {
  return prevFinalUpdateId === bookId;
}

/**
 * Verdict for a buffered diff against a snapshot id, i.e. for the first diff the book would apply.
 *
 * @throws {TypeError} if a USD-M diff has no `pu` (a parser bug).
 * @example
 * ```ts
 * import { snapshotVerdict } from "./sequencer.ts";
 * const diff = {
 *   symbol: "BNBBTC", eventTime: 0, transactionTime: null,
 *   firstUpdateId: 157, finalUpdateId: 160, prevFinalUpdateId: null, bids: [], asks: [],
 * };
 * snapshotVerdict("spot", diff, 158); // "apply": 157 <= 159 <= 160
 * snapshotVerdict("spot", diff, 160); // "stale": u <= lastUpdateId
 * snapshotVerdict("spot", diff, 150); // "gap": 151..156 are missing
 * ```
 */
export function snapshotVerdict(market: Market, diff: DiffIds, snapshotId: number): Verdict {
  const { firstUpdateId: first, finalUpdateId: final } = diff;
  if (!isFutures(market)) {
    if (spotIsStale(final, snapshotId)) return "stale";
    return spotCoversNext(first, final, snapshotId) ? "apply" : "gap";
  }
  if (usdmIsStaleBeforeSync(final, snapshotId)) return "stale";
  return usdmBridgesSnapshot(first, final, requirePu(diff), snapshotId) ? "apply" : "gap";
}

/**
 * Verdict for a diff against a synced book whose id is the `u` of the last applied diff (or the snapshot id).
 *
 * @throws {TypeError} if a USD-M diff has no `pu` (a parser bug).
 */
export function streamVerdict(market: Market, diff: DiffIds, bookId: number): Verdict {
  if (!isFutures(market)) {
    if (spotIsStale(diff.finalUpdateId, bookId)) return "stale";
    // Not stale means u >= L+1, so "no gap" is exactly spotCoversNext: the same rule as at the snapshot.
    return spotHasGap(diff.firstUpdateId, bookId) ? "gap" : "apply";
  }
  if (usdmIsDuplicate(diff.finalUpdateId, bookId)) return "stale";
  return usdmChains(requirePu(diff), bookId) ? "apply" : "gap";
}

/**
 * True when a diff continues a synced book with id `bookId` without a hole: spot `U <= L+1 <= u`, USD-M
 * `pu == L`. Takes the raw ids, so a frame can be judged before it is parsed whole (connection handover).
 *
 * @example
 * ```ts
 * diffContinues("spot", 157, 160, null, 158); // true
 * diffContinues("usdm", 170, 175, 160, 161); // false: pu 160 != 161
 * ```
 */
export function diffContinues(
  market: Market,
  firstUpdateId: number,
  finalUpdateId: number,
  prevFinalUpdateId: number | null,
  bookId: number,
): boolean {
  if (!isFutures(market)) return spotCoversNext(firstUpdateId, finalUpdateId, bookId);
  return prevFinalUpdateId !== null && usdmChains(prevFinalUpdateId, bookId);
}

/**
 * True when a diff is the first a book built from snapshot `snapshotId` applies: spot `U <= L+1 <= u`, USD-M
 * {@link usdmBridgesSnapshot}. Takes the raw ids, like {@link diffContinues}.
 *
 * @example
 * ```ts
 * diffFollowsSnapshot("usdm", 170, 175, 160, 175); // true: futures keep a diff ending at the snapshot's id
 * diffFollowsSnapshot("spot", 170, 175, null, 175); // false: spot drops it (u <= lastUpdateId)
 * ```
 */
export function diffFollowsSnapshot(
  market: Market,
  firstUpdateId: number,
  finalUpdateId: number,
  prevFinalUpdateId: number | null,
  snapshotId: number,
): boolean {
  if (!isFutures(market)) return spotCoversNext(firstUpdateId, finalUpdateId, snapshotId);
  return usdmBridgesSnapshot(firstUpdateId, finalUpdateId, prevFinalUpdateId ?? firstUpdateId, snapshotId);
}

/** A one-line explanation of a `gap` verdict, for logs and the gaps table. */
export function gapReason(market: Market, diff: DiffIds, bookId: number): string {
  if (!isFutures(market)) {
    return `spot: U ${diff.firstUpdateId} > lastUpdateId + 1 = ${bookId + 1}`;
  }
  return `usdm: pu ${diff.prevFinalUpdateId} != lastUpdateId ${bookId}`;
}

function requirePu(diff: DiffIds): number {
  if (diff.prevFinalUpdateId === null) {
    throw new TypeError(`Cannot sequence usdm diff ${diff.symbol} u=${diff.finalUpdateId}: pu is missing`);
  }
  return diff.prevFinalUpdateId;
}

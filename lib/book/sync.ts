/**
 * The documented snapshot + diff procedure for one (market, symbol) book, as a pure state machine.
 *
 * No I/O and no clock: the caller feeds diffs ({@link BookSync.onDiff}) and REST snapshots
 * ({@link BookSync.onSnapshot}) in the order it received them, and learns what happened through a
 * {@link SyncSink}, which is called synchronously, so it can read the book right after the snapshot and after
 * *each* applied diff. Sink methods must not call back into the same `BookSync`.
 *
 * States:
 * - `idle`: nothing received yet (or after {@link BookSync.reset}, e.g. on a disconnect).
 * - `buffering`: diffs are buffered while a snapshot is awaited. A snapshot that comes before any diff is kept
 *   *pending* until a diff covers it.
 * - `synced`: the book is live; each diff is applied, ignored as a duplicate, or breaks the sequence (a gap),
 *   which discards the book and returns to `buffering` with the breaking diff first in the buffer. A snapshot
 *   ahead of every buffered diff syncs the book at once (the stream's diffs so far are all in it, as Binance's
 *   procedure sets the local book to the snapshot before the first event is checked); the first diff after it
 *   must then bridge the snapshot (the rule of the snapshot step, not of the stream), or it is a gap. A quiet
 *   symbol, whose next diff may be minutes away, is in sync as soon as its snapshot arrives.
 *
 * The buffer is bounded ({@link BookSyncOptions.maxBuffered}); on overflow the oldest diff is dropped. No
 * extra rule is needed for that: a snapshot is only accepted when the first kept buffered diff bridges it, so a
 * snapshot older than what the buffer still holds is rejected as too old, exactly like one older than the
 * stream's start.
 *
 * @module
 */
import type { DepthDiff, DepthSnapshot, Market } from "../binance/types.ts";
import { DiffBuffer } from "./diff_buffer.ts";
import { type BookSnapshot, OrderBook } from "./order_book.ts";
import { type DiffIds, gapReason, snapshotVerdict, streamVerdict, type Verdict } from "./sequencer.ts";
import {
  type BookSyncOptions,
  DEFAULT_MAX_BUFFERED,
  type DiffOutcome,
  type SnapshotOutcome,
  type SyncCounters,
  type SyncSink,
  type SyncState,
} from "./sync_contract.ts";

export {
  type BookSyncOptions,
  DEFAULT_MAX_BUFFERED,
  type DiffOutcome,
  type SequenceGap,
  type SnapshotOutcome,
  type SnapshotRequestReason,
  type SyncCounters,
  type SyncSink,
  type SyncState,
} from "./sync_contract.ts";

/**
 * Keeps one local order book in sync with Binance's snapshot + diff procedure.
 *
 * @example
 * ```ts
 * import { BookSync, type SyncSink } from "./sync.ts";
 * const sink: SyncSink = {
 *   needSnapshot: (symbol) => console.log("fetch", symbol),
 *   snapshotApplied: () => {},
 *   diffApplied: (_diff, book) => console.log(book.bestBid(), book.bestAsk()),
 *   gap: (gap) => console.log("gap", gap.reason),
 * };
 * const sync = new BookSync("spot", "BNBBTC", sink);
 * sync.onDiff({
 *   symbol: "BNBBTC", eventTime: 1672515782136, transactionTime: null,
 *   firstUpdateId: 157, finalUpdateId: 160, prevFinalUpdateId: null,
 *   bids: [[0.0024, 10]], asks: [[0.0026, 100]],
 * }); // "buffered", logs "fetch BNBBTC"
 * sync.onSnapshot({
 *   symbol: "BNBBTC", lastUpdateId: 158, eventTime: null, transactionTime: null,
 *   bids: [[0.0023, 5]], asks: [[0.0027, 1]],
 * }); // "synced", logs "0.0024 0.0026"
 * ```
 */
export class BookSync {
  /** The market whose sequence rules apply (COIN-M follows the USD-M rules). */
  readonly market: Market;
  /** The symbol every diff and snapshot must carry. */
  readonly symbol: string;
  /** The local book; only meaningful while `state` is `synced`. */
  readonly book: OrderBook;

  readonly #sink: SyncSink;
  readonly #buffer: DiffBuffer;
  readonly #counters: SyncCounters = {
    applied: 0,
    dropped: 0,
    duplicates: 0,
    gaps: 0,
    resyncs: 0,
    snapshotsRejected: 0,
    overflowed: 0,
  };
  #state: SyncState = "idle";
  #pending: DepthSnapshot | null = null;
  /** Synced from a snapshot ahead of every buffered diff: the next diff must bridge it. */
  #bridging = false;
  #afterGap = false;

  /** @throws {RangeError} if `maxBuffered` or `bookCapacity` is not a positive integer. */
  constructor(market: Market, symbol: string, sink: SyncSink, options: BookSyncOptions = {}) {
    this.market = market;
    this.symbol = symbol;
    this.#sink = sink;
    this.#buffer = new DiffBuffer(symbol, options.maxBuffered ?? DEFAULT_MAX_BUFFERED);
    this.book = new OrderBook(options.bookCapacity, options.maxLevels);
  }

  /** Current state. */
  get state(): SyncState {
    return this.#state;
  }

  /** Running totals (a live view; do not modify). */
  get counters(): Readonly<SyncCounters> {
    return this.#counters;
  }

  /** Number of diffs waiting in the buffer. */
  get buffered(): number {
    return this.#buffer.size;
  }

  /**
   * Synced from a snapshot ahead of every buffered diff, and the next diff is to bridge it: until then the stream
   * has not joined the book, so the diffs go to it unfiltered (the first may end at the snapshot's id).
   */
  get awaitingBridge(): boolean {
    return this.#bridging;
  }

  /** The snapshot kept until a diff covers it, or `null`. */
  get pendingSnapshot(): DepthSnapshot | null {
    return this.#pending;
  }

  /**
   * Feeds one diff, in stream order.
   *
   * @throws {RangeError} if the diff is for another symbol.
   * @throws {TypeError} if a USD-M diff has no `pu`.
   */
  onDiff(diff: DepthDiff): DiffOutcome {
    this.#checkSymbol(diff.symbol, "diff");
    switch (this.#state) {
      case "synced":
        return this.#onSyncedDiff(diff);
      case "idle":
        this.#state = "buffering";
        this.#bufferDiff(diff);
        this.#sink.needSnapshot(this.symbol, "start");
        return "buffered";
      case "buffering":
        if (this.#pending !== null) return this.#onPendingDiff(diff, this.#pending);
        this.#bufferDiff(diff);
        return "buffered";
    }
  }

  /**
   * Feeds one REST snapshot. While buffering: diffs older than the snapshot are dropped, and the book is synced
   * if the first remaining diff bridges the snapshot, or if none remains (the next diff must bridge it); a
   * snapshot older than the first remaining diff is rejected and a new one requested. Before any diff (`idle`,
   * or an empty buffer) it is kept pending; in `synced` it is ignored.
   *
   * @throws {RangeError} if the snapshot is for another symbol.
   */
  onSnapshot(snapshot: DepthSnapshot): SnapshotOutcome {
    this.#checkSymbol(snapshot.symbol, "snapshot");
    if (this.#state === "synced") return "ignored";
    this.#state = "buffering";
    const buffer = this.#buffer;
    const received = buffer.size;
    let kept = 0;
    let verdict: Verdict = "stale";
    while (kept < buffer.size) {
      verdict = snapshotVerdict(this.market, buffer.ids(kept), snapshot.lastUpdateId);
      if (verdict !== "stale") break;
      kept++;
    }
    if (verdict === "gap") {
      // Keep the buffer whole: the next snapshot is judged against the same stream.
      this.#counters.snapshotsRejected++;
      this.#sink.needSnapshot(this.symbol, "snapshotTooOld");
      return "tooOld";
    }
    this.#counters.dropped += kept;
    buffer.drop(kept);
    if (received === 0) {
      this.#pending = snapshot;
      return "pending";
    }
    if (buffer.size === 0) {
      this.#adopt(snapshot);
      this.#bridging = true;
      return "synced";
    }
    this.#sync(snapshot);
    return "synced";
  }

  /**
   * Puts the book back in sync from a saved copy of itself (crash recovery replays the journal from a checkpoint
   * that holds the full book), still {@link awaitingBridge} if it was. No sink call: nothing new happened on the
   * stream.
   */
  restore(saved: BookSnapshot, awaitingBridge = false): void {
    this.reset();
    this.book.reset(saved);
    this.#state = "synced";
    this.#bridging = awaitingBridge;
  }

  /** Discards the book, the buffer and any pending snapshot (e.g. the socket closed); the state becomes idle. */
  reset(): void {
    this.#counters.dropped += this.#buffer.size;
    this.#buffer.clear();
    this.#pending = null;
    this.#bridging = false;
    this.#afterGap = false;
    this.book.clear();
    this.#state = "idle";
  }

  #onSyncedDiff(diff: DepthDiff): DiffOutcome {
    if (this.#bridging) return this.#onBridgingDiff(diff);
    const verdict = streamVerdict(this.market, diff, this.book.lastUpdateId);
    if (verdict === "apply") {
      this.#apply(diff);
      return "applied";
    }
    if (verdict === "stale") {
      this.#counters.duplicates++;
      return "duplicate";
    }
    this.#bufferDiff(diff);
    this.#breakSequence(diff);
    return "gap";
  }

  /** The first diff after a snapshot that was ahead of every buffered diff: it must bridge the snapshot. */
  #onBridgingDiff(diff: DepthDiff): DiffOutcome {
    const verdict = snapshotVerdict(this.market, diff, this.book.lastUpdateId);
    if (verdict === "stale") {
      this.#counters.dropped++;
      return "dropped";
    }
    this.#bridging = false;
    if (verdict === "apply") {
      this.#apply(diff);
      return "applied";
    }
    // The stream jumped past the snapshot: updates after it never arrived.
    this.#bufferDiff(diff);
    this.#breakSequence(diff);
    return "gap";
  }

  /** A snapshot is pending and the buffer is empty: this diff decides whether the snapshot is usable. */
  #onPendingDiff(diff: DepthDiff, snapshot: DepthSnapshot): DiffOutcome {
    const verdict = snapshotVerdict(this.market, diff, snapshot.lastUpdateId);
    if (verdict === "stale") {
      this.#counters.dropped++;
      return "dropped";
    }
    this.#pending = null;
    this.#bufferDiff(diff);
    if (verdict === "apply") {
      this.#sync(snapshot);
      return "applied";
    }
    // The stream jumped past the snapshot: a hole between them.
    this.#counters.snapshotsRejected++;
    this.#sink.needSnapshot(this.symbol, "snapshotTooOld");
    return "buffered";
  }

  /** Resets the book to `snapshot` and drains the buffer, whose first diff bridges the snapshot. */
  #sync(snapshot: DepthSnapshot): void {
    const buffer = this.#buffer;
    this.#adopt(snapshot);
    this.#apply(buffer.shift()!);
    while (buffer.size > 0) {
      const ids = buffer.ids(0);
      const verdict = streamVerdict(this.market, ids, this.book.lastUpdateId);
      if (verdict === "gap") {
        this.#breakSequence(ids); // the breaking diff stays first in the buffer
        return;
      }
      if (verdict === "apply") this.#apply(buffer.shift()!);
      else {
        buffer.drop(1);
        this.#counters.duplicates++;
      }
    }
  }

  /** The book becomes `snapshot` and is in sync. */
  #adopt(snapshot: DepthSnapshot): void {
    this.book.reset(snapshot);
    this.#state = "synced";
    if (this.#afterGap) {
      this.#counters.resyncs++;
      this.#afterGap = false;
    }
    this.#sink.snapshotApplied(snapshot, this.book);
  }

  #apply(diff: DepthDiff): void {
    this.book.apply(diff);
    this.#counters.applied++;
    this.#sink.diffApplied(diff, this.book);
  }

  /** `diff` (already first in the buffer) did not chain: discard the book and ask for a new snapshot. */
  #breakSequence(diff: DiffIds): void {
    const lastUpdateId = this.book.lastUpdateId;
    const reason = gapReason(this.market, diff, lastUpdateId);
    this.book.clear();
    this.#state = "buffering";
    this.#afterGap = true;
    this.#counters.gaps++;
    this.#sink.gap({
      market: this.market,
      symbol: this.symbol,
      lastUpdateId,
      firstUpdateId: diff.firstUpdateId,
      finalUpdateId: diff.finalUpdateId,
      prevFinalUpdateId: diff.prevFinalUpdateId,
      reason,
    });
    this.#sink.needSnapshot(this.symbol, "gap");
  }

  #bufferDiff(diff: DepthDiff): void {
    if (this.#buffer.push(diff)) {
      this.#counters.dropped++;
      this.#counters.overflowed++;
    }
  }

  #checkSymbol(symbol: string, what: string): void {
    if (symbol !== this.symbol) {
      throw new RangeError(
        `Cannot feed a ${what} for ${symbol} to the ${this.market} book of ${this.symbol}`,
      );
    }
  }
}

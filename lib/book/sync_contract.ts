/**
 * The book sync's contract with its caller (sync.ts): the sink it reports to, what each call did, its counters
 * and its options. Declarations only, so the state machine's file holds just the procedure; sync.ts re-exports
 * them.
 * @module
 */
import type { DepthDiff, DepthSnapshot, Market } from "../binance/types.ts";
import type { OrderBook } from "./order_book.ts";

/** Where a {@link BookSync} is in the procedure. */
export type SyncState = "idle" | "buffering" | "synced";

/** Why a snapshot is requested: the first diff arrived, the last snapshot was too old, or a gap. */
export type SnapshotRequestReason = "start" | "snapshotTooOld" | "gap";

/** What {@link BookSync.onDiff} did with a diff. */
export type DiffOutcome = "buffered" | "dropped" | "applied" | "duplicate" | "gap";

/**
 * What {@link BookSync.onSnapshot} did with a snapshot: applied it (`synced`; a gap inside the buffered diffs
 * may still follow through {@link SyncSink.gap}), kept it until a diff covers it (`pending`: no diff came since
 * the start or a reset), rejected it (`tooOld`, a new one is requested), or ignored it because the book is
 * already synced.
 */
export type SnapshotOutcome = "synced" | "pending" | "tooOld" | "ignored";

/** A break in the diff sequence of a synced book. */
export interface SequenceGap {
  market: Market;
  symbol: string;
  /** The book's update id before the break. */
  lastUpdateId: number;
  /** `U`, `u` and `pu` of the diff that did not chain. */
  firstUpdateId: number;
  finalUpdateId: number;
  prevFinalUpdateId: number | null;
  reason: string;
}

/** Receives the decisions of a {@link BookSync}, synchronously and in order. */
export interface SyncSink {
  /** Fetch a REST depth snapshot for `symbol` and pass it to `onSnapshot`. */
  needSnapshot(symbol: string, reason: SnapshotRequestReason): void;
  /** The book was reset to `snapshot`; the buffered diffs that follow it come next through `diffApplied`. */
  snapshotApplied(snapshot: DepthSnapshot, book: OrderBook): void;
  /** `diff` was applied; `book` is its result and may be read now (it changes with the next diff). */
  diffApplied(diff: DepthDiff, book: OrderBook): void;
  /** The sequence broke; the book was discarded and `needSnapshot(symbol, "gap")` follows. */
  gap(gap: SequenceGap): void;
}

/** Running totals of one {@link BookSync}. Every diff received is applied, dropped, a duplicate or buffered. */
export interface SyncCounters {
  /** Diffs applied to the book. */
  applied: number;
  /** Diffs discarded without reaching the book: older than the snapshot, evicted, or buffered at a reset. */
  dropped: number;
  /** Diffs ignored by a synced book because it already holds them. */
  duplicates: number;
  /** Sequence breaks (each one discards the book). */
  gaps: number;
  /** Syncs completed after a gap. */
  resyncs: number;
  /** Snapshots rejected as too old for the buffered stream. */
  snapshotsRejected: number;
  /** Buffered diffs evicted because the buffer was full (also counted in `dropped`). */
  overflowed: number;
}

/** Options of a {@link BookSync}. */
export interface BookSyncOptions {
  /** Most diffs buffered while waiting for a snapshot; the oldest is dropped beyond it. Default 10 000. */
  maxBuffered?: number;
  /** Initial levels per book side (the book grows by doubling). */
  bookCapacity?: number;
  /** Levels kept per book side; the worst beyond it are dropped. Default: all. */
  maxLevels?: number;
}

/** Default {@link BookSyncOptions.maxBuffered}: about 17 min of a 100 ms stream, or 10 s of a busy 0 ms one. */
export const DEFAULT_MAX_BUFFERED = 10_000;

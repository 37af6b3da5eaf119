/**
 * What the status server shows: one plain, JSON-safe snapshot of the collector, produced by a
 * {@link StatusSource}. The status modules only read snapshots, so the collector (or a test fake) decides how
 * each figure is measured and the rendering stays pure.
 * @module
 */

import type { Market } from "../binance/types.ts";
import type { HistogramSnapshot } from "./histogram.ts";

/** One recorded stream of one symbol, e.g. spot `BTCUSDT` `depth@100ms`. */
export interface StreamStatus {
  market: Market;
  symbol: string;
  /** The configured stream kind, e.g. `depth@100ms`, `aggTrade`, `kline_1m`. */
  stream: string;
  /** The connection carrying the stream is open and subscribed. */
  connected: boolean;
  /** The liveness tracker currently finds the stream silent for longer than its threshold. */
  stale: boolean;
  /** Frames received since the process started. */
  messages: number;
  /** Bytes of those frames (as received, before parsing). */
  bytes: number;
  /** Recent message rate (the collector's window, e.g. the last 10 s). */
  msgsPerSec: number;
  /** Time since the last frame; null before the first one. */
  lastMessageAgeMs: number | null;
  /** Gaps written for the stream since the process started. */
  gaps: number;
  /** Gaps of the stream in the ledger for the current UTC day. */
  gapsToday: number;
  /** Ledger coverage of the current UTC day in percent; null when the ledger has no hour of it yet. */
  coverageTodayPct: number | null;
}

/** One order book (a depth stream's symbol). */
export interface BookStatus {
  market: Market;
  symbol: string;
  /** The book sync state: `idle`, `buffering` or `synced`. */
  state: string;
  /** Times the book had to be rebuilt from a new snapshot since the process started. */
  resyncs: number;
}

/** REST request weight of one market. */
export interface RestStatus {
  market: Market;
  /** Weight used in the current minute. */
  weightUsed: number;
  /** Weight allowed per minute. */
  weightLimit: number;
}

/** The latest clock offset from one source. */
export interface ClockStatus {
  /** Where it was measured: `ntp`, `binance-spot`, `binance-usdm`. */
  source: string;
  /** Reference clock minus local clock. */
  offsetMs: number;
  /** When it was measured (ms since the epoch). */
  atMs: number;
}

/** Space on the file system of the data directory. */
export interface DiskStatus {
  path: string;
  freeBytes: number;
  totalBytes: number;
}

/** Write-ahead journal durability lag. */
export interface JournalStatus {
  /** Bytes appended but not yet fsynced (buffered or written). */
  unsyncedBytes: number;
  /** Time since the last completed fsync; null before the first one. */
  sinceFsyncMs: number | null;
  /** Records the journal could not take (it stops accepting after a write or fsync failure). */
  errors: number;
}

/** Parquet flushes since the process started. */
export interface FlushStatus {
  /** Durations of completed flushes, in seconds. */
  durations: HistogramSnapshot;
  /** Flushes that failed. */
  failures: number;
}

/** Everything the status page, `/health` and `/metrics` show, at one moment. */
export interface StatusSnapshot {
  /** Collector version. */
  version: string;
  /** When the process started (ms since the epoch). */
  startedAtMs: number;
  /** When the snapshot was taken (ms since the epoch). */
  nowMs: number;
  /** Every stream of every enabled market. */
  streams: StreamStatus[];
  /** Every order book of every enabled market. */
  books: BookStatus[];
  rest: RestStatus[];
  /** Latest offset per source; empty until the first measurement. */
  clock: ClockStatus[];
  /** Null when the free space could not be read. */
  disk: DiskStatus | null;
  journal: JournalStatus;
  flushes: FlushStatus;
}

/** Where the status server gets its snapshots (the collector in production, a fake in tests). */
export interface StatusSource {
  /** The current state; may be async (ledger figures come from Deno KV). */
  snapshot(): StatusSnapshot | Promise<StatusSnapshot>;
}

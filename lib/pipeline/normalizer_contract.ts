/**
 * The normalizer's contract with whoever runs it (normalizer.ts): where its rows go, what it asks of the live
 * shell and reports, its counters, its options. Its parts (gap_keeper.ts, depth_stream.ts, stream_rows.ts) and
 * the row sink (table_store.ts) depend on this, not on the normalizer itself.
 * @module
 */
import type { Market } from "../binance/types.ts";
import type { ConnectionPlan, PlannedStream } from "../binance/stream_plan.ts";
import type { Row, TableName } from "../storage/tables.ts";
import type { BackfillRequest, BackfillResult } from "./backfill.ts";

/** Where rows go; `partitionUs` is the time that decides the file's UTC date and hour. */
export interface RowSink {
  row<N extends TableName>(market: Market, table: N, symbol: string, partitionUs: number, row: Row<N>): void;
}

/** What the normalizer asks of the live shell, and what it reports. */
export interface NormalizerEvents {
  /** The book of `symbol` needs a (new) REST snapshot. */
  needSnapshot(market: Market, symbol: string): void;
  /** A gap was closed and written (for alerts and the ledger). */
  gap?(market: Market, gap: Row<"gaps">): void;
  /** Rows missed on the socket should be fetched from REST (the answer comes back as a Backfill record). */
  needBackfill?(market: Market, request: BackfillRequest): void;
  /** A backfill ended: `ok` when every missed row came back. */
  backfillDone?(market: Market, result: BackfillResult): void;
  /** A gap row written earlier (its backfill was pending at a stop) was recovered in full after all. */
  gapRecovered?(market: Market, earlier: Row<"gaps">): void;
  /** The plan grew (symbols added): track the new streams, open the new connections. Also on replay. */
  planGrew?(streams: readonly PlannedStream[], connections: readonly ConnectionPlan[]): void;
  /** Streams of symbols that stopped trading (retired) or trade again (revived). Also on replay. */
  retired?(streams: readonly PlannedStream[]): void;
  revived?(streams: readonly PlannedStream[]): void;
}

/** Counters for status and metrics. */
export interface NormalizerStats {
  records: number;
  frames: number;
  /** Frames that are not JSON. */
  badFrames: number;
  /** JSON frames for a stream or event the collector does not know. */
  unknownFrames: number;
  /** Known streams whose payload lacks a field or has a wrong type. */
  malformedFrames: number;
  duplicates: number;
  held: number;
  gaps: number;
  /** Rows recovered from REST. */
  backfilled: number;
}

/** Options of {@link MarketNormalizer}. */
export interface NormalizerOptions {
  /** Levels per side in `book_snapshots`. */
  topLevels: number;
  /** Levels kept per book side; the worst beyond it are dropped (default all). */
  maxBookLevels?: number;
  /** Reports malformed frames (the caller rate-limits logging). */
  onBadFrame?(reason: string, text: string): void;
  /** Told of every frame routed to a stream (liveness tracking). */
  liveness?: { seen(streamIndex: number, localUs: number): void };
  /**
   * `symbols: all`: the plan follows {@link RecordKind.Universe} records, and checkpoints save it (a restore
   * rebuilds it). Otherwise the plan is the config's and a saved plan is ignored.
   */
  dynamicUniverse?: boolean;
}

/**
 * The shapes of the ledger's values and the checks applied before they are stored.
 * @module
 */

import { type Market, MARKETS } from "../binance/types.ts";
import type { JournalPosition } from "../storage/journal_format.ts";
import type { ManifestEntry } from "../storage/manifest.ts";
import type { Row } from "../storage/tables.ts";

/** Gap kinds of the output contract's `gaps` table. */
export const GAP_KINDS = ["sequence", "disconnect", "stale", "backfilled"] as const;

/** One of {@linkcode GAP_KINDS}. */
export type GapKind = (typeof GAP_KINDS)[number];

/** A gap as the ledger keeps it: the contract row plus its market and recovery. */
export interface GapRecord {
  market: Market;
  /** The row exported into the `gaps` table. */
  row: Row<"gaps">;
  /** When the interval's data was recovered (e.g. trades backfilled from REST), or null. */
  recoveredAtUs: number | null;
  recoveryNote: string | null;
}

/** Which gaps {@linkcode Ledger.listGaps} returns: those overlapping `[fromUs, toUs)`. */
export interface GapFilter {
  market?: Market;
  symbol?: string;
  stream?: string;
  fromUs: number;
  toUs: number;
}

/** What the collector adds to one stream-hour at a flush. */
export interface CoverageSample {
  /** Messages received for the stream in this hour since the previous sample. */
  messages: number;
  /**
   * The time the collector was recording the stream for this sample: from the previous flush (or the
   * connection start) to this flush, not first-to-last message time, so consecutive samples abut. Clipped to
   * the hour.
   */
  spanStartUs: number;
  spanEndUs: number;
}

/** Stored value of one stream-hour. */
export interface CoverageValue {
  messages: number;
  /** Recorded spans, merged and sorted, flattened as `[start0, end0, start1, end1, ...]` (µs). */
  spans: number[];
}

/** Coverage of one stream in one UTC hour, as reported. */
export interface CoverageRow {
  market: Market;
  symbol: string;
  stream: string;
  /** Start (µs) of the UTC hour. */
  hourUs: number;
  messages: number;
  /** Gap rows touching the hour. */
  gaps: number;
  /** Seconds the collector recorded the stream. */
  recordedSeconds: number;
  /** Seconds the collector answers for: recorded plus gap intervals (a downtime gap lies outside the spans). */
  observedSeconds: number;
  /** Seconds whose data is missing (unrecovered gaps). */
  gapSeconds: number;
  /** Seconds inside gap intervals whose data was recovered. */
  recoveredSeconds: number;
  /** `observedSeconds - gapSeconds`. */
  coveredSeconds: number;
  /** `coveredSeconds / observedSeconds` in percent. */
  pct: number;
}

/** Statistics of one flush. */
export interface FlushStat {
  atUs: number;
  files: number;
  rows: number;
  bytes: number;
  ms: number;
  /** Why it ran (`interval`, `hour`, `buffer full`, `shutdown`, ...). */
  reason: string;
}

/** Where a clock offset was measured. */
export type ClockSource = "ntp" | `binance-${Market}`;

/** The clock sources, in report order. */
export const CLOCK_SOURCES: readonly ClockSource[] = ["ntp", ...MARKETS.map((m) => `binance-${m}` as const)];

/** One clock-offset measurement: `offsetMs` is the reference clock minus the local clock. */
export interface ClockSample {
  atUs: number;
  source: ClockSource;
  offsetMs: number;
  rttMs: number;
}

/** The journal position committed to Parquet, with the version it was read at. */
export interface Checkpoint extends JournalPosition {
  /** File entries recorded with it. */
  files: number;
  /** KV versionstamp; pass the checkpoint back as `prev` to commit the next one. */
  versionstamp: string;
}

/** Longest reason or note kept (characters): bounds the value size. */
export const MAX_TEXT = 500;

/** Shortens `text` to {@linkcode MAX_TEXT} characters. */
export function capText(text: string): string {
  return text.length <= MAX_TEXT ? text : text.slice(0, MAX_TEXT - 1) + "…";
}

/** Throws `RangeError` unless `v` is a non-negative safe integer. */
export function checkCount(what: string, name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`Cannot ${what}: '${name}' must be a non-negative integer: current value is ${v}`);
  }
}

/** Throws `RangeError` unless `v` is finite. */
export function checkFinite(what: string, name: string, v: number): void {
  if (!Number.isFinite(v)) {
    throw new RangeError(`Cannot ${what}: '${name}' must be a finite number: current value is ${v}`);
  }
}

/** Throws `RangeError` unless `market` is a known market. */
export function checkMarket(what: string, market: string): asserts market is Market {
  if (!(MARKETS as readonly string[]).includes(market)) {
    throw new RangeError(`Cannot ${what}: unknown market '${market}'`);
  }
}

/** Throws `RangeError` unless `row` is a valid gap row. */
export function checkGapRow(row: Row<"gaps">): asserts row is Row<"gaps"> & { kind: GapKind } {
  const what = "record gap";
  if (!(GAP_KINDS as readonly string[]).includes(row.kind)) {
    throw new RangeError(`Cannot ${what}: unknown kind '${row.kind}'`);
  }
  if (row.symbol === "" || row.stream === "") throw new RangeError(`Cannot ${what}: empty symbol or stream`);
  checkCount(what, "start_time", row.start_time);
  checkCount(what, "end_time", row.end_time);
  if (row.end_time < row.start_time) {
    throw new RangeError(`Cannot ${what}: end_time ${row.end_time} is before start_time ${row.start_time}`);
  }
}

/** Throws `RangeError` unless `stat` holds counts and a finite duration. */
export function checkFlushStat(stat: FlushStat): void {
  const what = "record flush";
  for (const name of ["atUs", "files", "rows", "bytes"] as const) checkCount(what, name, stat[name]);
  checkFinite(what, "ms", stat.ms);
}

/** Throws `RangeError` unless `sample` is a valid measurement from a known source. */
export function checkClockSample(sample: ClockSample): void {
  const what = "record clock sample";
  checkCount(what, "atUs", sample.atUs);
  checkFinite(what, "offsetMs", sample.offsetMs);
  checkFinite(what, "rttMs", sample.rttMs);
  if (!CLOCK_SOURCES.includes(sample.source)) throw new RangeError(`Cannot ${what}: unknown source`);
}

/** Throws `RangeError` unless `next` is a valid journal position not before `prev`, the checkpoint it follows. */
export function checkNextPosition(prev: Checkpoint | null, next: JournalPosition): void {
  const what = "commit checkpoint";
  checkCount(what, "segment", next.segment);
  checkCount(what, "offset", next.offset);
  if (
    prev !== null &&
    (next.segment < prev.segment || (next.segment === prev.segment && next.offset < prev.offset))
  ) {
    throw new RangeError(
      `Cannot ${what}: ${next.segment}:${next.offset} is before the previous ${prev.segment}:${prev.offset}`,
    );
  }
}

/** The manifest fields of `entry` only, so stored values and the mirrored manifest carry nothing else. */
export function manifestFields(entry: ManifestEntry): ManifestEntry {
  const { path, sha256, rows, bytes, first_local_time, last_local_time, market, table } = entry;
  return { path, sha256, rows, bytes, first_local_time, last_local_time, market, table };
}

/** Orders strings by code unit (the order `Array.prototype.sort` uses by default), for sort comparators. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

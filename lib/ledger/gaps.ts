/**
 * Gap bookkeeping (pure): a gap's identity, the keys it is stored under (its record, and a copy under each UTC
 * day it touches so that a day's gaps are read by prefix), and how a range query picks those keys, filters what
 * it reads and orders the result. The ledger does the reading and writing.
 * @module
 */

import { DAY_US, slotsTouched } from "./intervals.ts";
import { gapDayKey, gapDayPrefix, type GapKey, gapKey, gapPrefix } from "./keys.ts";
import { compareText as cmp, type GapFilter, type GapRecord } from "./records.ts";
import type { Row } from "../storage/tables.ts";

/** {@linkcode Ledger.markRecovered} was given a gap the ledger does not hold. */
export class GapNotFoundError extends Error {
  constructor(readonly key: GapKey) {
    super(`Cannot mark gap recovered: no gap ${JSON.stringify(gapKey(key))}`);
    this.name = "GapNotFoundError";
  }
}

/**
 * Longest gap kept (days): its copy per UTC day must fit one atomic operation with room to spare.
 */
export const MAX_GAP_DAYS = 366;

/** Longest range (days) {@linkcode Ledger.listGaps} reads day by day. */
const MAX_INDEXED_DAYS = 62;

/** The key identifying a gap record. */
export function gapKeyOf(gap: GapRecord): GapKey {
  const { symbol, stream, start_time, kind } = gap.row;
  return { market: gap.market, symbol, stream, startUs: start_time, kind };
}

/** Starts (µs) of the UTC days a gap row touches: the gap keeps a copy under each. */
export function gapDays(row: Row<"gaps">): number[] {
  return slotsTouched(row.start_time, row.end_time, DAY_US);
}

/** Adds to `op` the writes of `record` under `key`: the record itself and its copy under each of `days`. */
export function setGap(
  op: Deno.AtomicOperation,
  key: GapKey,
  record: GapRecord,
  days: readonly number[],
): Deno.AtomicOperation {
  op.set(gapKey(key), record);
  for (const day of days) op.set(gapDayKey(day, key), record);
  return op;
}

/**
 * The key prefixes read for `filter`: short ranges read the per-day copies, long ones (e.g. `verify` over all
 * history) the primary records. A gap may be found under several of them.
 */
export function gapScanPrefixes(filter: GapFilter): Deno.KvKey[] {
  const { market, symbol, stream, fromUs, toUs } = filter;
  return (toUs - fromUs) / DAY_US <= MAX_INDEXED_DAYS
    ? slotsTouched(fromUs, toUs, DAY_US).map((day) => gapDayPrefix(day, market, symbol, stream))
    : [gapPrefix(market, symbol, stream)];
}

/**
 * Whether `gap` is one that `filter` asks for: a prefix stops narrowing at the first part not given, so symbol
 * and stream are checked again; the gap must overlap `[fromUs, toUs)` (a zero-length gap counts if inside).
 */
export function gapMatches(filter: GapFilter, gap: GapRecord): boolean {
  const { symbol, stream, fromUs, toUs } = filter;
  const r = gap.row;
  if ((symbol !== undefined && r.symbol !== symbol) || (stream !== undefined && r.stream !== stream)) {
    return false;
  }
  return !(r.start_time >= toUs || (r.end_time <= fromUs && r.start_time < fromUs));
}

/** Orders gaps by start time, then market, symbol, stream and kind. */
export function compareGaps(a: GapRecord, b: GapRecord): number {
  return a.row.start_time - b.row.start_time || cmp(a.market, b.market) || cmp(a.row.symbol, b.row.symbol) ||
    cmp(a.row.stream, b.row.stream) || cmp(a.row.kind, b.row.kind);
}

/**
 * Gap ledger summaries (pure): totals per kind and per stream, and the longest gaps, for the daily report and
 * `verify`.
 * @module
 */

import type { Market } from "../binance/types.ts";
import { isRecovered } from "../ledger/coverage.ts";
import { compareText as cmp, GAP_KINDS, type GapRecord } from "../ledger/records.ts";
import { fmtDuration } from "./text.ts";

/** Gaps of one kind. */
export interface GapKindTotal {
  kind: string;
  count: number;
  seconds: number;
}

/** Gaps of one stream. */
export interface GapStreamTotal {
  market: Market;
  symbol: string;
  stream: string;
  count: number;
  seconds: number;
  /** Gaps whose data is still missing (not backfilled, not marked recovered). */
  unrecovered: number;
}

/** A gap with its length inside the summary's window. */
export interface SizedGap {
  gap: GapRecord;
  seconds: number;
}

/** What {@linkcode summarizeGaps} returns. Seconds are summed per gap, clipped to the window. */
export interface GapSummary {
  count: number;
  unrecovered: number;
  seconds: number;
  /** Kinds present, in contract order (`sequence`, `disconnect`, `stale`, `backfilled`), then any other. */
  byKind: GapKindTotal[];
  /** Streams with gaps, by market, symbol and stream. */
  byStream: GapStreamTotal[];
  /** The longest gaps, longest first. */
  longest: SizedGap[];
}

/** Options of {@linkcode summarizeGaps}. */
export interface GapSummaryOptions {
  /** Only time inside `[fromUs, toUs)` counts. @default everything */
  fromUs?: number;
  toUs?: number;
  /** Gaps kept in `longest`. @default 5 */
  longest?: number;
}

/**
 * Sums gaps per kind and per stream.
 *
 * @example
 * ```ts
 * import { Ledger } from "../ledger/ledger.ts";
 *
 * const ledger = new Ledger(await Deno.openKv(":memory:"));
 * const hourUs = Date.UTC(2024, 0, 2, 7) * 1000;
 * await ledger.addGap("spot", {
 *   symbol: "BTCUSDT", stream: "aggTrade", kind: "disconnect", start_time: hourUs + 60e6,
 *   end_time: hourUs + 120e6, last_update_id: null, resume_update_id: null, reason: "socket closed",
 * });
 * const fromUs = Date.UTC(2024, 0, 2) * 1000;
 * const toUs = fromUs + 86_400_000_000;
 * summarizeGaps(await ledger.listGaps({ fromUs, toUs }), { fromUs, toUs }).byKind;
 * // [{ kind: "disconnect", count: 1, seconds: 60 }]
 * ledger.close();
 * ```
 */
export function summarizeGaps(gaps: readonly GapRecord[], options: GapSummaryOptions = {}): GapSummary {
  const { fromUs = -Infinity, toUs = Infinity, longest = 5 } = options;
  const kinds = new Map<string, GapKindTotal>(
    GAP_KINDS.map((kind) => [kind, { kind, count: 0, seconds: 0 }]),
  );
  const streams = new Map<string, GapStreamTotal>();
  const sized: SizedGap[] = [];
  let unrecovered = 0;
  let seconds = 0;
  for (const gap of gaps) {
    const { symbol, stream, kind, start_time, end_time } = gap.row;
    const s = Math.max(0, Math.min(end_time, toUs) - Math.max(start_time, fromUs)) / 1e6;
    const missing = !isRecovered(gap);
    let k = kinds.get(kind);
    if (!k) kinds.set(kind, k = { kind, count: 0, seconds: 0 });
    k.count++;
    k.seconds += s;
    const id = `${gap.market}\u0000${symbol}\u0000${stream}`;
    let st = streams.get(id);
    if (!st) {
      streams.set(id, st = { market: gap.market, symbol, stream, count: 0, seconds: 0, unrecovered: 0 });
    }
    st.count++;
    st.seconds += s;
    if (missing) {
      st.unrecovered++;
      unrecovered++;
    }
    seconds += s;
    sized.push({ gap, seconds: s });
  }
  return {
    count: gaps.length,
    unrecovered,
    seconds,
    byKind: [...kinds.values()].filter((k) => k.count > 0),
    byStream: [...streams.values()].sort((a, b) =>
      cmp(a.market, b.market) || cmp(a.symbol, b.symbol) || cmp(a.stream, b.stream)
    ),
    longest: sized.sort((a, b) => b.seconds - a.seconds || a.gap.row.start_time - b.gap.row.start_time)
      .slice(0, longest),
  };
}

/**
 * Lines of the per-kind totals: ` disconnect     3  1h 12m` (≤ 40 characters).
 */
export function formatGapKinds(summary: GapSummary): string[] {
  return summary.byKind.map((k) =>
    ` ${k.kind.padEnd(12)}${String(k.count).padStart(5)}  ${fmtDuration(k.seconds)}`
  );
}

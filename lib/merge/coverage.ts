/**
 * Which time each recording covered, per stream, and the merged output's gap rows: exactly the intervals no
 * recording covered. Pure.
 *
 * A recording covers a stream (market, symbol, stream) from its first to its last data of that symbol (any
 * table's rows and its gap rows: a quiet stream such as forceOrder is recorded while the collector runs, rows or
 * not) minus its gap rows of the stream. A `backfilled` row is no gap, and it cancels the gap row with the same
 * bounds (README "A gap row and a `backfilled` row"). Only recordings that have the stream at all (a row of its
 * table or a gap row) count. Within the hull of their spans, every interval none of them covers becomes one
 * gap row, whose reason names what each recording had there and whose update ids come from the recordings'
 * gap rows that bound it. Intervals are half-open µs `[start, end)`; a gap row covers at least 1 µs, so an
 * instant gap never vanishes.
 * @module
 */

import type { Market } from "../binance/markets.ts";
import { type Interval, mergeIntervals, subtractIntervals } from "../ledger/intervals.ts";
import type { Row } from "../storage/tables.ts";
import { defaultStreamName, streamKey } from "./streams.ts";

type GapRow = Row<"gaps">;

/** Updates or trades the merged tape does not have, found from the ids (depth_tape.ts, trade id ranges). */
export interface IdHole {
  market: Market;
  symbol: string;
  /** Stream key (streams.ts). */
  key: string;
  fromUs: number;
  toUs: number;
  lastId: number | null;
  resumeId: number | null;
  /** What is missing, for the reason of a gap row of its own. */
  what: string;
}

/** Gap rows of one recording, as the report counts them. */
export interface RecordingGapCount {
  /** Gap rows read (every kind). */
  rows: number;
  /** Gap rows that leave data missing: not `backfilled`, and not cancelled by a `backfilled` row. */
  missing: number;
}

/**
 * The gap rows that leave data missing: not `backfilled`, and without a `backfilled` row of the same symbol,
 * stream and bounds (each such row cancels one).
 *
 * @example
 * ```ts
 * const gap = (kind: string, start: number, end: number) => ({
 *   symbol: "BTCUSDT", stream: "aggTrade", kind, start_time: start, end_time: end,
 *   last_update_id: null, resume_update_id: null, reason: "",
 * });
 * effectiveGaps([gap("disconnect", 1, 5), gap("backfilled", 1, 5), gap("disconnect", 8, 9)]).length; // 1
 * ```
 */
export function effectiveGaps(rows: readonly GapRow[]): GapRow[] {
  const recovered = new Map<string, number>();
  const id = (g: GapRow) => `${g.symbol}\u0000${g.stream}\u0000${g.start_time}\u0000${g.end_time}`;
  for (const g of rows) if (g.kind === "backfilled") recovered.set(id(g), (recovered.get(id(g)) ?? 0) + 1);
  return rows.filter((g) => {
    if (g.kind === "backfilled") return false;
    const n = recovered.get(id(g)) ?? 0;
    if (n === 0) return true;
    recovered.set(id(g), n - 1);
    return false;
  });
}

/** A gap row's interval: `[start, end)`, at least 1 µs long. */
export function gapInterval(g: Pick<GapRow, "start_time" | "end_time">): Interval {
  return [g.start_time, Math.max(g.end_time, g.start_time + 1)];
}

const overlaps = (a: Interval, b: Interval) => a[0] < b[1] && b[0] < a[1];

/** Kinds a merged gap row takes, most telling first, when its recordings' gap rows differ. */
const KIND_ORDER = ["disconnect", "sequence", "stale"];

/**
 * Collects the recordings' spans, streams and gap rows, then answers the merged gap rows.
 *
 * @example
 * ```ts
 * const cov = new Coverage(["a", "b"]);
 * const gap = (start: number, end: number) => ({
 *   symbol: "BTCUSDT", stream: "bookTicker", kind: "disconnect", start_time: start, end_time: end,
 *   last_update_id: null, resume_update_id: null, reason: "connection closed",
 * });
 * cov.noteRows(0, "spot", "BTCUSDT", "bookTicker", 0, 100);
 * cov.noteRows(1, "spot", "BTCUSDT", "bookTicker", 0, 100);
 * cov.noteGap(0, "spot", gap(10, 40));
 * cov.noteGap(1, "spot", gap(30, 60));
 * cov.mergedGaps([]).gaps.get("spot")!.map((g) => [g.start_time, g.end_time]); // [[30, 40]]: both missed
 * ```
 */
export class Coverage {
  readonly #spans = new Map<string, [number, number]>();
  readonly #present = new Map<string, Set<number>>();
  readonly #gaps = new Map<string, GapRow[][]>();
  readonly #names = new Map<string, Map<string, number>>();

  /** `labels[i]` names recording `i` in reasons. */
  constructor(readonly labels: readonly string[]) {}

  /** Recording `rec` has rows of `symbol` from `minUs` to `maxUs`, of the stream `key` (null: no stream). */
  noteRows(
    rec: number,
    market: Market,
    symbol: string,
    key: string | null,
    minUs: number,
    maxUs: number,
  ): void {
    const id = `${rec}\u0000${market}\u0000${symbol}`;
    const span = this.#spans.get(id);
    if (span === undefined) this.#spans.set(id, [minUs, maxUs]);
    else {
      span[0] = Math.min(span[0], minUs);
      span[1] = Math.max(span[1], maxUs);
    }
    if (key === null) return;
    const stream = `${market}\u0000${symbol}\u0000${key}`;
    let recs = this.#present.get(stream);
    if (recs === undefined) this.#present.set(stream, recs = new Set());
    recs.add(rec);
  }

  /** A gap row of recording `rec`. */
  noteGap(rec: number, market: Market, row: GapRow): void {
    const key = streamKey(row.stream);
    this.noteRows(rec, market, row.symbol, key, row.start_time, row.end_time);
    const stream = `${market}\u0000${row.symbol}\u0000${key}`;
    let perRec = this.#gaps.get(stream);
    if (perRec === undefined) this.#gaps.set(stream, perRec = []);
    (perRec[rec] ??= []).push(row);
    for (const id of [stream, `${market}\u0000\u0000${key}`]) {
      let names = this.#names.get(id);
      if (names === undefined) this.#names.set(id, names = new Map());
      names.set(row.stream, (names.get(row.stream) ?? 0) + 1);
    }
  }

  /** Each recording's gap rows, as read and as leaving data missing. */
  gapCounts(): RecordingGapCount[] {
    const out = this.labels.map(() => ({ rows: 0, missing: 0 }));
    for (const perRec of this.#gaps.values()) {
      perRec.forEach((rows, rec) => {
        out[rec]!.rows += rows.length;
        out[rec]!.missing += effectiveGaps(rows).length;
      });
    }
    return out;
  }

  /**
   * The merged output's gap rows per market, sorted by symbol and start: the intervals no recording covered,
   * plus a row for each id hole that none of them overlaps (`fromHoles` counts those; see the module doc).
   */
  mergedGaps(holes: readonly IdHole[]): { gaps: Map<Market, GapRow[]>; fromHoles: number } {
    const out = new Map<Market, GapRow[]>();
    let fromHoles = 0;
    const uncovered = new Map<string, Interval[]>();
    for (const [stream, recs] of this.#present) {
      const [market, symbol, key] = stream.split("\u0000") as [Market, string, string];
      const rows = this.#streamGaps(stream, market, symbol, key, [...recs].sort((a, b) => a - b));
      uncovered.set(stream, rows.map(gapInterval));
      if (rows.length > 0) out.set(market, [...(out.get(market) ?? []), ...rows]);
    }
    for (const h of holes) {
      const stream = `${h.market}\u0000${h.symbol}\u0000${h.key}`;
      const iv = gapInterval({ start_time: h.fromUs, end_time: h.toUs });
      if ((uncovered.get(stream) ?? []).some((u) => overlaps(u, iv))) continue;
      fromHoles++;
      out.set(h.market, [...(out.get(h.market) ?? []), {
        symbol: h.symbol,
        stream: this.#name(h.market, h.symbol, h.key),
        kind: "sequence",
        start_time: h.fromUs,
        end_time: h.toUs,
        last_update_id: h.lastId,
        resume_update_id: h.resumeId,
        reason: h.what,
      }]);
    }
    for (const rows of out.values()) {
      rows.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : a.start_time - b.start_time));
    }
    return { gaps: out, fromHoles };
  }

  #streamGaps(stream: string, market: Market, symbol: string, key: string, recs: number[]): GapRow[] {
    const gaps = recs.map((rec) => effectiveGaps(this.#gaps.get(stream)?.[rec] ?? []));
    const spans = recs.map((rec): Interval => {
      const [first, last] = this.#spans.get(`${rec}\u0000${market}\u0000${symbol}`)!;
      return [first, last + 1];
    });
    const covered = recs.flatMap((_, i) => subtractIntervals([spans[i]!], gaps[i]!.map(gapInterval)));
    const hull: Interval = [Math.min(...spans.map((s) => s[0])), Math.max(...spans.map((s) => s[1]))];
    return subtractIntervals([hull], mergeIntervals(covered)).map(([a, b]) => {
      const iv: Interval = [a, b];
      const hits = gaps.map((rows) => rows.filter((g) => overlaps(gapInterval(g), iv)));
      const all = hits.flat();
      return {
        symbol,
        stream: this.#name(market, symbol, key),
        kind: mergedKind(all),
        start_time: a,
        end_time: b,
        last_update_id: all.find((g) => g.start_time === a && g.last_update_id !== null)?.last_update_id ??
          null,
        resume_update_id: all.find((g) => gapInterval(g)[1] === b && g.resume_update_id !== null)
          ?.resume_update_id ?? null,
        reason: `missed by every recording: ${
          recs.map((rec, i) => `${this.labels[rec]}: ${describe(hits[i]!)}`).join("; ")
        }`,
      };
    });
  }

  /** The stream's name in gap rows: as the recordings' gap rows name it, else the default. */
  #name(market: Market, symbol: string, key: string): string {
    const names = this.#names.get(`${market}\u0000${symbol}\u0000${key}`) ??
      this.#names.get(`${market}\u0000\u0000${key}`);
    if (names === undefined) return defaultStreamName(key);
    return [...names].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
  }
}

function mergedKind(rows: readonly GapRow[]): string {
  if (rows.length === 0) return "disconnect";
  const counts = new Map<string, number>();
  for (const g of rows) counts.set(g.kind, (counts.get(g.kind) ?? 0) + 1);
  const rank = (k: string) => (KIND_ORDER.indexOf(k) + KIND_ORDER.length + 1) % (KIND_ORDER.length + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || rank(a[0]) - rank(b[0]))[0]![0];
}

/** What one recording had over a merged gap: its gap rows there, or nothing (it was not recording). */
function describe(rows: readonly GapRow[]): string {
  if (rows.length === 0) return "not recording";
  const first = `${rows[0]!.kind} (${rows[0]!.reason})`;
  return rows.length === 1 ? first : `${first} and ${rows.length - 1} more`;
}

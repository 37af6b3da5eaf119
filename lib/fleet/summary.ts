/**
 * The fleet's state on one UTC day, built from what the shards published (heartbeats and manifests) and the
 * `gaps` rows of their Parquet files, fed one at a time so that memory holds the totals, not the inputs:
 * per shard its state (live, silent, stopped), per market the symbols recorded and those no live shard
 * records, per (market, table) the day's files, rows and time range, and the gaps (per kind, worst symbols
 * first). Pure.
 * @module
 */

import type { Market } from "../binance/types.ts";
import { DAY_US, utcDayStartUs } from "../ledger/intervals.ts";
import { compareText as cmp, GAP_KINDS } from "../ledger/records.ts";
import { parseParquetPath } from "../storage/layout.ts";
import type { Row, TableName } from "../storage/tables.ts";
import type { Heartbeat, ShardManifest } from "./files.ts";

/** `live`: heartbeat recent; `silent`: too old without a stop; `stopped`: stopped cleanly; `unknown`: none. */
export type ShardState = "live" | "silent" | "stopped" | "unknown";

/** One shard. */
export interface ShardView {
  shard: string;
  state: ShardState;
  /** The last heartbeat, null when the shard published none (only files). */
  heartbeat: Heartbeat | null;
  /** Age of the heartbeat at the summary's time. */
  ageMs: number | null;
  /** Symbols it records (all markets). */
  symbols: number;
  /** The day's files, rows and gaps (not `backfilled`) of this shard. */
  files: number;
  rows: number;
  gaps: number;
}

/** Symbols of one market across the fleet. */
export interface MarketSymbols {
  market: Market;
  /** Distinct symbols any shard records (live or not). */
  symbols: number;
  /** Symbols that only shards which are not live record: nothing records them now. */
  notRecorded: number;
  /** Symbols recorded by fewer live shards than `replicas` (but at least one). */
  underReplicated: number;
}

/** One (market, table) on the day, over all shards (with `replicas: 2`, each row counts once per replica). */
export interface TableCoverage {
  market: Market;
  table: TableName;
  files: number;
  rows: number;
  bytes: number;
  /** Range of the files' first and last row times, µs. */
  firstUs: number;
  lastUs: number;
  /** Shards that wrote files of it. */
  shards: number;
}

/** The day's gaps of one (market, symbol), `backfilled` ones left out (they lost nothing). */
export interface SymbolGaps {
  market: Market;
  symbol: string;
  count: number;
  /** Seconds of the gaps inside the day, summed. */
  seconds: number;
  streams: string[];
  shards: string[];
}

/** Gaps over the fleet. */
export interface FleetGaps {
  /** Every gap row overlapping the day, `backfilled` ones too. */
  count: number;
  /** Seconds missing (gaps other than `backfilled`, clipped to the day, summed over streams). */
  missingSeconds: number;
  byKind: { kind: string; count: number; seconds: number }[];
  /** Symbols with gaps, most seconds missing first. */
  worst: SymbolGaps[];
}

/** What {@linkcode FleetAccumulator.summary} returns. */
export interface FleetSummary {
  date: string;
  nowMs: number;
  silentAfterMs: number;
  /** Silent shards first, then those without a heartbeat, stopped, live; by name (s2 before s10) within. */
  shards: ShardView[];
  markets: MarketSymbols[];
  coverage: TableCoverage[];
  gaps: FleetGaps;
  /** Files that could not be read, one line each. */
  problems: string[];
}

const STATE_ORDER: Record<ShardState, number> = { silent: 0, unknown: 1, stopped: 2, live: 3 };

/** Shard names in natural order: s2 before s10. */
const byName = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });

/** A shard's state from its heartbeat at `nowMs`. */
export function shardState(hb: Heartbeat | null, nowMs: number, silentAfterMs: number): ShardState {
  if (hb === null) return "unknown";
  if (hb.stoppedAtMs !== null) return "stopped";
  return nowMs - hb.atMs > silentAfterMs ? "silent" : "live";
}

interface ShardTotals {
  heartbeat: Heartbeat | null;
  files: number;
  rows: number;
  gaps: number;
}

/**
 * Collects one day of fleet inputs.
 *
 * @example
 * ```ts
 * const nowMs = Date.UTC(2024, 0, 2, 12);
 * const acc = new FleetAccumulator("2024-01-02", nowMs, 15 * 60_000);
 * acc.addHeartbeat({
 *   format: 1, shard: "s0", index: 0, count: 1, replicas: 1, host: "vm-a", version: "0.4.0",
 *   startedAtMs: nowMs - 3_600_000, atMs: nowMs - 20 * 60_000, stoppedAtMs: null, lastFlushMs: null,
 *   lastUploadMs: null, symbols: { spot: ["BTCUSDT"] }, books: { synced: 1, total: 1 }, messagesPerSec: 10,
 * });
 * const summary = acc.summary();
 * summary.shards[0]!.state; // "silent": its heartbeat is 20 minutes old
 * summary.markets[0]!.notRecorded; // 1
 * ```
 */
export class FleetAccumulator {
  readonly #dayUs: number;
  readonly #shards = new Map<string, ShardTotals>();
  readonly #tables = new Map<string, TableCoverage & { shardSet: Set<string> }>();
  readonly #gapKeys = new Set<string>();
  readonly #kinds = new Map<string, { kind: string; count: number; seconds: number }>(
    GAP_KINDS.map((kind) => [kind, { kind, count: 0, seconds: 0 }]),
  );
  readonly #symbolGaps = new Map<string, { g: SymbolGaps; streams: Set<string>; shards: Set<string> }>();
  readonly #problems: string[] = [];
  #gapCount = 0;
  #missingSeconds = 0;

  /** Throws `RangeError` for a `date` that is not `YYYY-MM-DD`. */
  constructor(readonly date: string, readonly nowMs: number, readonly silentAfterMs: number) {
    this.#dayUs = utcDayStartUs(date);
  }

  #shard(name: string): ShardTotals {
    let s = this.#shards.get(name);
    if (!s) this.#shards.set(name, s = { heartbeat: null, files: 0, rows: 0, gaps: 0 });
    return s;
  }

  /** A shard's heartbeat (the latest, if given twice). */
  addHeartbeat(hb: Heartbeat): void {
    const s = this.#shard(hb.shard);
    if (s.heartbeat === null || hb.atMs >= s.heartbeat.atMs) s.heartbeat = hb;
  }

  /** A shard's manifest: its files of the day count. */
  addManifest(m: ShardManifest): void {
    const s = this.#shard(m.shard);
    for (const e of m.files) {
      if (parseParquetPath(e.path)?.date !== this.date) continue;
      const key = `${e.market}/${e.table}`;
      let t = this.#tables.get(key);
      const [first, last] = [Date.parse(e.first_local_time) * 1000, Date.parse(e.last_local_time) * 1000];
      if (!t) {
        this.#tables.set(
          key,
          t = {
            market: e.market,
            table: e.table,
            files: 0,
            rows: 0,
            bytes: 0,
            firstUs: first,
            lastUs: last,
            shards: 0,
            shardSet: new Set(),
          },
        );
      }
      t.files++;
      t.rows += e.rows;
      t.bytes += e.bytes;
      t.firstUs = Math.min(t.firstUs, first);
      t.lastUs = Math.max(t.lastUs, last);
      t.shardSet.add(m.shard);
      s.files++;
      s.rows += e.rows;
    }
  }

  /**
   * A `gaps` row from a file of `shard` (a row seen twice, e.g. in a part file and the compacted file that
   * replaced it, counts once); rows not overlapping the day are ignored.
   */
  addGap(shard: string, market: Market, row: Row<"gaps">): void {
    const [from, to] = [this.#dayUs, this.#dayUs + DAY_US];
    const { symbol, stream, kind, start_time: start, end_time: end } = row;
    if (start >= to || (end <= from && start < from)) return;
    const key = `${shard}\u0000${market}\u0000${symbol}\u0000${stream}\u0000${kind}\u0000${start}`;
    if (this.#gapKeys.has(key)) return;
    this.#gapKeys.add(key);
    const seconds = Math.max(0, Math.min(end, to) - Math.max(start, from)) / 1e6;
    let k = this.#kinds.get(kind);
    if (!k) this.#kinds.set(kind, k = { kind, count: 0, seconds: 0 });
    k.count++;
    k.seconds += seconds;
    this.#gapCount++;
    if (kind === "backfilled") return;
    this.#missingSeconds += seconds;
    this.#shard(shard).gaps++;
    const id = `${market}\u0000${symbol}`;
    let sg = this.#symbolGaps.get(id);
    if (!sg) {
      const g = { market, symbol, count: 0, seconds: 0, streams: [], shards: [] };
      this.#symbolGaps.set(id, sg = { g, streams: new Set(), shards: new Set() });
    }
    sg.g.count++;
    sg.g.seconds += seconds;
    sg.streams.add(stream);
    sg.shards.add(shard);
  }

  /** A file that could not be read, as one line. */
  addProblem(line: string): void {
    this.#problems.push(line);
  }

  /** The summary of everything added. */
  summary(): FleetSummary {
    const shards = [...this.#shards].map(([shard, s]): ShardView => ({
      shard,
      state: shardState(s.heartbeat, this.nowMs, this.silentAfterMs),
      heartbeat: s.heartbeat,
      ageMs: s.heartbeat === null ? null : this.nowMs - s.heartbeat.atMs,
      symbols: Object.values(s.heartbeat?.symbols ?? {}).reduce((n, list) => n + list.length, 0),
      files: s.files,
      rows: s.rows,
      gaps: s.gaps,
    })).sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || byName(a.shard, b.shard));
    return {
      date: this.date,
      nowMs: this.nowMs,
      silentAfterMs: this.silentAfterMs,
      shards,
      markets: marketSymbols(shards),
      coverage: [...this.#tables.values()]
        .map(({ shardSet, ...t }) => ({ ...t, shards: shardSet.size }))
        .sort((a, b) => cmp(a.market, b.market) || cmp(a.table, b.table)),
      gaps: {
        count: this.#gapCount,
        missingSeconds: this.#missingSeconds,
        byKind: [...this.#kinds.values()].filter((k) => k.count > 0),
        worst: [...this.#symbolGaps.values()]
          .map(({ g, streams, shards }) => ({
            ...g,
            streams: [...streams].sort(),
            shards: [...shards].sort(),
          }))
          .sort((a, b) =>
            b.seconds - a.seconds || b.count - a.count || cmp(a.market, b.market) || cmp(a.symbol, b.symbol)
          ),
      },
      problems: [...this.#problems],
    };
  }
}

/** Per market: distinct symbols, those only non-live shards record, those short of live replicas. */
function marketSymbols(shards: readonly ShardView[]): MarketSymbols[] {
  const markets = new Map<Market, Map<string, number>>();
  let replicas = 1;
  for (const s of shards) {
    if (s.heartbeat === null) continue;
    replicas = Math.max(replicas, s.heartbeat.replicas ?? 1);
    for (const [market, list] of Object.entries(s.heartbeat.symbols) as [Market, string[]][]) {
      let live = markets.get(market);
      if (!live) markets.set(market, live = new Map());
      for (const symbol of list) live.set(symbol, (live.get(symbol) ?? 0) + (s.state === "live" ? 1 : 0));
    }
  }
  return [...markets].sort(([a], [b]) => cmp(a, b)).map(([market, live]) => {
    let notRecorded = 0;
    let underReplicated = 0;
    for (const n of live.values()) {
      if (n === 0) notRecorded++;
      else if (n < replicas) underReplicated++;
    }
    return { market, symbols: live.size, notRecorded, underReplicated };
  });
}

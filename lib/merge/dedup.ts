/**
 * De-duplication of one symbol's rows of one hour, read from several recordings, by the exchange's own ids
 * (depth_updates have their own module, depth_tape.ts, since their order rebuilds a book):
 *
 * | table | key | output order |
 * |---|---|---|
 * | trades | agg_trade_id | agg_trade_id |
 * | klines | (interval, open_time) | close_time, interval |
 * | book_snapshots | last_update_id | last_update_id |
 * | book_tickers | update_id | update_id |
 * | mark_prices | exchange_time | exchange_time |
 * | funding_rates | funding_time | funding_time |
 * | liquidations | (trade_time, side, price, original_quantity, filled_quantity, status) | trade_time |
 * | instruments | every column but local_time: a row repeating the symbol's previous state is dropped | local_time |
 *
 * Of copies of one row the earliest arrival (`local_time`, then the recording's order) is kept. Hours are merged
 * in order, so a copy that arrived in the next hour is caught by what each merger remembers: trades and klines
 * keep every key as ranges (a REST backfill can come minutes after the live row), funding rates and instrument
 * states every key (a few a day), the other tables the keys of the last {@link CARRY_US} of the hour before
 * (replicas receive a message within milliseconds of each other).
 * @module
 */

import { klineIntervalMs } from "../binance/stream_plan.ts";
import { hourStartUs } from "../storage/layout.ts";
import type { TableName } from "../storage/tables.ts";
import { type KeyHole, RangeSet } from "./range_set.ts";

/** A row as the merge handles it: any table's columns, by name. */
export type AnyRow = Record<string, unknown> & { symbol: string; local_time: number };

/** A row and the index of the recording it came from. */
export interface Tagged<R extends AnyRow = AnyRow> {
  row: R;
  rec: number;
}

/** What a merger did with the rows it was given. */
export interface MergeCounts {
  /** Rows read from the recordings. */
  read: number;
  /** Rows written. */
  kept: number;
  /** Copies of a row written once. */
  duplicates: number;
  /** depth_updates only: blocks older than the tape already written (see depth_tape.ts). */
  superseded: number;
}

/** Zeroed {@link MergeCounts}. */
export function newCounts(): MergeCounts {
  return { read: 0, kept: 0, duplicates: 0, superseded: 0 };
}

/** Merges a table's rows symbol by symbol, hour after hour (in ascending hours). */
export interface SymbolMerger {
  readonly counts: MergeCounts;
  /** The rows to write for `symbol` of this hour, in output order. */
  merge(symbol: string, rows: readonly Tagged[]): AnyRow[];
  /** The hour is done (rows of the next hour follow). */
  endHour(): void;
  /** trades only: per symbol, the agg trade ids missing between the ones written (no recording had them). */
  idHoles?(): Map<string, KeyHole[]>;
}

/** How far back into the previous hour copies are looked for in the tables that keep a window (µs). */
export const CARRY_US = 60_000_000;
const HOUR_US = 3_600_000_000;

type Key = string | number;

/** The earliest arrival of each key, in no particular order. */
export function earliestByKey<R extends AnyRow>(
  rows: readonly Tagged<R>[],
  key: (row: R) => Key,
): Tagged<R>[] {
  const best = new Map<Key, Tagged<R>>();
  for (const t of rows) {
    const k = key(t.row);
    const b = best.get(k);
    if (
      b === undefined || t.row.local_time < b.row.local_time ||
      (t.row.local_time === b.row.local_time && t.rec < b.rec)
    ) {
      best.set(k, t);
    }
  }
  return [...best.values()];
}

/** What a merger remembers of earlier hours, per symbol. */
interface Memory {
  seen(symbol: string, row: AnyRow): boolean;
  emit(symbol: string, row: AnyRow): void;
  endHour(): void;
}

/** Whether a row that arrived at `localUs` is in the last {@link CARRY_US} of its hour (kept for the next). */
export function nearHourEnd(localUs: number): boolean {
  return localUs >= hourStartUs(localUs) + HOUR_US - CARRY_US;
}

/** Keys of the rows written in the last {@link CARRY_US} of the previous hour. */
class WindowMemory implements Memory {
  #carry = new Map<string, Set<Key>>();
  #late = new Map<string, Set<Key>>();
  constructor(readonly key: (row: AnyRow) => Key) {}
  seen(symbol: string, row: AnyRow): boolean {
    return this.#carry.get(symbol)?.has(this.key(row)) ?? false;
  }
  emit(symbol: string, row: AnyRow): void {
    if (!nearHourEnd(row.local_time)) return;
    let keys = this.#late.get(symbol);
    if (keys === undefined) this.#late.set(symbol, keys = new Set());
    keys.add(this.key(row));
  }
  endHour(): void {
    this.#carry = this.#late;
    this.#late = new Map();
  }
}

/** Every key written, as ranges of consecutive values per symbol and `group` (the kline interval). */
class RangeMemory implements Memory {
  readonly sets = new Map<string, RangeSet>();
  constructor(
    readonly value: (row: AnyRow) => number,
    readonly group: (row: AnyRow) => { name: string; step: number },
  ) {}
  #set(symbol: string, row: AnyRow): RangeSet {
    const { name, step } = this.group(row);
    const id = `${symbol}\u0000${name}`;
    let set = this.sets.get(id);
    if (set === undefined) this.sets.set(id, set = new RangeSet(step));
    return set;
  }
  seen(symbol: string, row: AnyRow): boolean {
    return this.#set(symbol, row).has(this.value(row));
  }
  emit(symbol: string, row: AnyRow): void {
    this.#set(symbol, row).add(this.value(row), row.local_time);
  }
  endHour(): void {}
}

/** Every key written, per symbol (tables with a few rows a day). */
class ForeverMemory implements Memory {
  readonly #keys = new Map<string, Set<Key>>();
  constructor(readonly key: (row: AnyRow) => Key) {}
  seen(symbol: string, row: AnyRow): boolean {
    return this.#keys.get(symbol)?.has(this.key(row)) ?? false;
  }
  emit(symbol: string, row: AnyRow): void {
    let set = this.#keys.get(symbol);
    if (set === undefined) this.#keys.set(symbol, set = new Set());
    set.add(this.key(row));
  }
  endHour(): void {}
}

/** A keyed table: the earliest copy of each key not written in an earlier hour, in output order. */
class KeyedMerger implements SymbolMerger {
  readonly counts = newCounts();
  constructor(
    readonly key: (row: AnyRow) => Key,
    readonly order: (a: AnyRow, b: AnyRow) => number,
    readonly memory: Memory,
  ) {}
  merge(symbol: string, rows: readonly Tagged[]): AnyRow[] {
    const out = earliestByKey(rows, this.key).map((t) => t.row)
      .filter((row) => !this.memory.seen(symbol, row))
      .sort(this.order);
    for (const row of out) this.memory.emit(symbol, row);
    this.#count(rows.length, out.length);
    return out;
  }
  endHour(): void {
    this.memory.endHour();
  }
  #count(read: number, kept: number): void {
    this.counts.read += read;
    this.counts.kept += kept;
    this.counts.duplicates += read - kept;
  }
}

/** Instruments: a row is kept unless it repeats the symbol's state before it (over every recording). */
class InstrumentMerger implements SymbolMerger {
  readonly counts = newCounts();
  readonly #last = new Map<string, string>();
  merge(symbol: string, rows: readonly Tagged[]): AnyRow[] {
    const sorted = [...rows].sort((a, b) => a.row.local_time - b.row.local_time || a.rec - b.rec);
    const out: AnyRow[] = [];
    for (const { row } of sorted) {
      const state = instrumentState(row);
      if (this.#last.get(symbol) === state) continue;
      this.#last.set(symbol, state);
      out.push(row);
    }
    this.counts.read += rows.length;
    this.counts.kept += out.length;
    this.counts.duplicates += rows.length - out.length;
    return out;
  }
  endHour(): void {}
}

/** An instrument row's content without its arrival time. */
function instrumentState(row: AnyRow): string {
  const { local_time: _t, ...rest } = row;
  return JSON.stringify(rest);
}

function klineGroup(row: AnyRow): { name: string; step: number } {
  const interval = String(row.interval);
  const ms = klineIntervalMs(interval);
  // A monthly candle has no fixed length: its open times are kept one range each, which still de-duplicates.
  return { name: interval, step: ms === null ? Number.MAX_SAFE_INTEGER : ms * 1000 };
}

const by = (...cols: string[]) => (a: AnyRow, b: AnyRow): number => {
  for (const c of cols) {
    const [x, y] = [a[c] as number | string, b[c] as number | string];
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
};

const liquidationKey = (r: AnyRow): string =>
  `${r.trade_time}|${r.side}|${r.price}|${r.original_quantity}|${r.filled_quantity}|${r.status}`;

/**
 * A fresh merger for `table` (not `depth_updates` or `gaps`, which have their own).
 *
 * @example
 * ```ts
 * const merger = mergerFor("trades");
 * const trade = (id: number, localUs: number) => ({ symbol: "BTCUSDT", agg_trade_id: id, local_time: localUs });
 * const rows = [
 *   { rec: 0, row: trade(1, 10) }, { rec: 0, row: trade(2, 20) },
 *   { rec: 1, row: trade(2, 15) }, { rec: 1, row: trade(3, 25) },
 * ];
 * merger.merge("BTCUSDT", rows).map((r) => [r.agg_trade_id, r.local_time]); // [[1, 10], [2, 15], [3, 25]]
 * ```
 */
export function mergerFor(table: Exclude<TableName, "depth_updates" | "gaps">): SymbolMerger {
  switch (table) {
    case "trades":
      return new TradesMerger();
    case "klines":
      return new KeyedMerger(
        (r) => `${r.interval}|${r.open_time}`,
        by("close_time", "interval"),
        new RangeMemory((r) => r.open_time as number, klineGroup),
      );
    case "book_snapshots":
      return windowed("last_update_id");
    case "book_tickers":
      return windowed("update_id");
    case "mark_prices":
      return windowed("exchange_time");
    case "liquidations":
      return new KeyedMerger(
        liquidationKey,
        by("trade_time", "local_time"),
        new WindowMemory(liquidationKey),
      );
    case "funding_rates":
      return new KeyedMerger(
        (r) => r.funding_time as number,
        by("funding_time"),
        new ForeverMemory((r) => r.funding_time as number),
      );
    case "instruments":
      return new InstrumentMerger();
  }
}

function windowed(column: string): SymbolMerger {
  const key = (r: AnyRow) => r[column] as number;
  return new KeyedMerger(key, by(column), new WindowMemory(key));
}

/** Trades: agg trade ids are consecutive, so the holes between the ranges written are trades nobody has. */
class TradesMerger extends KeyedMerger {
  constructor() {
    const ids = new RangeMemory((r) => r.agg_trade_id as number, () => ({ name: "", step: 1 }));
    super((r) => r.agg_trade_id as number, by("agg_trade_id"), ids);
  }
  idHoles(): Map<string, KeyHole[]> {
    const out = new Map<string, KeyHole[]>();
    for (const [id, set] of (this.memory as RangeMemory).sets) {
      const holes = set.holes();
      if (holes.length > 0) out.set(id.slice(0, id.indexOf("\u0000")), holes);
    }
    return out;
  }
}

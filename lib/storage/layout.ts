/**
 * Where things live under `data_dir` (binding: /work/shared/docs/output-contract.md):
 * `{market}/{table}/date=YYYY-MM-DD/symbol=SYMBOL/part-HH-<firstLocalUs>-<seq>.parquet`, `_journal/` and
 * `_manifest/checksums.json`. Pure string logic; no file system access.
 * @module
 */

import { join } from "node:path";
import { type Market, MARKETS } from "../binance/types.ts";
import { isTableName, type TableName } from "./tables.ts";

/** The partition a Parquet file belongs to. */
export interface PartitionKey {
  market: Market;
  table: TableName;
  /** Upper-case symbol as Binance spells it (may be non-ASCII). */
  symbol: string;
}

/** A Parquet file's place: its partition plus what makes its name unique and time-sorted. */
export interface ParquetFileKey extends PartitionKey {
  /** Time (µs) of the file's first row (`local_time`; see `TableSpec.timeColumn`): date, hour and sort order. */
  firstLocalUs: number;
  /** Disambiguates files that start at the same microsecond (e.g. a per-process counter). */
  seq: number;
}

/** A Parquet path parsed back into its parts by {@linkcode parseParquetPath}. */
export interface ParsedParquetPath extends PartitionKey {
  /** `YYYY-MM-DD` from the `date=` segment. */
  date: string;
  /** The file name. */
  file: string;
}

/** Journal directory under `dataDir`. */
export function journalDir(dataDir: string): string {
  return join(dataDir, "_journal");
}

/** Manifest file under `dataDir`. */
export function manifestPath(dataDir: string): string {
  return join(dataDir, "_manifest", "checksums.json");
}

/** UTC date `YYYY-MM-DD` of a µs timestamp. */
export function utcDate(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString().slice(0, 10);
}

/** UTC hour (0–23) of a µs timestamp. */
export function utcHour(us: number): number {
  return new Date(Math.floor(us / 1000)).getUTCHours();
}

/** Start (µs) of the UTC hour containing `us`: the key of the hourly buffers. */
export function hourStartUs(us: number): number {
  return Math.floor(us / 3_600_000_000) * 3_600_000_000;
}

/** Throws `RangeError` unless `symbol` is upper case and safe as one path segment. */
export function checkSymbol(symbol: string): void {
  if (
    symbol === "" || symbol === "." || symbol === ".." || /[/\\\0]/.test(symbol) ||
    symbol !== symbol.toUpperCase()
  ) {
    throw new RangeError(`Cannot use symbol '${symbol}' in a path: it must be upper case with no separators`);
  }
}

/**
 * File name `part-HH-<firstLocalUs>-<seq>.parquet`; zero-padded so names sort by time within a partition.
 *
 * @example
 * ```ts
 * parquetFileName(1_700_000_000_000_000, 3); // "part-22-1700000000000000-000003.parquet"
 * ```
 */
export function parquetFileName(firstLocalUs: number, seq: number): string {
  if (!Number.isSafeInteger(firstLocalUs) || firstLocalUs < 0 || !Number.isSafeInteger(seq) || seq < 0) {
    throw new RangeError(`Cannot name a Parquet file for time ${firstLocalUs}, seq ${seq}`);
  }
  const hh = String(utcHour(firstLocalUs)).padStart(2, "0");
  return `part-${hh}-${String(firstLocalUs).padStart(16, "0")}-${String(seq).padStart(6, "0")}.parquet`;
}

/**
 * Path of a Parquet file relative to `data_dir`, with `/` separators (as stored in the manifest).
 *
 * @example
 * ```ts
 * relativeParquetPath({ market: "spot", table: "trades", symbol: "BTCUSDT", firstLocalUs: 1_700_000_000_000_000,
 *   seq: 0 }); // "spot/trades/date=2023-11-14/symbol=BTCUSDT/part-22-1700000000000000-000000.parquet"
 * ```
 */
export function relativeParquetPath(key: ParquetFileKey): string {
  checkSymbol(key.symbol);
  const date = utcDate(key.firstLocalUs);
  return `${key.market}/${key.table}/date=${date}/symbol=${key.symbol}/${
    parquetFileName(key.firstLocalUs, key.seq)
  }`;
}

/** Absolute (or `dataDir`-based) path of a Parquet file. */
export function parquetPath(dataDir: string, key: ParquetFileKey): string {
  return join(dataDir, relativeParquetPath(key));
}

/** Parses a path relative to `data_dir`; null if it is not a Parquet file of the layout. */
export function parseParquetPath(relPath: string): ParsedParquetPath | null {
  const parts = relPath.split("/");
  if (parts.length !== 5) return null;
  const [market, table, dateSeg, symbolSeg, file] = parts as [string, string, string, string, string];
  const date = /^date=(\d{4}-\d{2}-\d{2})$/.exec(dateSeg)?.[1];
  const symbol = symbolSeg.startsWith("symbol=") ? symbolSeg.slice("symbol=".length) : "";
  if (
    !(MARKETS as readonly string[]).includes(market) || !isTableName(table) || date === undefined ||
    symbol === "" || !file.endsWith(".parquet")
  ) {
    return null;
  }
  return { market: market as Market, table, symbol, date, file };
}

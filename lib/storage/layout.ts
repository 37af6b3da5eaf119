/**
 * Where things live under `data_dir` (output contract 0.4, README "Layout"):
 * `{market}/{table}/date=YYYY-MM-DD/part-HH-<firstLocalUs>-<seq>.parquet` (one file per market, table and flush,
 * every symbol in it, sorted by symbol), `_journal/`, `_manifest/checksums.json` and `_spill/`. The 0.3 layout
 * had a `symbol=SYMBOL/` level below `date=`; {@linkcode parseLegacyParquetPath} recognises it for the
 * migration.
 * Pure string logic; no file system access.
 * @module
 */

import { join } from "node:path";
import { type Market, MARKETS } from "../binance/types.ts";
import { isTableName, type TableName } from "./tables.ts";

/** The partition a Parquet file belongs to. */
export interface PartitionKey {
  market: Market;
  table: TableName;
}

/** A Parquet file's place: its partition plus what makes its name unique and time-sorted. */
export interface ParquetFileKey extends PartitionKey {
  /** Time (µs) of the file's first row (`local_time`; see `TableSpec.timeColumn`): date, hour and sort order. */
  firstLocalUs: number;
  /** Disambiguates files that start at the same microsecond (e.g. a per-process counter). */
  seq: number;
  /** The shard that wrote the file (several shards sync into one remote); absent without shards. */
  shard?: string | null;
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

/** Spill files (spill.ts) under `dataDir`: encoded chunks waiting for their flush. */
export function spillDir(dataDir: string): string {
  return join(dataDir, "_spill");
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

const SHARD_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** `.<shard>` before `.parquet`, or nothing without a shard. */
function shardSuffix(shard: string | null | undefined): string {
  if (shard == null) return "";
  if (!SHARD_NAME.test(shard)) throw new RangeError(`Cannot name a Parquet file for shard '${shard}'`);
  return `.${shard}`;
}

/**
 * File name `part-HH-<firstLocalUs>-<seq>[.<shard>].parquet`; zero-padded so names sort by time within a
 * partition. The shard keeps the names of several collectors apart in one remote.
 *
 * @example
 * ```ts
 * parquetFileName(1_700_000_000_000_000, 3); // "part-22-1700000000000000-000003.parquet"
 * parquetFileName(1_700_000_000_000_000, 3, "s1"); // "part-22-1700000000000000-000003.s1.parquet"
 * ```
 */
export function parquetFileName(firstLocalUs: number, seq: number, shard?: string | null): string {
  if (!Number.isSafeInteger(firstLocalUs) || firstLocalUs < 0 || !Number.isSafeInteger(seq) || seq < 0) {
    throw new RangeError(`Cannot name a Parquet file for time ${firstLocalUs}, seq ${seq}`);
  }
  const hh = String(utcHour(firstLocalUs)).padStart(2, "0");
  const seqText = String(seq).padStart(6, "0");
  return `part-${hh}-${String(firstLocalUs).padStart(16, "0")}-${seqText}${shardSuffix(shard)}.parquet`;
}

const PART_OR_HOUR =
  /^(?:part-\d{2}-(\d{16})-\d{6}|hour-\d{2}-(\d{16})-[0-9a-f]{8})(?:\.([a-z0-9][a-z0-9-]{0,31}))?\.parquet$/;

/**
 * Start time (µs) in a part name (`part-HH-<us>-<seq>[.<shard>].parquet`) or a compacted name
 * (`hour-HH-<us>-<tag>[.<shard>].parquet`); null for any other name.
 */
export function fileStartUs(name: string): number | null {
  const m = PART_OR_HOUR.exec(name);
  return m ? Number(m[1] ?? m[2]) : null;
}

/**
 * The shard in a layout file name; null for a file written without shards (or a name outside the layout).
 *
 * @example
 * ```ts
 * fileShard("part-22-1700000000000000-000003.s1.parquet"); // "s1"
 * fileShard("hour-22-1700000000000000-0a1b2c3d.parquet"); // null
 * ```
 */
export function fileShard(name: string): string | null {
  return PART_OR_HOUR.exec(name)?.[3] ?? null;
}

/**
 * Name of a compacted file: `hour-HH-<firstLocalUs>-<tag>[.<shard>].parquet`, `tag` being 8 hex digits that
 * tell merges of different source sets apart (a later merge of a compacted file with a late part gets a new
 * name).
 *
 * @example
 * ```ts
 * compactedFileName(1_700_000_000_000_000, "0a1b2c3d"); // "hour-22-1700000000000000-0a1b2c3d.parquet"
 * ```
 */
export function compactedFileName(firstLocalUs: number, tag: string, shard?: string | null): string {
  if (!Number.isSafeInteger(firstLocalUs) || firstLocalUs < 0 || !/^[0-9a-f]{8}$/.test(tag)) {
    throw new RangeError(`Cannot name a compacted file for time ${firstLocalUs}, tag '${tag}'`);
  }
  const hh = String(utcHour(firstLocalUs)).padStart(2, "0");
  return `hour-${hh}-${String(firstLocalUs).padStart(16, "0")}-${tag}${shardSuffix(shard)}.parquet`;
}

/** Directory (relative to `data_dir`) of the files of (market, table) whose rows fall on a UTC date. */
export function partitionDir(market: Market, table: TableName, date: string): string {
  return `${market}/${table}/date=${date}`;
}

/**
 * Path of a Parquet file relative to `data_dir`, with `/` separators (as stored in the manifest).
 *
 * @example
 * ```ts
 * relativeParquetPath({ market: "spot", table: "trades", firstLocalUs: 1_700_000_000_000_000, seq: 0 });
 * // "spot/trades/date=2023-11-14/part-22-1700000000000000-000000.parquet"
 * ```
 */
export function relativeParquetPath(key: ParquetFileKey): string {
  const dir = partitionDir(key.market, key.table, utcDate(key.firstLocalUs));
  return `${dir}/${parquetFileName(key.firstLocalUs, key.seq, key.shard)}`;
}

/** Absolute (or `dataDir`-based) path of a Parquet file. */
export function parquetPath(dataDir: string, key: ParquetFileKey): string {
  return join(dataDir, relativeParquetPath(key));
}

function parseParts(market: string, table: string, dateSeg: string, file: string): ParsedParquetPath | null {
  const date = /^date=(\d{4}-\d{2}-\d{2})$/.exec(dateSeg)?.[1];
  if (
    !(MARKETS as readonly string[]).includes(market) || !isTableName(table) || date === undefined ||
    !file.endsWith(".parquet")
  ) {
    return null;
  }
  return { market: market as Market, table, date, file };
}

/** Parses a path relative to `data_dir`; null if it is not a Parquet file of the layout. */
export function parseParquetPath(relPath: string): ParsedParquetPath | null {
  const parts = relPath.split("/");
  if (parts.length !== 4) return null;
  const [market, table, dateSeg, file] = parts as [string, string, string, string];
  return parseParts(market, table, dateSeg, file);
}

/**
 * Parses a path of the 0.3 layout, `{market}/{table}/date=…/symbol=SYMBOL/{file}.parquet` (one symbol per file),
 * which `deno task migrate` rewrites; null for anything else.
 */
export function parseLegacyParquetPath(relPath: string): (ParsedParquetPath & { symbol: string }) | null {
  const parts = relPath.split("/");
  if (parts.length !== 5) return null;
  const [market, table, dateSeg, symbolSeg, file] = parts as [string, string, string, string, string];
  const symbol = symbolSeg.startsWith("symbol=") ? symbolSeg.slice("symbol=".length) : "";
  const parsed = parseParts(market, table, dateSeg, file);
  return parsed === null || symbol === "" ? null : { ...parsed, symbol };
}

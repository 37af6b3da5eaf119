/**
 * Every Deno KV key of the ledger is built here, so the layout is documented and changed in one place.
 *
 * Times and ids are numbers (µs since the epoch) inside keys, so KV's ordering sorts them numerically and a
 * time range is one `list({ start, end })`.
 *
 * | key | value | size |
 * |---|---|---|
 * | `["gap", market, symbol, stream, startUs, kind]` | `GapRecord` (authoritative) | ≤ 3 KiB |
 * | `["gap_day", dayUs, market, symbol, stream, startUs, kind]` | the same `GapRecord`, one copy per UTC day it touches | ≤ 3 KiB |
 * | `["cov", hourUs, market, symbol, stream]` | `{ messages, spans }` of one stream-hour | ≤ 10 KiB |
 * | `["file", relPath]` | `ManifestEntry` | < 1 KiB |
 * | `["flush", atUs]` | `FlushStat` | < 1 KiB |
 * | `["ckpt", "journal"]` | `{ segment, offset, files }` | < 100 B |
 * | `["clock", atUs, source]` | `ClockSample` | < 200 B |
 * | `["meta", name]` | ledger metadata (`layout` version) | < 100 B |
 * | `["meta", "daily_report", date]` | the day's report was delivered (`daily_report` cron job) | < 100 B |
 *
 * Cloud-sync markers live under `["cloud", …]`, built in lib/cloud/keys.ts.
 *
 * Keys stay far below KV's 2 KiB key limit (a relative path is ~100 bytes); the value sizes above are bounded by
 * the caps in records.ts and stay under KV's 64 KiB value limit. Coverage keys start with the hour (not the
 * stream) because they are read by day for reports; gaps are read by day through the `gap_day` copies.
 * @module
 */

import type { Market } from "../binance/types.ts";
import type { TableName } from "../storage/tables.ts";

/** The identity of one gap interval: re-adding the same key is a no-op. */
export interface GapKey {
  market: Market;
  symbol: string;
  stream: string;
  startUs: number;
  kind: string;
}

/** Primary key of a gap. */
export function gapKey(k: GapKey): Deno.KvKey {
  return ["gap", k.market, k.symbol, k.stream, k.startUs, k.kind];
}

/** Prefix of the gap records of a market, symbol and stream (each only if the ones before it are given). */
export function gapPrefix(market?: Market, symbol?: string, stream?: string): Deno.KvKey {
  return narrowed(["gap"], market, symbol, stream);
}

/** Key of a gap's copy under the UTC day starting at `dayUs`. */
export function gapDayKey(dayUs: number, k: GapKey): Deno.KvKey {
  return ["gap_day", dayUs, k.market, k.symbol, k.stream, k.startUs, k.kind];
}

/** Prefix of the gap copies of one day, narrowed like {@linkcode gapPrefix}. */
export function gapDayPrefix(dayUs: number, market?: Market, symbol?: string, stream?: string): Deno.KvKey {
  return narrowed(["gap_day", dayUs], market, symbol, stream);
}

/** `base` extended by the leading defined parts: key parts narrow left to right, so a gap stops the narrowing. */
function narrowed(base: Deno.KvKeyPart[], ...parts: (string | undefined)[]): Deno.KvKey {
  const out = [...base];
  for (const part of parts) {
    if (part === undefined) break;
    out.push(part);
  }
  return out;
}

/** Key of one stream-hour's coverage. */
export function coverageKey(hourUs: number, market: Market, symbol: string, stream: string): Deno.KvKey {
  return ["cov", hourUs, market, symbol, stream];
}

/** The parts of a key made by {@linkcode coverageKey}. */
export function parseCoverageKey(
  key: Deno.KvKey,
): { hourUs: number; market: Market; symbol: string; stream: string } {
  const [, hourUs, market, symbol, stream] = key as [string, number, Market, string, string];
  return { hourUs, market, symbol, stream };
}

/** Selector of the coverage of the hours in `[fromUs, toUs)`. */
export function coverageRange(fromUs: number, toUs: number): Deno.KvListSelector {
  return { start: ["cov", fromUs], end: ["cov", toUs] };
}

/** Key of a Parquet file's manifest entry (`relPath` relative to `data_dir`, `/`-separated). */
export function fileKey(relPath: string): Deno.KvKey {
  return ["file", relPath];
}

/** Selector of every file entry. */
export const FILES: Deno.KvListSelector = { prefix: ["file"] };

/**
 * Selector of the file entries of one `date=` partition of a (market, table): paths start with
 * `{market}/{table}/date=YYYY-MM-DD/`, and `0` is the character after `/`, so the range ends right after them.
 */
export function fileDateRange(market: Market, table: TableName, date: string): Deno.KvListSelector {
  return fileDirRange(`${market}/${table}/date=${date}`);
}

/** Selector of the file entries whose paths start with `{dir}/` (`0` is the character after `/`). */
export function fileDirRange(dir: string): Deno.KvListSelector {
  return { start: ["file", `${dir}/`], end: ["file", `${dir}0`] };
}

/** Key of one flush's statistics. */
export function flushKey(atUs: number): Deno.KvKey {
  return ["flush", atUs];
}

/** Selector of the flushes in `[fromUs, toUs)`. */
export function flushRange(fromUs: number, toUs: number): Deno.KvListSelector {
  return { start: ["flush", fromUs], end: ["flush", toUs] };
}

/** Key of the journal checkpoint (the journal position committed to Parquet). */
export const CHECKPOINT_KEY: Deno.KvKey = ["ckpt", "journal"];

/** Key of one clock-offset sample. */
export function clockKey(atUs: number, source: string): Deno.KvKey {
  return ["clock", atUs, source];
}

/** Selector of the clock samples taken in `[fromUs, toUs)`. */
export function clockRange(fromUs: number, toUs: number): Deno.KvListSelector {
  return { start: ["clock", fromUs], end: ["clock", toUs] };
}

/** Key of a piece of ledger metadata. */
export function metaKey(name: "layout"): Deno.KvKey {
  return ["meta", name];
}

/** Key marking that the daily report of `date` (`YYYY-MM-DD`) was delivered. */
export function dailyReportKey(date: string): Deno.KvKey {
  return ["meta", "daily_report", date];
}

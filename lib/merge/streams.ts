/**
 * Which stream a row or a gap row belongs to, as the merge compares coverage per stream. Gap rows name their
 * stream (`depth@100ms`, `aggTrade`, `kline_1m`, `bookTicker`, `markPrice@1s`, `forceOrder`); data rows only
 * have their table, so streams are compared by a key that both map to: the depth speeds and the mark price
 * speeds are one key each. Pure.
 * @module
 */

import type { TableName } from "../storage/tables.ts";

/** The key of a stream name: `depth` for every depth speed, `markPrice` for both speeds, else the name. */
export function streamKey(name: string): string {
  if (name.startsWith("depth")) return "depth";
  if (name.startsWith("markPrice")) return "markPrice";
  return name;
}

/**
 * The stream key of a data row of `table`; null for tables filled from REST alone (`funding_rates`,
 * `instruments`), which no stream covers.
 *
 * @example
 * ```ts
 * rowStreamKey("klines", { interval: "1m" }); // "kline_1m"
 * rowStreamKey("book_snapshots", {}); // "depth"
 * ```
 */
export function rowStreamKey(table: TableName, row: Readonly<Record<string, unknown>>): string | null {
  switch (table) {
    case "depth_updates":
    case "book_snapshots":
      return "depth";
    case "trades":
      return "aggTrade";
    case "klines":
      return `kline_${row.interval}`;
    case "book_tickers":
      return "bookTicker";
    case "mark_prices":
      return "markPrice";
    case "liquidations":
      return "forceOrder";
    default:
      return null;
  }
}

/** The stream name a merged gap row gets when no recording's gap row named the stream (the default speeds). */
export function defaultStreamName(key: string): string {
  if (key === "depth") return "depth@100ms";
  if (key === "markPrice") return "markPrice@1s";
  return key;
}

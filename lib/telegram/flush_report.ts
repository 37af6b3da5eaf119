/**
 * The short table sent after each flush when `telegram.flush_report` is on (pure): rows per table and market.
 * @module
 */

import type { FlushResult } from "../pipeline/table_store.ts";
import { fmtBytes, fmtCount, fmtTime } from "../report/text.ts";
import { preBlock } from "./html.ts";

/**
 * One flush as Telegram HTML: a headline (rows, files, bytes, time taken) and rows per table, one column per
 * market that wrote files.
 *
 * @example
 * ```ts
 * import type { FlushResult } from "../pipeline/table_store.ts";
 *
 * const flush: FlushResult = { // collector.flushes.at(-1)
 *   files: [{
 *     path: "spot/trades/date=2026-11-24/part-14-1795528992000000-000001.parquet", sha256: "0".repeat(64),
 *     rows: 45_600, bytes: 1_258_291, market: "spot", table: "trades",
 *     first_local_time: "2026-11-24T14:02:12.000000Z", last_local_time: "2026-11-24T14:03:11.000000Z",
 *   }],
 *   rows: 45_600,
 *   bytes: 1_258_291,
 *   ms: 85,
 *   symbolRows: [],
 * };
 * formatFlushReport(flush, Date.UTC(2026, 10, 24, 14, 3, 12));
 * // "💾 <b>Flush</b> 14:03:12 UTC: 45.6k rows, 1 files, 1.20 MiB in 85 ms\n<pre>table    spot\ntrades  45.6k</pre>"
 * ```
 */
export function formatFlushReport(flush: FlushResult, atMs: number): string {
  const head = `💾 <b>Flush</b> ${fmtTime(atMs * 1000)} UTC: ${
    fmtCount(flush.rows)
  } rows, ${flush.files.length} files, ${fmtBytes(flush.bytes)} in ${Math.round(flush.ms)} ms`;
  if (flush.files.length === 0) return head;
  const markets = [...new Set(flush.files.map((f) => f.market))].sort();
  const rows = new Map<string, Map<string, number>>();
  for (const f of flush.files) {
    let byMarket = rows.get(f.table);
    if (byMarket === undefined) rows.set(f.table, byMarket = new Map());
    byMarket.set(f.market, (byMarket.get(f.market) ?? 0) + f.rows);
  }
  const tables = [...rows.keys()].sort();
  const width = Math.max(5, ...tables.map((t) => t.length));
  const lines = [`${"table".padEnd(width)}${markets.map((m) => m.padStart(7)).join("")}`];
  for (const table of tables) {
    const byMarket = rows.get(table)!;
    lines.push(
      `${table.padEnd(width)}${
        markets.map((m) => (byMarket.has(m) ? fmtCount(byMarket.get(m)!) : "-").padStart(7)).join("")
      }`,
    );
  }
  return `${head}\n${preBlock(lines)}`;
}

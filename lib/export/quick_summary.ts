/**
 * The quick test's summary: per market, table and symbol the rows recorded, the first and last time and the
 * longest pause between two rows; the rows of the gaps tables; the CSV files written. Fed batch by batch while
 * the tables are streamed, so it holds counters, never rows (gap rows aside).
 * @module
 */

import type { Market } from "../binance/types.ts";
import type { PlainRow } from "../storage/read_rows.ts";
import { type Row, type TableName, TABLES } from "../storage/tables.ts";
import type { CsvFile } from "./csv_files.ts";

/** The tables a market's stream kinds fill (the `trade` stream is kept in the journal only). */
export function tablesOfStreams(streams: readonly string[]): TableName[] {
  const tables = new Set<TableName>();
  for (const s of streams) {
    if (s.startsWith("depth")) tables.add("depth_updates").add("book_snapshots");
    else if (s === "aggTrade") tables.add("trades");
    else if (s.startsWith("kline_")) tables.add("klines");
    else if (s === "bookTicker") tables.add("book_tickers");
    else if (s === "forceOrder") tables.add("liquidations");
    else if (s.startsWith("markPrice")) tables.add("mark_prices");
  }
  return [...tables];
}

interface SymbolStats {
  rows: number;
  firstUs: number;
  lastUs: number;
  longestPauseUs: number;
}

/** What was recorded on one market: its symbols and the tables its streams fill. */
export interface RecordedMarket {
  market: Market;
  symbols: readonly string[];
  tables: readonly TableName[];
}

/** Gap rows listed one by one; beyond this, counted. */
const MAX_LISTED_GAPS = 20;

/** Collects the summary while tables are streamed; {@linkcode format} prints it. */
export class QuickSummary {
  readonly #stats = new Map<string, Map<string, SymbolStats>>();
  readonly #gaps: { market: Market; row: Row<"gaps"> }[] = [];

  /** Counts a batch of rows of (market, table). */
  add<N extends TableName>(market: Market, table: N, rows: readonly PlainRow<N>[]): void {
    const key = `${market}/${table}`;
    let bySymbol = this.#stats.get(key);
    if (bySymbol === undefined) this.#stats.set(key, bySymbol = new Map());
    const timeColumn = TABLES[table].timeColumn;
    for (const row of rows) {
      const t = (row as Record<string, unknown>)[timeColumn] as number;
      const symbol = row.symbol as string;
      const s = bySymbol.get(symbol);
      if (s === undefined) {
        bySymbol.set(symbol, { rows: 1, firstUs: t, lastUs: t, longestPauseUs: 0 });
        continue;
      }
      s.rows++;
      if (t - s.lastUs > s.longestPauseUs) s.longestPauseUs = t - s.lastUs;
      if (t < s.firstUs) s.firstUs = t;
      if (t > s.lastUs) s.lastUs = t;
    }
    if (table === "gaps") { for (const row of rows) this.#gaps.push({ market, row: row as Row<"gaps"> }); }
  }

  /** Rows counted for (market, table, symbol). */
  rows(market: Market, table: TableName, symbol: string): number {
    return this.#stats.get(`${market}/${table}`)?.get(symbol)?.rows ?? 0;
  }

  /** The summary as text: one block per market, then the gaps and the CSV files. */
  format(markets: readonly RecordedMarket[], csvFiles: readonly CsvFile[]): string {
    const lines: string[] = [];
    let total = 0;
    for (const m of markets) {
      lines.push(`${m.market}:`);
      const header = ["table", "symbol", "rows", "first (UTC)", "last (UTC)", "longest pause"];
      const table: string[][] = [];
      const tables = new Set([...m.tables, ...this.#recordedTables(m.market)]);
      for (const name of tables) {
        const bySymbol = this.#stats.get(`${m.market}/${name}`) ?? new Map<string, SymbolStats>();
        for (const symbol of new Set([...m.symbols, ...[...bySymbol.keys()].sort()])) {
          const s = bySymbol.get(symbol);
          total += s?.rows ?? 0;
          table.push(
            s === undefined ? [name, symbol, "0", "-", "-", "-"] : [
              name,
              symbol,
              String(s.rows),
              isoMillis(s.firstUs),
              isoMillis(s.lastUs),
              seconds(s.longestPauseUs),
            ],
          );
        }
      }
      lines.push(
        ...columns([header, ...table], [false, false, true, false, false, true]).map((l) => `  ${l}`),
      );
      const silent = m.symbols.filter((sym) => [...tables].every((t) => this.rows(m.market, t, sym) === 0));
      if (silent.length > 0) lines.push(`  WARNING: nothing recorded for ${silent.join(", ")}`);
      lines.push("");
    }
    if (total === 0) {
      lines.push("Nothing was recorded: is the exchange reachable from here? The log says why.", "");
    }
    lines.push(...this.#formatGaps(), "");
    lines.push(`CSV files (${csvFiles.length}):`);
    lines.push(
      ...columns(csvFiles.map((f) => [f.path, `${f.rows} rows`]), [false, true]).map((l) => `  ${l}`),
    );
    return lines.join("\n");
  }

  #recordedTables(market: Market): TableName[] {
    return [...this.#stats.keys()].filter((k) => k.startsWith(`${market}/`) && !k.endsWith("/gaps"))
      .map((k) => k.slice(market.length + 1) as TableName);
  }

  #formatGaps(): string[] {
    if (this.#gaps.length === 0) return ["Gaps: none (no interval in which data may be missing)"];
    const out = [`Gaps: ${this.#gaps.length} (intervals in which data may be missing; gaps tables)`];
    const rows = this.#gaps.slice(0, MAX_LISTED_GAPS).map(({ market, row }) => [
      market,
      row.symbol,
      row.stream,
      row.kind,
      `${isoMillis(row.start_time)} → ${isoMillis(row.end_time)}`,
      seconds(row.end_time - row.start_time),
      row.reason,
    ]);
    out.push(...columns(rows, [false, false, false, false, false, true, false]).map((l) => `  ${l}`));
    if (this.#gaps.length > MAX_LISTED_GAPS) out.push(`  … and ${this.#gaps.length - MAX_LISTED_GAPS} more`);
    return out;
  }
}

/** µs → `YYYY-MM-DDTHH:MM:SS.mmmZ`. */
function isoMillis(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString();
}

/** µs → seconds with one decimal, e.g. `0.2 s`. */
function seconds(us: number): string {
  return `${(us / 1e6).toFixed(1)} s`;
}

/** Aligns cells into columns separated by two spaces; `right[i]` right-aligns column i. */
function columns(rows: readonly string[][], right: readonly boolean[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, cell.length));
  return rows.map((row) =>
    row.map((cell, i) => right[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)).join("  ").trimEnd()
  );
}

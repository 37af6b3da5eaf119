/**
 * The merge's decode path run once when the collector's Parquet worker starts, on generated rows of every table.
 * A worker's first merge compiles that path (parquet-wasm's reader and Arrow's IPC reader, tiered up to optimized
 * code). In a scratch probe, the first merge of 7,185 rows in a fresh worker took the process's RSS up 59 MiB,
 * 41 of it in malloc's heap (11 with V8's `--liftoff-only`: most of it is what the optimizing compiler
 * allocated and freed, which malloc keeps); the same merge again added 7 MiB. Run at start, that growth
 * happens during start-up, and the hourly compaction no longer adds it to the RSS.
 * @module
 */

import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm";
import { encodeChunk, HOUR_ROW_GROUPS } from "./chunk_encoder.ts";
import { ColumnBuffer } from "./column_buffer.ts";
import { freeBytes, freeTable } from "./free_buffers.ts";
import { RawAppender } from "./raw_appender.ts";
import { type ColumnSpec, type Row, type TableName, TABLES } from "./tables.ts";

/** Options of {@link warmMergePath}. */
export interface WarmupOptions {
  /**
   * Rows generated per table and round. In the probe, with 1,000 the first merge grew malloc's heap 4 MiB
   * instead of 41, as with 5,000 in 3 rounds, for 0.26 s of the worker's CPU instead of 0.9. @default 1000
   */
  rows?: number;
  /** Times every table is encoded and decoded. @default 1 */
  rounds?: number;
  /** Awaited before each table: the worker lets the flush's jobs go first (flush_first.ts). */
  turn?: () => Promise<void>;
}

/** A valid value of column `c` for generated row `i`. */
function cell(c: ColumnSpec, i: number): unknown {
  if (c.nullable && i % 5 === 4) return null;
  switch (c.type) {
    case "symbol":
      return `W${i % 40}USDT`;
    case "string":
      return i % 2 === 0 ? "bid" : "ask";
    case "timestamp":
      return 1_700_000_000_000_000 + i * 1_000;
    case "int64":
      return i;
    case "float64":
      return 100 + i * 0.01;
    case "bool":
      return i % 2 === 0;
    case "list_float64":
      return Array.from({ length: i % 8 }, (_, k) => 100 + k * 0.01);
  }
}

/**
 * Encodes generated rows of every table as an hour file's row groups, decodes them as a merge does and appends
 * them to a {@link RawAppender}; returns the rows decoded (every round's rows of every table).
 */
export async function warmMergePath(options: WarmupOptions = {}): Promise<number> {
  const { rows = 1000, rounds = 1, turn } = options;
  let decoded = 0;
  for (let round = 0; round < rounds; round++) {
    for (const table of Object.keys(TABLES) as TableName[]) {
      await turn?.();
      const columns = TABLES[table].columns as readonly ColumnSpec[];
      const buffer = new ColumnBuffer(table, { initialCapacity: rows });
      for (let i = 0; i < rows; i++) {
        buffer.append(Object.fromEntries(columns.map((c) => [c.name, cell(c, i)])) as Row<typeof table>);
      }
      const { segment } = await encodeChunk(buffer.detach(), HOUR_ROW_GROUPS);
      const decodedTable = arrow.tableFromIPC(pq.readParquet(segment).intoIPCStream());
      freeBytes(segment);
      const appender = new RawAppender(table);
      for (const batch of decodedTable.batches) appender.appendBatch(batch);
      freeTable(decodedTable);
      decoded += appender.rows;
    }
  }
  return decoded;
}

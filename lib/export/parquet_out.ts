/**
 * Parquet output written as it is produced: rows are gathered into row groups of `rowGroupRows`, each handed to
 * parquet-wasm's streaming writer and written out, so an export holds one row group, never the whole result.
 * Same schema and settings as the collector's files (contract schema, zstd, dictionary encoding, statistics).
 * @module
 */

import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm";
import { ColumnBuffer } from "../storage/column_buffer.ts";
import { toArrowTable } from "../storage/raw_arrow.ts";
import { encodeParquet } from "../storage/parquet_file.ts";
import type { PlainRow } from "../storage/read_rows.ts";
import type { Row, TableName } from "../storage/tables.ts";
import type { ByteSink } from "./sink.ts";

/** Options of {@linkcode writeParquetRows}. */
export interface ParquetOutOptions {
  /** Rows per row group (and per batch handed to the encoder). @default 65536 */
  rowGroupRows?: number;
}

/**
 * Writes `batches` (rows of `table`) to `sink` as one Parquet file; returns the number of rows. No rows give a
 * valid file with the schema and no row groups' data.
 */
export async function writeParquetRows<N extends TableName>(
  table: N,
  batches: AsyncIterable<readonly PlainRow<N>[]>,
  sink: ByteSink,
  options: ParquetOutOptions = {},
): Promise<number> {
  const rowGroupRows = options.rowGroupRows ?? 65536;
  const buffer = new ColumnBuffer(table, { initialCapacity: Math.min(rowGroupRows, 8192) });
  const source = batches[Symbol.asyncIterator]();
  let pending: readonly PlainRow<N>[] = [];
  let rows = 0;
  /** The next row group as an Arrow table, or null at the end. */
  const nextGroup = async (): Promise<arrow.Table | null> => {
    buffer.clear();
    while (buffer.rows < rowGroupRows) {
      if (pending.length === 0) {
        const next = await source.next();
        if (next.done) break;
        pending = next.value;
      }
      const take = Math.min(pending.length, rowGroupRows - buffer.rows);
      for (let i = 0; i < take; i++) buffer.append(pending[i] as Row<N>);
      pending = pending.slice(take);
    }
    rows += buffer.rows;
    return buffer.rows === 0 ? null : toArrowTable(buffer);
  };

  const first = await nextGroup();
  if (first === null) {
    await sink.write(encodeParquet(toArrowTable(buffer)));
    return 0;
  }
  let queued: arrow.Table | null = first;
  const input = new ReadableStream<pq.RecordBatch>({
    async pull(controller) {
      const group = queued ?? await nextGroup();
      queued = null;
      if (group === null) return controller.close();
      const wasm = pq.Table.fromIPCStream(arrow.tableToIPC(group, "stream"));
      for (const batch of wasm.recordBatches()) controller.enqueue(batch);
      wasm.free();
    },
  });
  const props = new pq.WriterPropertiesBuilder()
    .setCompression(pq.Compression.ZSTD)
    .setDictionaryEnabled(true)
    .setStatisticsEnabled(pq.EnabledStatistics.Page)
    .setMaxRowGroupSize(rowGroupRows)
    .build();
  const output = await pq.transformParquetStream(input, props);
  for await (const chunk of output as AsyncIterable<Uint8Array>) await sink.write(chunk);
  return rows;
}

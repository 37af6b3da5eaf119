/**
 * Parquet encoding with the contract's settings (zstd, dictionary encoding, page statistics) and reading back.
 * @module
 */

import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm";
import { freeBytes } from "./free_buffers.ts";

export { writeFileAtomic } from "./atomic_file.ts";

/**
 * Encodes an Arrow table as Parquet: zstd (or `compression`: the compaction's temp files use LZ4), dictionary
 * encoding, page-level statistics, one row group (up to 2^20 rows; chunk_encoder.ts plans row groups itself and
 * stitches them).
 *
 * @example
 * ```ts
 * import { ColumnBuffer } from "./column_buffer.ts";
 * import { toArrowTable } from "./raw_arrow.ts";
 *
 * const buffer = new ColumnBuffer("funding_rates");
 * buffer.append({ symbol: "BTCUSDT", funding_time: 1, funding_rate: 1e-4, mark_price: null, local_time: 1 });
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/funding.parquet`;
 * const bytes = encodeParquet(toArrowTable(buffer));
 * await writeFileAtomic(path, bytes);
 * (await readParquet(path)).numRows; // 1
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function encodeParquet(
  table: arrow.Table,
  compression: pq.Compression = pq.Compression.ZSTD,
): Uint8Array {
  // Dictionary encoding pays for strings (symbol, side, kind, …); for prices, ids and times it hashes every
  // value only to fall back to plain pages: without it they encode twice as fast and zstd packs them smaller.
  // (Nested columns cannot be named from here, so the default is off and the string columns turn it on.)
  let props = new pq.WriterPropertiesBuilder()
    .setCompression(compression)
    .setDictionaryEnabled(false)
    .setStatisticsEnabled(pq.EnabledStatistics.Page)
    .setMaxRowGroupSize(1 << 20);
  for (const f of table.schema.fields) {
    if (isText(f.type)) props = props.setColumnDictionaryEnabled(f.name, true);
  }
  // The IPC bytes are copied into wasm memory, so they are freed at once (free_buffers.ts); writeParquet takes
  // ownership of the wasm table and properties, so nothing else is left to free.
  const ipc = arrow.tableToIPC(table, "stream");
  const wasmTable = pq.Table.fromIPCStream(ipc);
  freeBytes(ipc);
  return pq.writeParquet(wasmTable, props.build());
}

function isText(t: arrow.DataType): boolean {
  return arrow.DataType.isUtf8(t) || arrow.DataType.isLargeUtf8(t) || arrow.DataType.isDictionary(t);
}

/** Decodes Parquet bytes into an Arrow table (the Arrow schema stored in the file is restored). */
export function decodeParquet(bytes: Uint8Array): arrow.Table {
  return arrow.tableFromIPC(pq.readParquet(bytes).intoIPCStream());
}

/** Reads a Parquet file into an Arrow table (for tests, tools and recovery). */
export async function readParquet(path: string): Promise<arrow.Table> {
  return decodeParquet(await Deno.readFile(path));
}

/** Small Parquet files for the footer, assembler and thrift tests: encoded sample rows, stitched in memory. */
import { ColumnBuffer } from "../../lib/storage/column_buffer.ts";
import { concatBytes, ParquetAssembler } from "../../lib/storage/parquet_assembler.ts";
import { encodeParquet } from "../../lib/storage/parquet_file.ts";
import { memorySource } from "../../lib/storage/parquet_footer.ts";
import { toArrowTable } from "../../lib/storage/raw_arrow.ts";
import type { TableName } from "../../lib/storage/tables.ts";
import { sampleRows } from "./_rows.ts";

/** A Parquet file (one row group) of sample rows `from .. from + n` of `table`. */
export function encoded(table: TableName, n: number, from = 0): Uint8Array {
  const b = new ColumnBuffer(table);
  for (const row of sampleRows(table, from + n).slice(from)) b.append(row);
  return encodeParquet(toArrowTable(b));
}

/** Whole Parquet files (same schema) stitched in memory into one, as the flush stitches spilled chunks. */
export async function stitchParquet(files: readonly Uint8Array[]): Promise<Uint8Array> {
  const asm = new ParquetAssembler();
  const pieces = [asm.head()];
  for (const f of files) pieces.push(...await asm.add(memorySource(f)));
  pieces.push(asm.finish());
  return concatBytes(pieces);
}

/** Sample trades stitched into one file of three row groups: rows 0–9, 10–29 and 30–59. */
export function threeGroupTrades(): Promise<Uint8Array> {
  return stitchParquet([encoded("trades", 10), encoded("trades", 20, 10), encoded("trades", 30, 30)]);
}

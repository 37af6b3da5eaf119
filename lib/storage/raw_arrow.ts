/**
 * Raw column arrays (column_buffer.ts) to an Arrow table with the table's exact schema, in a given row order:
 * the step before Parquet encoding, run in the Parquet worker. Int64 values are written as little-endian words
 * without BigInt allocations; the `symbol` column becomes `large_utf8`, other strings dictionary arrays.
 * @module
 */

import * as arrow from "apache-arrow";
import { arrowSchema } from "./arrow_schema.ts";
import type { ColumnBuffer, RawChunk } from "./column_buffer.ts";
import type { TableName } from "./tables.ts";
import type { RawColumn } from "./typed_columns.ts";

const TWO_32 = 4294967296;

/** Packs the validity bytes of the rows in `order[from..to)` into an Arrow bitmap; none when all are valid. */
function packValidity(
  valid: Uint8Array | null,
  order: Int32Array,
  from: number,
  n: number,
): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  if (valid === null) return { nullBitmap: undefined, nullCount: 0 };
  let nullCount = 0;
  const bitmap = new Uint8Array((n + 7) >> 3);
  for (let k = 0; k < n; k++) {
    if (valid[order[from + k]!]) bitmap[k >> 3]! |= 1 << (k & 7);
    else nullCount++;
  }
  return { nullBitmap: nullCount === 0 ? undefined : bitmap, nullCount };
}

/** Little-endian int64 words of doubles holding integers below 2^53 in magnitude. */
function int64Words(values: Float64Array, order: Int32Array, from: number, n: number): BigInt64Array {
  const words = new Uint32Array(n * 2);
  for (let k = 0; k < n; k++) {
    const v = values[order[from + k]!]!;
    const hi = Math.floor(v / TWO_32);
    words[2 * k] = v - hi * TWO_32;
    words[2 * k + 1] = hi >>> 0;
  }
  return new BigInt64Array(words.buffer);
}

/** Strings of `strings` picked by `indices` of the ordered rows, as `large_utf8` (offsets as int64 words). */
function largeUtf8(
  col: Extract<RawColumn, { kind: "str" }>,
  order: Int32Array,
  from: number,
  n: number,
): { valueOffsets: BigInt64Array; data: Uint8Array } {
  const encoder = new TextEncoder();
  const encoded = col.strings.map((s) => encoder.encode(s));
  let total = 0;
  for (let k = 0; k < n; k++) {
    const i = order[from + k]!;
    if (col.valid === null || col.valid[i]) total += encoded[col.indices[i]!]!.length;
  }
  const data = new Uint8Array(total);
  const words = new Uint32Array((n + 1) * 2);
  let at = 0;
  for (let k = 0; k < n; k++) {
    const i = order[from + k]!;
    if (col.valid === null || col.valid[i]) {
      const bytes = encoded[col.indices[i]!]!;
      data.set(bytes, at);
      at += bytes.length;
    }
    words[2 * (k + 1)] = at; // offsets stay far below 2^32 within one chunk
  }
  return { valueOffsets: new BigInt64Array(words.buffer), data };
}

function columnData(
  col: RawColumn,
  type: arrow.DataType,
  order: Int32Array,
  from: number,
  n: number,
): arrow.Data {
  const { nullBitmap, nullCount } = packValidity(col.valid, order, from, n);
  const base = { length: n, nullCount, nullBitmap };
  switch (col.kind) {
    case "f64": {
      const data = new Float64Array(n);
      for (let k = 0; k < n; k++) data[k] = col.values[order[from + k]!]!;
      return arrow.makeData({ ...base, type: type as arrow.Float64, data });
    }
    case "i64":
      return arrow.makeData({
        ...base,
        type: type as arrow.Int64,
        data: int64Words(col.values, order, from, n),
      });
    case "bool": {
      const data = new Uint8Array((n + 7) >> 3);
      for (let k = 0; k < n; k++) if (col.values[order[from + k]!]) data[k >> 3]! |= 1 << (k & 7);
      return arrow.makeData({ ...base, type: type as arrow.Bool, data });
    }
    case "str": {
      if (arrow.DataType.isLargeUtf8(type)) {
        return arrow.makeData({ ...base, type, ...largeUtf8(col, order, from, n) });
      }
      const dict = type as arrow.Dictionary<arrow.Utf8, arrow.Int32>;
      const data = new Int32Array(n);
      for (let k = 0; k < n; k++) data[k] = col.indices[order[from + k]!]!;
      const dictionary = arrow.vectorFromArray(col.strings, dict.dictionary);
      return arrow.makeData({ ...base, type: dict, data, dictionary });
    }
    case "list": {
      const list = type as arrow.List<arrow.Float64>;
      const offsets = new Int32Array(n + 1);
      for (let k = 0; k < n; k++) {
        const i = order[from + k]!;
        offsets[k + 1] = offsets[k]! + col.offsets[i + 1]! - col.offsets[i]!;
      }
      const flat = new Float64Array(offsets[n]!);
      for (let k = 0; k < n; k++) {
        const i = order[from + k]!;
        flat.set(col.flat.subarray(col.offsets[i]!, col.offsets[i + 1]!), offsets[k]!);
      }
      const child = arrow.makeData({
        type: list.children[0]!.type,
        length: flat.length,
        nullCount: 0,
        data: flat,
      });
      return arrow.makeData({ ...base, type: list, valueOffsets: offsets, child });
    }
  }
}

/** The identity order `0..n-1`. */
export function identityOrder(n: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}

/**
 * The rows `order[from..to)` of `chunk` as an Arrow table with the table's schema (arrow_schema.ts; one record
 * batch; the chunk's arrays are only read). Without `order`, the rows in their buffered order.
 *
 * @example
 * ```ts
 * import { ColumnBuffer } from "./column_buffer.ts";
 *
 * const buffer = new ColumnBuffer("funding_rates");
 * buffer.append({ symbol: "BTCUSDT", funding_time: 1, funding_rate: 1e-4, mark_price: null, local_time: 1 });
 * const table = rawToArrow(buffer.detach());
 * table.numRows; // 1
 * ```
 */
export function rawToArrow(
  chunk: RawChunk,
  order: Int32Array = identityOrder(chunk.rows),
  from = 0,
  to = order.length,
): arrow.Table {
  const schema = arrowSchema(chunk.table);
  const n = to - from;
  const children = chunk.columns.map((c, i) => columnData(c, schema.fields[i]!.type, order, from, n));
  const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: n, nullCount: 0, children });
  return new arrow.Table(schema, [new arrow.RecordBatch(schema, struct)]);
}

/**
 * The rows of `buffer` as an Arrow table, in append order (copies; the buffer keeps them).
 *
 * @example
 * ```ts
 * import { ColumnBuffer } from "./column_buffer.ts";
 *
 * const buffer = new ColumnBuffer("funding_rates");
 * buffer.append({ symbol: "BTCUSDT", funding_time: 1, funding_rate: 1e-4, mark_price: null, local_time: 1 });
 * toArrowTable(buffer).numRows; // 1
 * buffer.rows; // 1
 * ```
 */
export function toArrowTable(buffer: ColumnBuffer<TableName>): arrow.Table {
  return rawToArrow(buffer.view());
}

/**
 * The Arrow side of the table specs (tables.ts): the Arrow type of each logical column type and each table's
 * Arrow schema, as written to Parquet. Apart from tables.ts so that only code that builds or reads Arrow loads
 * apache-arrow (the collector's main thread does neither; the import adds ~16 MiB to a bare Deno process).
 * @module
 */

import * as arrow from "apache-arrow";
import { type ColumnSpec, type ColumnType, type TableName, TABLES } from "./tables.ts";

/**
 * The Arrow type of a logical column type. A fresh instance each call, because every dictionary column needs
 * its own dictionary id in the Arrow IPC stream handed to the Parquet writer.
 */
export function arrowType(type: ColumnType): arrow.DataType {
  switch (type) {
    case "symbol":
      return new arrow.LargeUtf8();
    case "string":
      return new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());
    case "timestamp":
      return new arrow.TimestampMicrosecond("UTC");
    case "int64":
      return new arrow.Int64();
    case "float64":
      return new arrow.Float64();
    case "bool":
      return new arrow.Bool();
    case "list_float64":
      return new arrow.List(new arrow.Field("item", new arrow.Float64(), true));
  }
}

const schemas = new Map<TableName, arrow.Schema>();

/**
 * The Arrow schema of `table` (built once).
 *
 * @example
 * ```ts
 * arrowSchema("trades").fields.map((f) => f.name); // ["symbol", "exchange_time", "trade_time", ...]
 * ```
 */
export function arrowSchema(table: TableName): arrow.Schema {
  let schema = schemas.get(table);
  if (!schema) {
    const columns = TABLES[table].columns as readonly ColumnSpec[];
    schema = new arrow.Schema(columns.map((c) => new arrow.Field(c.name, arrowType(c.type), c.nullable)));
    schemas.set(table, schema);
  }
  return schema;
}

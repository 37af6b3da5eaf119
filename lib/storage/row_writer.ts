/**
 * The function that writes one row's fields into a table's typed columns, compiled once per table.
 *
 * A loop over the columns (`columns[c].set(i, row[name])`) made both the field load and the call megamorphic:
 * one site saw every column name and every column class, so V8 looked each up in its megamorphic caches and
 * inlined nothing, for each field of each of a firehose's ~60k rows a second. The compiled writer has a named
 * load and a call site per column (the class at a position is the same for every buffer of the table), which
 * V8 inlines. The source is built from the table's spec (tables.ts), never from input.
 * @module
 */

import type { ColumnSpec, TableName, TableSpec } from "./tables.ts";
import type { Column } from "./typed_columns.ts";

/**
 * Writes `row` at index `i` of `columns` (the table's columns, in its order), widens `range` (`[min, max]` of
 * the table's time column) and returns the variable bytes the row added. If a column throws, the columns
 * before it take back what they added and the error goes on: the row leaves no trace.
 */
export type RowWriter = (
  columns: readonly Column[],
  i: number,
  row: unknown,
  range: Float64Array,
) => number;

const compiled = new Map<TableName, RowWriter>();

/**
 * The writer of `spec`'s table (compiled at its first use).
 *
 * @example
 * ```ts
 * import { TABLES } from "./tables.ts";
 * import { makeColumn } from "./typed_columns.ts";
 *
 * const spec = TABLES.funding_rates;
 * const columns = spec.columns.map(makeColumn);
 * for (const c of columns) c.reset(4, undefined);
 * const range = Float64Array.of(Infinity, -Infinity);
 * rowWriter(spec)(columns, 0, {
 *   symbol: "BTCUSDT", funding_time: 1_700_000_000_000_000, funding_rate: 1e-4, mark_price: 37000.5,
 *   local_time: 1_700_000_000_123_456,
 * }, range);
 * range[0]; // 1700000000123456
 * ```
 */
export function rowWriter(spec: TableSpec): RowWriter {
  let writer = compiled.get(spec.name);
  if (writer === undefined) compiled.set(spec.name, writer = compile(spec));
  return writer;
}

function compile(spec: TableSpec): RowWriter {
  const key = (name: string) => `row[${JSON.stringify(name)}]`;
  const sets = (spec.columns as readonly ColumnSpec[]).map((c, k) =>
    `    bytes += columns[${k}].set(i, ${key(c.name)}); c = ${k + 1};`
  );
  const source = `"use strict";
return function write_${spec.name}(columns, i, row, range) {
  let c = 0;
  let bytes = 0;
  try {
${sets.join("\n")}
  } catch (err) {
    for (let k = 0; k < c; k++) columns[k].undo(i);
    throw err;
  }
  const t = ${key(spec.timeColumn)};
  if (t < range[0]) range[0] = t;
  if (t > range[1]) range[1] = t;
  return bytes;
};`;
  return new Function(source)() as RowWriter;
}

/** Test rows generated from a table's spec, so every table and column type is covered the same way. */
import { type ColumnSpec, type Row, type TableName, TABLES } from "../../lib/storage/tables.ts";

/** Ids exercising the int64 conversion: sign, the 32-bit boundary and 2^53 - 1. */
export const INT_VALUES = [0, 1, -1, 2 ** 32 - 1, 2 ** 32, -(2 ** 32) - 1, 2 ** 53 - 1, 12_345_678_901_234];
export const BASE_US = 1_700_000_000_123_456;
const STRINGS = ["BTCUSDT", "测试USDT", "bid", "", "ask"];

/** The value of column `c` in row `i`; nullable columns are null on every third row. */
export function cell(c: ColumnSpec, i: number): unknown {
  if (c.nullable && i % 3 === 1) return null;
  switch (c.type) {
    case "symbol":
    case "string":
      return STRINGS[(i + c.name.length) % STRINGS.length];
    case "timestamp":
      return c.name === "local_time" ? BASE_US + i * 1_000_001 : BASE_US - i * 7;
    case "int64":
      return INT_VALUES[(i + c.name.length) % INT_VALUES.length];
    case "float64":
      return i * 0.1 + c.name.length / 3;
    case "bool":
      return (i + c.name.length) % 2 === 0;
    case "list_float64":
      return Array.from({ length: i % 4 }, (_, k) => 100 + k * 0.01 + i);
  }
}

/** `n` rows of table `name`. */
export function sampleRows<N extends TableName>(name: N, n: number): Row<N>[] {
  const columns = TABLES[name].columns as readonly ColumnSpec[];
  return Array.from(
    { length: n },
    (_, i) => Object.fromEntries(columns.map((c) => [c.name, cell(c, i)])) as Row<N>,
  );
}

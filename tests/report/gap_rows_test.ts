import assert from "node:assert/strict";
import * as arrow from "apache-arrow";
import { gapRowsFromTable, GapTableError } from "../../lib/report/gap_rows.ts";
import { ColumnBuffer } from "../../lib/storage/column_buffer.ts";
import { toArrowTable } from "../../lib/storage/raw_arrow.ts";
import { decodeParquet, encodeParquet } from "../../lib/storage/parquet_file.ts";
import { D, gapRow } from "../ledger/_sample_ledger.ts";

Deno.test("gapRowsFromTable() reads gap rows back exactly, µs and int64 ids included", () => {
  const rows = [
    {
      ...gapRow("BTCUSDT", "depth@100ms", "sequence", D + 123_457, D + 9_999_999),
      last_update_id: 2 ** 53 - 1,
      resume_update_id: 12_345_678_901_234,
    },
    gapRow("ETHUSDT", "aggTrade", "stale", D + 1, D + 1, "no message for 61.0 s"),
  ];
  const buf = new ColumnBuffer("gaps");
  for (const r of rows) buf.append(r);
  assert.deepEqual(gapRowsFromTable(decodeParquet(encodeParquet(toArrowTable(buf)))), rows);
});

Deno.test("gapRowsFromTable() names a missing column", () => {
  const table = arrow.tableFromArrays({ symbol: ["BTCUSDT"] });
  assert.throws(() => gapRowsFromTable(table), GapTableError);
});

import assert from "node:assert/strict";
import * as arrow from "apache-arrow";
import { toRows } from "../../lib/storage/read_rows.ts";

Deno.test("toRows() reads exact µs timestamps of a sliced table (arrow-js slices the value buffer itself)", () => {
  const times = new BigInt64Array([1_000_001n, 2_000_002n, 3_000_003n, 4_000_004n]);
  const table = new arrow.Table({
    symbol: arrow.vectorFromArray(["A", "B", "C", "D"], new arrow.Utf8()),
    local_time: arrow.makeVector({ type: new arrow.TimestampMicrosecond("UTC"), data: times } as never),
  });
  assert.deepEqual(toRows(table).map((r) => r.local_time), [1_000_001, 2_000_002, 3_000_003, 4_000_004]);
  assert.deepEqual(toRows(table.slice(2, 4)).map((r) => [r.symbol, r.local_time]), [
    ["C", 3_000_003],
    ["D", 4_000_004],
  ]);
});

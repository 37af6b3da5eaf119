import assert from "node:assert/strict";
import { ColumnLog } from "../../lib/sim/column_log.ts";

Deno.test("ColumnLog keeps rows and their lists across growth and drops from the front", () => {
  const log = new ColumnLog(3);
  for (let i = 0; i < 100; i++) {
    log.push([1000 + i, i * 5e12, -i], Array.from({ length: i % 4 }, (_, j) => i * 10 + j));
  }
  assert.equal(log.length, 100);
  assert.deepEqual([log.get(7, 0), log.get(7, 1), log.get(7, 2)], [1007, 35e12, -7]);
  assert.deepEqual([...log.list(7)], [70, 71, 72]);
  assert.deepEqual([...log.list(8)], []);
  assert.equal(log.firstAtLeast(0, 1050), 50);
  assert.equal(log.firstAtLeast(0, 999), 0);
  assert.equal(log.firstAtLeast(0, 5000), 100);
  log.dropFirst(log.firstAtLeast(0, 1090));
  assert.equal(log.length, 10);
  assert.deepEqual([log.get(0, 0), log.get(9, 0)], [1090, 1099]);
  assert.deepEqual([...log.list(1)], [910, 911, 912]);
  assert.deepEqual([...log.list(2)], []);
  assert.deepEqual([...log.list(3)], [930]);
  log.push([2000, 1, 2], [7, 8]);
  assert.deepEqual([log.get(10, 0), ...log.list(10)], [2000, 7, 8]);
  log.dropFirst(0);
  assert.equal(log.length, 11);
});

import assert from "node:assert/strict";
import { RangeSet } from "../../lib/merge/range_set.ts";

Deno.test("RangeSet: keys in any order become ranges, joined when a hole fills", () => {
  const set = new RangeSet();
  for (const k of [5, 6, 7, 1, 2, 10, 9]) assert.equal(set.add(k, k * 100), true);
  assert.deepEqual(set.ranges().map((r) => [r.lo, r.hi]), [[1, 2], [5, 7], [9, 10]]);
  assert.equal(set.add(6, 1), false, "a key already there is refused");
  assert.equal(set.has(6), true);
  assert.equal(set.has(3), false);
  assert.equal(set.has(0), false);
  assert.equal(set.has(11), false);
  assert.deepEqual(set.holes(), [
    { afterKey: 2, beforeKey: 5, afterUs: 200, beforeUs: 500 },
    { afterKey: 7, beforeKey: 9, afterUs: 700, beforeUs: 900 },
  ]);
  set.add(8, 1);
  set.add(4, 2);
  set.add(3, 3);
  assert.deepEqual(set.ranges().map((r) => [r.lo, r.hi, r.loUs, r.hiUs]), [[1, 10, 100, 1000]]);
  assert.deepEqual(set.holes(), []);
});

Deno.test("RangeSet: a step joins keys on its grid only", () => {
  const minute = 60_000_000;
  const set = new RangeSet(minute);
  for (const k of [0, minute, 3 * minute, 2 * minute]) set.add(k, k);
  assert.deepEqual(set.ranges().map((r) => [r.lo, r.hi]), [[0, 3 * minute]]);
  set.add(5 * minute, 0);
  assert.deepEqual(set.holes().map((h) => [h.afterKey, h.beforeKey]), [[3 * minute, 5 * minute]]);
  assert.throws(() => new RangeSet(0), /step must be positive/);
});

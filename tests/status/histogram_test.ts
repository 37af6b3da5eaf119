import assert from "node:assert/strict";
import { FLUSH_SECONDS_BOUNDS, Histogram } from "../../lib/status/histogram.ts";

Deno.test("Histogram counts a value equal to a bound in that bucket (le is inclusive)", () => {
  const h = new Histogram([0.1, 1, 10]);
  for (const v of [0.1, 0.05, 1, 1.5, 10, 11, Infinity]) h.observe(v);
  const s = h.snapshot();
  assert.deepEqual(s.bounds, [0.1, 1, 10]);
  assert.deepEqual(s.counts, [2, 3, 5]);
  assert.equal(s.count, 7);
  assert.equal(s.sum, Infinity);
});

Deno.test("Histogram ignores NaN and sums the rest", () => {
  const h = new Histogram([1]);
  h.observe(NaN);
  h.observe(0.25);
  h.observe(2.5);
  assert.deepEqual(h.snapshot(), { bounds: [1], counts: [1], sum: 2.75, count: 2 });
});

Deno.test("Histogram.snapshot() is a copy that later observations do not change", () => {
  const h = new Histogram(FLUSH_SECONDS_BOUNDS);
  h.observe(0.2);
  const before = h.snapshot();
  h.observe(0.2);
  assert.equal(before.count, 1);
  assert.equal(h.snapshot().count, 2);
  assert.equal(before.counts[FLUSH_SECONDS_BOUNDS.indexOf(0.25)], 1);
});

Deno.test("Histogram rejects bounds that are not finite and strictly increasing", () => {
  for (const bad of [[1, 1], [2, 1], [1, Infinity], [NaN]]) {
    assert.throws(() => new Histogram(bad), RangeError, JSON.stringify(bad));
  }
  assert.deepEqual(new Histogram([]).snapshot(), { bounds: [], counts: [], sum: 0, count: 0 });
});

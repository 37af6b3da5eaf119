import assert from "node:assert/strict";
import {
  clipIntervals,
  DAY_US,
  dayOf,
  HOUR_US,
  hourFigures,
  hourOf,
  type Interval,
  mergeIntervals,
  slotsTouched,
  subtractIntervals,
  totalUs,
  utcDayStartUs,
} from "../../lib/ledger/intervals.ts";

const S = 1_000_000;

Deno.test("mergeIntervals() sorts, joins overlapping and touching intervals, drops empty ones", () => {
  const cases: [Interval[], Interval[]][] = [
    [[], []],
    [[[5, 5]], []],
    [[[7, 3]], []],
    [[[0, 2], [2, 4]], [[0, 4]]],
    [[[5, 8], [0, 2], [7, 9]], [[0, 2], [5, 9]]],
    [[[0, 10], [2, 3], [4, 5]], [[0, 10]]],
    [[[3, 4], [1, 2]], [[1, 2], [3, 4]]],
  ];
  for (const [input, want] of cases) assert.deepEqual(mergeIntervals(input), want, JSON.stringify(input));
});

Deno.test("mergeIntervals() leaves its input unchanged", () => {
  const input: Interval[] = [[5, 8], [0, 6]];
  mergeIntervals(input);
  assert.deepEqual(input, [[5, 8], [0, 6]]);
});

Deno.test("subtractIntervals() removes every covered part", () => {
  const cases: [Interval[], Interval[], Interval[]][] = [
    [[[0, 10]], [], [[0, 10]]],
    [[[0, 10]], [[0, 10]], []],
    [[[0, 10]], [[2, 3], [5, 20]], [[0, 2], [3, 5]]],
    [[[0, 10]], [[-5, 1], [9, 12]], [[1, 9]]],
    [[[0, 4], [6, 10]], [[3, 7]], [[0, 3], [7, 10]]],
    [[[0, 4], [6, 10]], [[4, 6]], [[0, 4], [6, 10]]],
    [[[0, 10]], [[3, 5], [4, 6]], [[0, 3], [6, 10]]],
    [[[0, 10], [20, 30]], [[25, 26], [1, 2]], [[0, 1], [2, 10], [20, 25], [26, 30]]],
  ];
  for (const [a, b, want] of cases) {
    assert.deepEqual(subtractIntervals(a, b), want, `${JSON.stringify(a)} - ${JSON.stringify(b)}`);
  }
});

Deno.test("clipIntervals() and totalUs() count overlaps once", () => {
  assert.deepEqual(clipIntervals([[0, 5], [8, 20]], 3, 10), [[3, 5], [8, 10]]);
  assert.deepEqual(clipIntervals([[0, 2]], 3, 10), []);
  assert.equal(totalUs([[0, 5], [3, 8], [10, 11]]), 9);
  assert.equal(totalUs([]), 0);
});

Deno.test("hourOf(), dayOf() and slotsTouched() place times in UTC hours and days", () => {
  assert.equal(hourOf(HOUR_US * 5 + 1), HOUR_US * 5);
  assert.equal(dayOf(DAY_US * 3 - 1), DAY_US * 2);
  assert.deepEqual(slotsTouched(1.5 * HOUR_US, 3 * HOUR_US, HOUR_US), [HOUR_US, 2 * HOUR_US]);
  assert.deepEqual(slotsTouched(2 * HOUR_US, 2 * HOUR_US, HOUR_US), [2 * HOUR_US]);
  assert.deepEqual(slotsTouched(2 * HOUR_US, 3 * HOUR_US + 1, HOUR_US), [2 * HOUR_US, 3 * HOUR_US]);
  assert.deepEqual(slotsTouched(DAY_US - 1, DAY_US + 1, DAY_US), [0, DAY_US]);
});

Deno.test("utcDayStartUs() reads YYYY-MM-DD and rejects anything else", () => {
  assert.equal(utcDayStartUs("1970-01-02"), DAY_US);
  assert.equal(utcDayStartUs("2024-03-01"), Date.UTC(2024, 2, 1) * 1000);
  for (const bad of ["2024-02-30", "2024-2-01", "2024-02-01T00:00:00Z", "", "yesterday"]) {
    assert.throws(() => utcDayStartUs(bad), RangeError, bad);
  }
});

Deno.test("hourFigures() covers the table of recorded spans, missing and recovered gaps", () => {
  const h = 10 * HOUR_US;
  const cases: {
    name: string;
    spans: Interval[];
    missing: Interval[];
    recovered: Interval[];
    want: [recorded: number, observed: number, missing: number, recovered: number, covered: number];
  }[] = [
    {
      name: "full hour, no gap",
      spans: [[h, h + HOUR_US]],
      missing: [],
      recovered: [],
      want: [3600, 3600, 0, 0, 3600],
    },
    {
      name: "partial span, no gap",
      spans: [[h + 600 * S, h + 1200 * S]],
      missing: [],
      recovered: [],
      want: [600, 600, 0, 0, 600],
    },
    {
      name: "overlapping gaps merge",
      spans: [[h, h + HOUR_US]],
      missing: [[h + 60 * S, h + 180 * S], [h + 120 * S, h + 240 * S]],
      recovered: [],
      want: [3600, 3600, 180, 0, 3420],
    },
    {
      name: "gap crossing both hour edges is clipped",
      spans: [[h, h + HOUR_US]],
      missing: [[h - 100 * S, h + 100 * S], [h + 3500 * S, h + 4000 * S]],
      recovered: [],
      want: [3600, 3600, 200, 0, 3400],
    },
    {
      name: "downtime gap outside the spans is observed",
      spans: [[h, h + 1800 * S]],
      missing: [[h + 1800 * S, h + 2400 * S]],
      recovered: [],
      want: [1800, 2400, 600, 0, 1800],
    },
    {
      name: "backfill cancels part of a disconnect",
      spans: [[h, h + HOUR_US]],
      missing: [[h, h + 600 * S]],
      recovered: [[h, h + 360 * S]],
      want: [3600, 3600, 240, 360, 3360],
    },
    { name: "nothing at all", spans: [], missing: [], recovered: [], want: [0, 0, 0, 0, 0] },
    { name: "whole hour down", spans: [], missing: [[0, 2 * h]], recovered: [], want: [0, 3600, 3600, 0, 0] },
  ];
  for (const c of cases) {
    const f = hourFigures({ hourUs: h, spans: c.spans, missing: c.missing, recovered: c.recovered });
    assert.deepEqual(
      [f.recordedUs, f.observedUs, f.missingUs, f.recoveredUs, f.coveredUs].map((us) => us / S),
      c.want,
      c.name,
    );
  }
});

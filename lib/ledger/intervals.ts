/**
 * Interval math for the ledger's coverage figures. Pure: intervals are half-open `[startUs, endUs)` pairs of
 * µs timestamps; every function returns new arrays and leaves its inputs alone.
 * @module
 */

/** A half-open time interval `[startUs, endUs)` in µs; empty when `endUs <= startUs`. */
export type Interval = readonly [startUs: number, endUs: number];

/** One UTC hour in µs. */
export const HOUR_US = 3_600_000_000;
/** One UTC day in µs. */
export const DAY_US = 86_400_000_000;

/**
 * Sorts and merges intervals; overlapping or touching ones become one, empty ones are dropped.
 *
 * @example
 * ```ts
 * mergeIntervals([[5, 8], [0, 2], [2, 4], [7, 9]]); // [[0, 4], [5, 9]]
 * ```
 */
export function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: [number, number][] = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/**
 * The parts of `a` not covered by `b` (both merged first).
 *
 * @example
 * ```ts
 * subtractIntervals([[0, 10]], [[2, 3], [5, 20]]); // [[0, 2], [3, 5]]
 * ```
 */
export function subtractIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const cut = mergeIntervals(b);
  const out: Interval[] = [];
  let j = 0;
  for (const [s0, e] of mergeIntervals(a)) {
    let s = s0;
    // `cut` is sorted and `a`'s pieces are too, so cuts ending before this piece never matter again.
    while (j < cut.length && cut[j]![1] <= s) j++;
    for (let k = j; k < cut.length && cut[k]![0] < e; k++) {
      const [cs, ce] = cut[k]!;
      if (cs > s) out.push([s, cs]);
      s = Math.max(s, ce);
      if (s >= e) break;
    }
    if (s < e) out.push([s, e]);
  }
  return out;
}

/**
 * Intervals cut to `[fromUs, toUs)`, merged.
 *
 * @example
 * ```ts
 * clipIntervals([[0, 5], [8, 20]], 3, 10); // [[3, 5], [8, 10]]
 * ```
 */
export function clipIntervals(intervals: readonly Interval[], fromUs: number, toUs: number): Interval[] {
  return mergeIntervals(intervals.map(([s, e]) => [Math.max(s, fromUs), Math.min(e, toUs)]));
}

/** Total µs covered by the intervals (overlaps counted once). */
export function totalUs(intervals: readonly Interval[]): number {
  let sum = 0;
  for (const [s, e] of mergeIntervals(intervals)) sum += e - s;
  return sum;
}

/** Start (µs) of the UTC hour containing `us`. */
export function hourOf(us: number): number {
  return Math.floor(us / HOUR_US) * HOUR_US;
}

/** Start (µs) of the UTC day containing `us`. */
export function dayOf(us: number): number {
  return Math.floor(us / DAY_US) * DAY_US;
}

/**
 * Starts of the `unitUs`-long slots (hours, days) that `[startUs, endUs)` overlaps; a zero-length interval
 * touches the slot it sits in.
 *
 * @example
 * ```ts
 * slotsTouched(1.5 * HOUR_US, 3 * HOUR_US, HOUR_US); // [HOUR_US, 2 * HOUR_US]
 * ```
 */
export function slotsTouched(startUs: number, endUs: number, unitUs: number): number[] {
  const first = Math.floor(startUs / unitUs) * unitUs;
  const out = [first];
  for (let t = first + unitUs; t < endUs; t += unitUs) out.push(t);
  return out;
}

/**
 * Start (µs) of a UTC date `YYYY-MM-DD`; throws `RangeError` for anything else (including impossible dates).
 *
 * @example
 * ```ts
 * utcDayStartUs("1970-01-02"); // 86_400_000_000
 * ```
 */
export function utcDayStartUs(date: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(date) ? Date.parse(`${date}T00:00:00Z`) : NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date) {
    throw new RangeError(`Cannot read date '${date}': expected a UTC date YYYY-MM-DD`);
  }
  return ms * 1000;
}

/** The time figures of one stream in one hour, in µs. */
export interface HourFigures {
  /** Time the collector recorded the stream (union of its spans). */
  recordedUs: number;
  /** Time the collector answers for: recorded spans plus every gap interval (a downtime gap lies outside them). */
  observedUs: number;
  /** Time whose data is missing: unrecovered gaps minus backfilled intervals. */
  missingUs: number;
  /** Time inside gap intervals whose data was recovered (backfilled or marked recovered). */
  recoveredUs: number;
  /** `observedUs - missingUs`. */
  coveredUs: number;
}

/** Inputs of {@linkcode hourFigures}: all intervals may extend beyond the hour; they are clipped to it. */
export interface HourIntervals {
  /** Start (µs) of the UTC hour. */
  hourUs: number;
  /** Recorded spans. */
  spans: readonly Interval[];
  /** Gaps whose data is missing (kinds `sequence`, `disconnect`, `stale` not marked recovered). */
  missing: readonly Interval[];
  /** Gaps whose data is present again (kind `backfilled`, or marked recovered). */
  recovered: readonly Interval[];
}

/**
 * Coverage of one stream in one hour. A backfilled interval cancels the missing time it overlaps, so a REST
 * backfill of part of a disconnect counts as covered for that part only.
 *
 * @example
 * ```ts
 * hourFigures({ hourUs: 0, spans: [[0, HOUR_US]], missing: [[0, 60e6]], recovered: [] });
 * // { recordedUs: 3.6e9, observedUs: 3.6e9, missingUs: 6e7, recoveredUs: 0, coveredUs: 3.54e9 }
 * ```
 */
export function hourFigures(input: HourIntervals): HourFigures {
  const from = input.hourUs;
  const to = from + HOUR_US;
  const spans = clipIntervals(input.spans, from, to);
  const missingAll = clipIntervals(input.missing, from, to);
  const recovered = clipIntervals(input.recovered, from, to);
  const missing = subtractIntervals(missingAll, recovered);
  const gapsUs = totalUs([...missingAll, ...recovered]);
  const missingUs = totalUs(missing);
  const observedUs = totalUs([...spans, ...missingAll, ...recovered]);
  return {
    recordedUs: totalUs(spans),
    observedUs,
    missingUs,
    recoveredUs: gapsUs - missingUs,
    coveredUs: observedUs - missingUs,
  };
}

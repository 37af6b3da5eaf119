/**
 * A set of integer keys (agg trade ids, kline open times) kept as ranges of consecutive values, so that a day of
 * a symbol's trades costs a few ranges instead of one entry per trade, and a late copy of a row (a REST backfill
 * written minutes after the live row) is still recognised. Each range remembers when its ends arrived, which
 * places the holes between ranges in time. Pure.
 * @module
 */

/** Consecutive keys `lo, lo + step, …, hi`; `loUs` / `hiUs` are the arrival times of the rows at its ends. */
export interface KeyRange {
  lo: number;
  hi: number;
  loUs: number;
  hiUs: number;
}

/** The keys missing between two ranges: after `afterKey` and before `beforeKey`, between two arrivals. */
export interface KeyHole {
  afterKey: number;
  beforeKey: number;
  /** Arrival of the row at `afterKey`. */
  afterUs: number;
  /** Arrival of the row at `beforeKey`. */
  beforeUs: number;
}

/**
 * Integer keys on a grid of `step` (1 for ids, the interval for kline open times).
 *
 * @example
 * ```ts
 * const ids = new RangeSet();
 * for (const id of [1, 2, 3, 7, 8]) ids.add(id, id * 10);
 * ids.add(2, 99); // false: already there
 * ids.ranges().length; // 2: 1..3 and 7..8
 * ids.holes(); // [{ afterKey: 3, beforeKey: 7, afterUs: 30, beforeUs: 70 }]
 * ```
 */
export class RangeSet {
  readonly #ranges: KeyRange[] = [];

  constructor(readonly step = 1) {
    if (!(step > 0)) throw new RangeError(`Cannot build a key range set: step must be positive, got ${step}`);
  }

  /** Whether `key` was added. */
  has(key: number): boolean {
    const r = this.#ranges[this.#floor(key)];
    return r !== undefined && key <= r.hi;
  }

  /** Adds `key`, which arrived at `localUs`; false (and nothing changes) if it was there already. */
  add(key: number, localUs: number): boolean {
    const ranges = this.#ranges;
    const i = this.#floor(key);
    const prev = ranges[i];
    if (prev !== undefined && key <= prev.hi) return false;
    const next = ranges[i + 1];
    const joinsPrev = prev !== undefined && prev.hi + this.step === key;
    const joinsNext = next !== undefined && key + this.step === next.lo;
    if (joinsPrev && joinsNext) {
      prev.hi = next.hi;
      prev.hiUs = next.hiUs;
      ranges.splice(i + 1, 1);
    } else if (joinsPrev) {
      prev.hi = key;
      prev.hiUs = localUs;
    } else if (joinsNext) {
      next.lo = key;
      next.loUs = localUs;
    } else {
      ranges.splice(i + 1, 0, { lo: key, hi: key, loUs: localUs, hiUs: localUs });
    }
    return true;
  }

  /** The ranges, ascending. */
  ranges(): readonly KeyRange[] {
    return this.#ranges;
  }

  /** The holes between consecutive ranges, ascending. */
  holes(): KeyHole[] {
    const out: KeyHole[] = [];
    for (let i = 1; i < this.#ranges.length; i++) {
      const [a, b] = [this.#ranges[i - 1]!, this.#ranges[i]!];
      out.push({ afterKey: a.hi, beforeKey: b.lo, afterUs: a.hiUs, beforeUs: b.loUs });
    }
    return out;
  }

  /** Index of the last range starting at or before `key` (-1 if none); keys mostly arrive at the end. */
  #floor(key: number): number {
    const ranges = this.#ranges;
    const last = ranges.length - 1;
    if (last < 0 || ranges[last]!.lo <= key) return last;
    let lo = 0;
    let hi = last;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ranges[mid]!.lo <= key) lo = mid;
      else hi = mid - 1;
    }
    return ranges[lo]!.lo <= key ? lo : -1;
  }
}

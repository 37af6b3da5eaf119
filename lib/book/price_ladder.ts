/**
 * One side of an L2 book: price levels kept sorted in parallel `Float64Array`s, best price at the END.
 *
 * Most depth updates touch levels near the top of the book, so with the best price last a binary-search insert
 * or delete shifts (`copyWithin`) only the few levels above it, and reading the top N walks the tail without
 * sorting or allocating. Both sides share the code by storing a sort key `sign * price` in ascending order:
 * `+price` for bids (highest last) and `-price` for asks (lowest last); negation is exact in floating point.
 *
 * @module
 */
import type { Level } from "../binance/types.ts";

const INITIAL_CAPACITY = 256;
const EMPTY = new Float64Array(0);

/** A sorted price-level array for one side of a book. */
export class PriceLadder {
  #keys: Float64Array;
  #qtys: Float64Array;
  #count = 0;
  readonly #sign: 1 | -1;
  readonly #maxLevels: number;
  /** Capacity of the first arrays, allocated at the first level (a book waiting for its snapshot holds none). */
  readonly #initial: number;
  /** Most levels held before a trim: the arrays never grow past it. */
  readonly #limit: number;

  /**
   * @param sign `1` for bids (best = highest price), `-1` for asks (best = lowest price).
   * @param capacity number of levels of the first arrays (allocated with the first level); they double when
   *   full, up to the most levels held before a trim.
   * @param maxLevels levels kept: past it (plus an eighth, so trimming is rare) the worst are dropped. A book
   *   deeper than its REST snapshot is partial anyway; the cap bounds a book's memory whatever the stream sends.
   */
  constructor(sign: 1 | -1, capacity = INITIAL_CAPACITY, maxLevels = Infinity) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Cannot create a price ladder: capacity must be a positive integer, got ${capacity}`,
      );
    }
    if (!(maxLevels >= 1)) {
      throw new RangeError(`Cannot create a price ladder: maxLevels must be at least 1, got ${maxLevels}`);
    }
    this.#sign = sign;
    this.#maxLevels = maxLevels;
    this.#initial = capacity;
    this.#limit = maxLevels + (maxLevels >> 3) + 1;
    this.#keys = EMPTY;
    this.#qtys = EMPTY;
  }

  /** Number of price levels. */
  get size(): number {
    return this.#count;
  }

  /** Levels the arrays hold before they grow (16 bytes each): 0 until the first level. */
  get capacity(): number {
    return this.#keys.length;
  }

  /** Best price, or `undefined` when the side is empty. */
  best(): number | undefined {
    return this.#count === 0 ? undefined : this.#keys[this.#count - 1]! * this.#sign;
  }

  /** Sets the quantity at `price`; a quantity of 0 removes the level (absent levels are a no-op). */
  set(price: number, qty: number): void {
    const key = price * this.#sign;
    const keys = this.#keys;
    const count = this.#count;
    const i = this.#lowerBound(key);
    if (i < count && keys[i] === key) {
      if (qty === 0) {
        keys.copyWithin(i, i + 1, count);
        this.#qtys.copyWithin(i, i + 1, count);
        this.#count = count - 1;
      } else {
        this.#qtys[i] = qty;
      }
      return;
    }
    if (qty === 0) return;
    if (count === keys.length) this.#grow(count + 1);
    // #grow may have replaced the arrays.
    this.#keys.copyWithin(i + 1, i, count);
    this.#qtys.copyWithin(i + 1, i, count);
    this.#keys[i] = key;
    this.#qtys[i] = qty;
    this.#count = count + 1;
    if (this.#count >= this.#limit) this.#trim();
  }

  /** Drops the worst levels (the start of the arrays) beyond `maxLevels`. */
  #trim(): void {
    const drop = this.#count - this.#maxLevels;
    this.#keys.copyWithin(0, drop, this.#count);
    this.#qtys.copyWithin(0, drop, this.#count);
    this.#count = this.#maxLevels;
  }

  /**
   * Replaces the side with `levels` (best first, as in a REST snapshot). Levels of quantity 0 are skipped;
   * input that is not strictly best-first is still accepted, one `set` at a time (later duplicates win).
   */
  reset(levels: readonly Level[]): void {
    this.#count = 0;
    if (levels.length > this.#keys.length) this.#grow(levels.length);
    const keys = this.#keys;
    const qtys = this.#qtys;
    let n = 0;
    // Best first in, best last stored: walk the input backwards so keys come out ascending.
    for (let j = levels.length - 1; j >= 0; j--) {
      const level = levels[j]!;
      const qty = level[1];
      if (qty === 0) continue;
      const key = level[0] * this.#sign;
      if (n > 0 && !(key > keys[n - 1]!)) return this.#resetUnsorted(levels);
      keys[n] = key;
      qtys[n] = qty;
      n++;
    }
    this.#count = n;
    if (n > this.#maxLevels) this.#trim();
  }

  /** Removes every level; the capacity is kept for reuse. */
  clear(): void {
    this.#count = 0;
  }

  /**
   * Copies the best `n` levels (fewer if the side is shorter) into caller-owned arrays, best first.
   * Returns how many levels were written.
   *
   * @throws {RangeError} if an output array is shorter than `n`.
   */
  top(n: number, outPrices: Float64Array, outQtys: Float64Array): number {
    if (outPrices.length < n || outQtys.length < n) {
      throw new RangeError(
        `Cannot copy the top ${n} levels: output arrays hold ${outPrices.length} prices and ${outQtys.length} quantities`,
      );
    }
    const k = Math.min(n, this.#count);
    const last = this.#count - 1;
    for (let j = 0; j < k; j++) {
      outPrices[j] = this.#keys[last - j]! * this.#sign;
      outQtys[j] = this.#qtys[last - j]!;
    }
    return k;
  }

  /**
   * Every level as `[price, qty, price, qty, …]`, best first, in a new array (one allocation per side, no array
   * per level).
   */
  levels(): Float64Array {
    const out = new Float64Array(2 * this.#count);
    this.copyLevels(out, 0);
    return out;
  }

  /**
   * Writes every level as `[price, qty, …]`, best first, into `out` from index `at` (checkpoints copy all books
   * into one reused array this way) and returns how many levels were written.
   *
   * @throws {RangeError} if `out` has no room for `2 * size` numbers from `at`.
   */
  copyLevels(out: Float64Array, at: number): number {
    const n = this.#count;
    if (at < 0 || at + 2 * n > out.length) {
      throw new RangeError(`Cannot copy ${n} levels at ${at}: the output array holds ${out.length} numbers`);
    }
    for (let j = 0; j < n; j++) {
      out[at + 2 * j] = this.#keys[n - 1 - j]! * this.#sign;
      out[at + 2 * j + 1] = this.#qtys[n - 1 - j]!;
    }
    return n;
  }

  #resetUnsorted(levels: readonly Level[]): void {
    this.#count = 0;
    for (const [price, qty] of levels) this.set(price, qty);
  }

  /** Index of the first key >= `key` (== count when every key is smaller). */
  #lowerBound(key: number): number {
    const keys = this.#keys;
    let lo = 0;
    let hi = this.#count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #grow(needed: number): void {
    let capacity = Math.max(this.#keys.length * 2, this.#initial);
    while (capacity < needed) capacity *= 2;
    // Doubling past the trim point would leave most of the last arrays unused for good.
    capacity = Math.min(capacity, Math.max(needed, this.#limit));
    const keys = new Float64Array(capacity);
    const qtys = new Float64Array(capacity);
    keys.set(this.#keys.subarray(0, this.#count));
    qtys.set(this.#qtys.subarray(0, this.#count));
    this.#keys = keys;
    this.#qtys = qtys;
  }
}

/**
 * Compact append-only logs (ground truth, candle history): fixed-width rows of numbers in one growable `Float64Array`
 * (row-major), optionally with a variable-length list of numbers per row (a diff's levels) in a second one. A
 * row costs 8 bytes a column instead of an event object's hundreds, and typed arrays are not traced by the
 * garbage collector, so a whole market's truth window and history stay small and cheap. Rows are dropped from
 * the front (the truth window moving on, history trimmed).
 */

/**
 * Rows of `width` numbers, each with an optional list of numbers.
 *
 * @example
 * ```ts
 * const log = new ColumnLog(2);
 * log.push([1000, 7], [6160201, 5]);
 * log.get(0, 1); // 7
 * log.list(0);   // Float64Array [6160201, 5]
 * ```
 */
export class ColumnLog {
  readonly width: number;
  #rows = new Float64Array(0);
  #length = 0;
  /** List offsets: row i's list is `#pool[#starts[i] .. #starts[i + 1])`. */
  #starts = new Float64Array(1);
  #pool = new Float64Array(0);

  constructor(width: number) {
    this.width = width;
  }

  /** Number of rows. */
  get length(): number {
    return this.#length;
  }

  /** Appends a row of `width` numbers and its list. */
  push(row: readonly number[], list: readonly number[] = []): void {
    const w = this.width;
    if ((this.#length + 1) * w > this.#rows.length) {
      this.#rows = grow(this.#rows, (this.#length + 1) * w);
      this.#starts = grow(this.#starts, this.#length + 2);
    }
    this.#rows.set(row, this.#length * w);
    const start = this.#starts[this.#length]!;
    if (start + list.length > this.#pool.length) this.#pool = grow(this.#pool, start + list.length);
    this.#pool.set(list, start);
    this.#length++;
    this.#starts[this.#length] = start + list.length;
  }

  /** Column `column` of row `i`. */
  get(i: number, column: number): number {
    return this.#rows[i * this.width + column]!;
  }

  /** Sets column `column` of row `i`. */
  set(i: number, column: number, value: number): void {
    this.#rows[i * this.width + column] = value;
  }

  /** Row `i`'s list (a view: copy it before the log changes). */
  list(i: number): Float64Array {
    return this.#pool.subarray(this.#starts[i]!, this.#starts[i + 1]!);
  }

  /** Index of the first row whose `column` is ≥ `value` (the column must ascend), or `length`. */
  firstAtLeast(column: number, value: number): number {
    let lo = 0;
    let hi = this.#length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.get(mid, column) < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Removes the first `n` rows. */
  dropFirst(n: number): void {
    if (n <= 0) return;
    const w = this.width;
    this.#rows.copyWithin(0, n * w, this.#length * w);
    const shift = this.#starts[n]!;
    this.#pool.copyWithin(0, shift, this.#starts[this.#length]!);
    for (let i = n; i <= this.#length; i++) this.#starts[i - n] = this.#starts[i]! - shift;
    this.#length -= n;
  }
}

/** A copy of `a` with room for at least `needed` elements (doubling). */
function grow(a: Float64Array<ArrayBuffer>, needed: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(Math.max(needed, a.length * 2, 16));
  b.set(a);
  return b;
}

/**
 * The simulator's limit-order book: integer price ticks → integer lot quantities, per side, with the prices kept
 * sorted best-first so that the top of book, the N best levels and the worst level are O(1) reads. A side holds
 * at most a few thousand levels, so a sorted array with binary-search insertion is cheaper than a tree.
 */

/** Which side of the book. */
export type Side = "bid" | "ask";

/**
 * One side of the book.
 *
 * @example
 * ```ts
 * const bids = new BookSide("bid");
 * bids.set(100, 5);
 * bids.set(101, 2);
 * bids.bestTick(); // 101
 * ```
 */
export class BookSide {
  readonly side: Side;
  /** Price ticks, best first (descending for bids, ascending for asks). */
  readonly #ticks: number[] = [];
  readonly #lots = new Map<number, number>();

  constructor(side: Side) {
    this.side = side;
  }

  /** Number of levels. */
  get size(): number {
    return this.#ticks.length;
  }

  /** Quantity at `tick` in lots, 0 when there is no level. */
  get(tick: number): number {
    return this.#lots.get(tick) ?? 0;
  }

  /** The i-th best price tick (0 = best), or undefined past the end. */
  tickAt(i: number): number | undefined {
    return this.#ticks[i];
  }

  /** Best price tick, or undefined when the side is empty. */
  bestTick(): number | undefined {
    return this.#ticks[0];
  }

  /** Worst (farthest from the spread) price tick, or undefined when empty. */
  worstTick(): number | undefined {
    return this.#ticks[this.#ticks.length - 1];
  }

  /** Sets the absolute quantity at `tick`; 0 removes the level. */
  set(tick: number, lots: number): void {
    const had = this.#lots.has(tick);
    if (lots === 0) {
      if (!had) return;
      this.#lots.delete(tick);
      this.#ticks.splice(this.#indexOf(tick), 1);
      return;
    }
    this.#lots.set(tick, lots);
    if (!had) this.#ticks.splice(this.#indexOf(tick), 0, tick);
  }

  /** Appends the best `n` levels to `out` as flat `[tick, lots, tick, lots, …]` pairs. */
  topInto(n: number, out: number[]): number[] {
    const count = Math.min(n, this.#ticks.length);
    for (let i = 0; i < count; i++) {
      const tick = this.#ticks[i]!;
      out.push(tick, this.#lots.get(tick)!);
    }
    return out;
  }

  /** Position where `tick` is or would be inserted, keeping best-first order. */
  #indexOf(tick: number): number {
    const ticks = this.#ticks;
    let lo = 0;
    let hi = ticks.length;
    const bid = this.side === "bid";
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const t = ticks[mid]!;
      if (bid ? t > tick : t < tick) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * Both sides of one symbol's book.
 *
 * @example
 * ```ts
 * const book = new BookModel();
 * book.side("ask").set(101, 3);
 * book.top(10); // { bids: [], asks: [101, 3] }
 * ```
 */
export class BookModel {
  readonly bids = new BookSide("bid");
  readonly asks = new BookSide("ask");

  /** The side by name. */
  side(side: Side): BookSide {
    return side === "bid" ? this.bids : this.asks;
  }

  /** Applies flat `[tick, lots, …]` pairs to a side (absolute quantities, 0 removes). */
  apply(side: Side, pairs: ArrayLike<number>): void {
    const s = this.side(side);
    for (let i = 0; i + 1 < pairs.length; i += 2) s.set(pairs[i]!, pairs[i + 1]!);
  }

  /** The best `n` levels of each side as flat pairs. */
  top(n: number): { bids: number[]; asks: number[] } {
    return { bids: this.bids.topInto(n, []), asks: this.asks.topInto(n, []) };
  }
}

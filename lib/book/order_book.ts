/**
 * A local L2 order book: two {@link PriceLadder}s and the update id the book is at.
 *
 * It knows nothing of sequencing; `BookSync` (sync.ts) decides which snapshot and diffs reach it.
 *
 * @module
 */
import type { Level } from "../binance/types.ts";
import { PriceLadder } from "./price_ladder.ts";

/** A book side as written in the output tables. */
export type Side = "bid" | "ask";

/** The parts of a REST snapshot the book needs (a `DepthSnapshot` fits). */
export interface BookSnapshot {
  lastUpdateId: number;
  bids: readonly Level[];
  asks: readonly Level[];
}

/** The parts of a diff the book needs (a `DepthDiff` fits). */
export interface BookUpdate {
  finalUpdateId: number;
  bids: readonly Level[];
  asks: readonly Level[];
}

/**
 * An L2 book of price levels per side.
 *
 * @example
 * ```ts
 * import { OrderBook } from "./order_book.ts";
 * const book = new OrderBook();
 * book.reset({ lastUpdateId: 10, bids: [[100, 1], [99, 2]], asks: [[101, 3]] });
 * book.apply({ finalUpdateId: 12, bids: [[100, 0]], asks: [[100.5, 4]] });
 * book.bestBid(); // 99
 * book.bestAsk(); // 100.5
 * book.lastUpdateId; // 12
 * ```
 */
export class OrderBook {
  readonly #bids: PriceLadder;
  readonly #asks: PriceLadder;
  #lastUpdateId = 0;

  /**
   * @param capacity levels per side of the first arrays, allocated with a side's first level (they grow by
   *   doubling, up to the trim point of `maxLevels`).
   * @param maxLevels levels kept per side (the worst beyond it are dropped; see {@link PriceLadder}).
   */
  constructor(capacity?: number, maxLevels?: number) {
    this.#bids = new PriceLadder(1, capacity, maxLevels);
    this.#asks = new PriceLadder(-1, capacity, maxLevels);
  }

  /** Update id of the snapshot or of the last applied diff (0 before the first reset). */
  get lastUpdateId(): number {
    return this.#lastUpdateId;
  }

  /** Total number of price levels, both sides. */
  get size(): number {
    return this.#bids.size + this.#asks.size;
  }

  /** Number of price levels on one side. */
  depth(side: Side): number {
    return this.#ladder(side).size;
  }

  /** Highest bid price, or `undefined` if there are no bids. */
  bestBid(): number | undefined {
    return this.#bids.best();
  }

  /** Lowest ask price, or `undefined` if there are no asks. */
  bestAsk(): number | undefined {
    return this.#asks.best();
  }

  /** Sets one level to an absolute quantity; 0 removes it (removing an absent level is a no-op). */
  set(side: Side, price: number, qty: number): void {
    this.#ladder(side).set(price, qty);
  }

  /** Replaces the whole book with a snapshot (levels best first) and takes its update id. */
  reset(snapshot: BookSnapshot): void {
    this.#bids.reset(snapshot.bids);
    this.#asks.reset(snapshot.asks);
    this.#lastUpdateId = snapshot.lastUpdateId;
  }

  /** Applies a diff's levels in order and moves the book to its final update id. */
  apply(update: BookUpdate): void {
    setAll(this.#bids, update.bids);
    setAll(this.#asks, update.asks);
    this.#lastUpdateId = update.finalUpdateId;
  }

  /** Every level of one side as `[price, qty, …]`, best first (see {@link PriceLadder.levels}). */
  levels(side: Side): Float64Array {
    return this.#ladder(side).levels();
  }

  /** Writes every level of one side into `out` from `at`, best first (see {@link PriceLadder.copyLevels}). */
  copyLevels(side: Side, out: Float64Array, at: number): number {
    return this.#ladder(side).copyLevels(out, at);
  }

  /** Empties the book (it is no longer valid) and forgets its update id. */
  clear(): void {
    this.#bids.clear();
    this.#asks.clear();
    this.#lastUpdateId = 0;
  }

  /**
   * Copies the best `n` levels of one side into caller-owned arrays, best first, and returns how many were
   * written (fewer than `n` when the side is shorter). Nothing is allocated.
   *
   * @throws {RangeError} if an output array is shorter than `n`.
   */
  top(side: Side, n: number, outPrices: Float64Array, outQtys: Float64Array): number {
    return this.#ladder(side).top(n, outPrices, outQtys);
  }

  #ladder(side: Side): PriceLadder {
    return side === "bid" ? this.#bids : this.#asks;
  }
}

function setAll(ladder: PriceLadder, levels: readonly Level[]): void {
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    ladder.set(level[0], level[1]);
  }
}

/**
 * A FIFO queue with a maximum length that evicts its oldest item when full.
 *
 * Backed by a plain array and a head index; the consumed prefix is compacted away once it is at least half
 * the array, so push and shift are amortised O(1) and indexed reads need no copying.
 *
 * @module
 */

/** Compact only past this many consumed slots, so small queues never move items. */
const COMPACT_MIN = 1024;

/**
 * A bounded FIFO queue that drops the oldest item on overflow.
 *
 * @example
 * ```ts
 * import { BoundedQueue } from "./bounded_queue.ts";
 * const q = new BoundedQueue<string>(2);
 * q.push("a");
 * q.push("b");
 * q.push("c"); // returns "a", evicted
 * q.shift(); // "b"
 * ```
 */
export class BoundedQueue<T> {
  readonly #items: (T | undefined)[] = [];
  #head = 0;
  readonly #max: number;

  /** @throws {RangeError} if `max` is not a positive integer. */
  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`Cannot create a bounded queue: max must be a positive integer, got ${max}`);
    }
    this.#max = max;
  }

  /** Maximum number of items held. */
  get max(): number {
    return this.#max;
  }

  /** Number of items held. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Appends `item`; if the queue was full, evicts and returns the oldest item. */
  push(item: T): T | undefined {
    const evicted = this.size === this.#max ? this.shift() : undefined;
    this.#items.push(item);
    return evicted;
  }

  /** The item at position `i` from the oldest (0), or `undefined` if out of range. */
  at(i: number): T | undefined {
    return i >= 0 && i < this.size ? this.#items[this.#head + i] : undefined;
  }

  /** Removes and returns the oldest item, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined; // let the item be collected
    this.#head++;
    this.#compact();
    return item;
  }

  /** Removes the `n` oldest items (all of them if `n >= size`). */
  drop(n: number): void {
    const end = this.#head + Math.min(n, this.size);
    this.#items.fill(undefined, this.#head, end);
    this.#head = end;
    this.#compact();
  }

  /** Removes every item. */
  clear(): void {
    this.#items.length = 0;
    this.#head = 0;
  }

  #compact(): void {
    const items = this.#items;
    if (this.#head === items.length) {
      this.clear();
    } else if (this.#head >= COMPACT_MIN && this.#head * 2 >= items.length) {
      items.copyWithin(0, this.#head);
      items.length -= this.#head;
      this.#head = 0;
    }
  }
}

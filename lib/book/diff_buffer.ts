/**
 * The diffs a book buffers while it waits for a snapshot, packed in typed arrays.
 *
 * At the whole market, hundreds of books wait minutes for their snapshots (the REST weight budget paces them), and
 * each holds its last ~10 s of diffs (depth_stream.ts). As parsed objects (an array per level) those were tens of MiB of
 * small objects that every major GC marked; packed, a level is 16 bytes outside the JS heap and a diff 64 more.
 * A diff comes back out as a fresh {@link DepthDiff} only when its book applies it.
 *
 * @module
 */
import type { DepthDiff } from "../binance/types.ts";
import type { DiffIds } from "./sequencer.ts";

/** Header fields per diff: E, T, U, u, pu (NaN for null), bid count, ask count, arrival (NaN when unset). */
const FIELDS = 8;
const INITIAL_DIFFS = 16;
/** Room for this many levels at least, when the level store is (re)allocated. */
const INITIAL_LEVELS = 256;

/**
 * A bounded FIFO of one symbol's depth diffs; pushing onto a full buffer evicts the oldest.
 *
 * @example
 * ```ts
 * import type { DepthDiff } from "../binance/types.ts";
 * import { DiffBuffer } from "./diff_buffer.ts";
 * const buffer = new DiffBuffer("BNBBTC", 2);
 * const diff = (u: number): DepthDiff => ({
 *   symbol: "BNBBTC", eventTime: u, transactionTime: null,
 *   firstUpdateId: u, finalUpdateId: u, prevFinalUpdateId: null, bids: [[0.0024, u]], asks: [],
 * });
 * buffer.push(diff(1));
 * buffer.push(diff(2));
 * buffer.push(diff(3)); // true: diff 1 was evicted
 * buffer.ids(0).finalUpdateId; // 2
 * buffer.shift()!.bids; // [[0.0024, 2]]
 * ```
 */
export class DiffBuffer {
  /** The symbol of every diff. */
  readonly symbol: string;
  /** Most diffs held. */
  readonly max: number;

  #heads = new Float64Array(0);
  #first = 0;
  #size = 0;
  #levels = new Float64Array(0);
  /** Levels of the held diffs are `#levels[#levelStart .. #levelEnd)`, as price, quantity pairs. */
  #levelStart = 0;
  #levelEnd = 0;
  readonly #ids: DiffIds;

  /** @throws {RangeError} if `max` is not a positive integer. */
  constructor(symbol: string, max: number) {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`Cannot create a diff buffer: max must be a positive integer, got ${max}`);
    }
    this.symbol = symbol;
    this.max = max;
    this.#ids = { symbol, firstUpdateId: 0, finalUpdateId: 0, prevFinalUpdateId: null };
  }

  /** Number of diffs held. */
  get size(): number {
    return this.#size;
  }

  /** Appends a copy of `diff`; returns true if the buffer was full and its oldest diff was evicted. */
  push(diff: DepthDiff): boolean {
    const evicted = this.#size === this.max;
    if (evicted) this.drop(1);
    const levels = diff.bids.length + diff.asks.length;
    this.#reserve(levels);
    const capacity = this.#heads.length / FIELDS;
    const at = ((this.#first + this.#size) % capacity) * FIELDS;
    const heads = this.#heads;
    heads[at] = diff.eventTime;
    heads[at + 1] = diff.transactionTime ?? NaN;
    heads[at + 2] = diff.firstUpdateId;
    heads[at + 3] = diff.finalUpdateId;
    heads[at + 4] = diff.prevFinalUpdateId ?? NaN;
    heads[at + 5] = diff.bids.length;
    heads[at + 6] = diff.asks.length;
    heads[at + 7] = diff.localUs ?? NaN;
    const end = pack(this.#levels, this.#levelEnd, diff.bids);
    this.#levelEnd = pack(this.#levels, end, diff.asks);
    this.#size++;
    return evicted;
  }

  /**
   * The ids of the diff at position `i` from the oldest (0). The object is reused: read it before the next call.
   *
   * @throws {RangeError} if `i` is out of range.
   */
  ids(i: number): DiffIds {
    const at = this.#head(i);
    const heads = this.#heads;
    const ids = this.#ids;
    ids.firstUpdateId = heads[at + 2]!;
    ids.finalUpdateId = heads[at + 3]!;
    ids.prevFinalUpdateId = orNull(heads[at + 4]!);
    return ids;
  }

  /** Removes the oldest diff and returns it as a new object, or `undefined` when empty. */
  shift(): DepthDiff | undefined {
    if (this.#size === 0) return undefined;
    const at = this.#head(0);
    const heads = this.#heads;
    let start = this.#levelStart;
    const bids = unpack(this.#levels, start, heads[at + 5]!);
    start += heads[at + 5]! * 2;
    const asks = unpack(this.#levels, start, heads[at + 6]!);
    const diff: DepthDiff = {
      symbol: this.symbol,
      eventTime: heads[at]!,
      transactionTime: orNull(heads[at + 1]!),
      firstUpdateId: heads[at + 2]!,
      finalUpdateId: heads[at + 3]!,
      prevFinalUpdateId: orNull(heads[at + 4]!),
      bids,
      asks,
    };
    const localUs = heads[at + 7]!;
    if (!Number.isNaN(localUs)) diff.localUs = localUs;
    this.drop(1);
    return diff;
  }

  /** Removes the `n` oldest diffs (all of them if `n >= size`). */
  drop(n: number): void {
    const count = Math.min(n, this.#size);
    if (count === this.#size) return this.clear();
    const capacity = this.#heads.length / FIELDS;
    for (let i = 0; i < count; i++) {
      const at = this.#head(i);
      this.#levelStart += (this.#heads[at + 5]! + this.#heads[at + 6]!) * 2;
    }
    this.#first = (this.#first + count) % capacity;
    this.#size -= count;
  }

  /** Removes every diff and gives back the storage: a synced book seldom buffers again, and 2,000 books add up. */
  clear(): void {
    this.#first = 0;
    this.#size = 0;
    this.#levelStart = 0;
    this.#levelEnd = 0;
    this.#levels = new Float64Array(0);
    this.#heads = new Float64Array(0);
  }

  /** Offset of the header of the diff at position `i`. */
  #head(i: number): number {
    if (!(i >= 0 && i < this.#size)) {
      throw new RangeError(`Cannot read diff ${i} of ${this.#size} buffered for ${this.symbol}`);
    }
    return ((this.#first + i) % (this.#heads.length / FIELDS)) * FIELDS;
  }

  /** Room for one more diff of `levels` levels. */
  #reserve(levels: number): void {
    const capacity = this.#heads.length / FIELDS;
    if (this.#size === capacity) {
      const heads = new Float64Array(Math.min(this.max, Math.max(INITIAL_DIFFS, capacity * 2)) * FIELDS);
      for (let i = 0; i < this.#size; i++) {
        const from = this.#head(i);
        heads.set(this.#heads.subarray(from, from + FIELDS), i * FIELDS);
      }
      this.#heads = heads;
      this.#first = 0;
    }
    const need = levels * 2;
    if (this.#levelEnd + need <= this.#levels.length) return;
    // Compact in place while that frees a quarter of the store, else grow by half: a full buffer evicts as it
    // pushes, so its levels stay about the same and the store about 1.5 times them.
    const used = this.#levelEnd - this.#levelStart;
    let target = this.#levels;
    if (used + need > this.#levels.length * 0.75) {
      target = new Float64Array(Math.max(INITIAL_LEVELS * 2, Math.ceil((used + need) * 1.5)));
    }
    if (target === this.#levels) target.copyWithin(0, this.#levelStart, this.#levelEnd);
    else target.set(this.#levels.subarray(this.#levelStart, this.#levelEnd));
    this.#levels = target;
    this.#levelStart = 0;
    this.#levelEnd = used;
  }
}

function pack(into: Float64Array, at: number, levels: DepthDiff["bids"]): number {
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    into[at++] = level[0];
    into[at++] = level[1];
  }
  return at;
}

function unpack(from: Float64Array, at: number, count: number): DepthDiff["bids"] {
  const levels: DepthDiff["bids"] = new Array(count);
  for (let i = 0; i < count; i++, at += 2) levels[i] = [from[at]!, from[at + 1]!];
  return levels;
}

function orNull(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}

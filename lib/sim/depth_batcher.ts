/**
 * Batches book changes into `depthUpdate` diff events, one per window of `speedMs` aligned to the epoch (as
 * Binance's `@depth@100ms`): the latest absolute quantity per changed level, the first and final update id of
 * the window, and the previous event's final id (`pu`).
 */
import type { Side } from "./book_model.ts";
import type { DiffEvent } from "./events.ts";
import type { SymbolSpec } from "./symbol_spec.ts";

/**
 * Collects the changes of one diff stream.
 *
 * @example
 * ```ts
 * import { symbolSpec } from "./symbol_spec.ts";
 * const b = new DepthBatcher(symbolSpec("spot", "BTCUSDT"), "btcusdt@depth@100ms", 100, 1000, 0);
 * b.record("bid", 6160201, 5, 1001, 10);
 * b.flush(100); // { firstId: 1001, finalId: 1001, prevFinalId: 1000, bids: [6160201, 5], … }
 * ```
 */
export class DepthBatcher {
  readonly stream: string;
  readonly speedMs: number;
  readonly #spec: SymbolSpec;
  readonly #bids = new Map<number, number>();
  readonly #asks = new Map<number, number>();
  #firstId = 0;
  #finalId = 0;
  #prevFinalId: number;
  #lastChange = 0;
  #windowEnd: number;

  /** `startId` is the book's update id before the first change; `now` fixes the first window. */
  constructor(spec: SymbolSpec, stream: string, speedMs: number, startId: number, now: number) {
    this.#spec = spec;
    this.stream = stream;
    this.speedMs = speedMs;
    this.#prevFinalId = startId;
    this.#windowEnd = this.#boundaryAfter(now);
  }

  /** Records one level change (absolute quantity, 0 = removed) made with update id `id` at `time`. */
  record(side: Side, tick: number, lots: number, id: number, time: number): void {
    if (this.#firstId === 0) this.#firstId = id;
    this.#finalId = id;
    this.#lastChange = time;
    (side === "bid" ? this.#bids : this.#asks).set(tick, lots);
  }

  /**
   * Closes the window if it ended by `now` (or at once when `early`, before a halt): returns its event, or null
   * if it is still open or had no change.
   */
  flush(now: number, early = false): DiffEvent | null {
    if (now < this.#windowEnd && !early) return null;
    this.#windowEnd = this.#boundaryAfter(now);
    if (this.#firstId === 0) return null;
    const event: DiffEvent = {
      kind: "depth",
      spec: this.#spec,
      stream: this.stream,
      speedMs: this.speedMs,
      eventTime: now,
      transactionTime: this.#lastChange,
      firstId: this.#firstId,
      finalId: this.#finalId,
      prevFinalId: this.#prevFinalId,
      bids: flatten(this.#bids),
      asks: flatten(this.#asks),
    };
    this.#prevFinalId = this.#finalId;
    this.#firstId = 0;
    this.#bids.clear();
    this.#asks.clear();
    return event;
  }

  #boundaryAfter(t: number): number {
    return (Math.floor(t / this.speedMs) + 1) * this.speedMs;
  }
}

function flatten(levels: Map<number, number>): number[] {
  const out = new Array<number>(levels.size * 2);
  let i = 0;
  for (const [tick, lots] of levels) {
    out[i++] = tick;
    out[i++] = lots;
  }
  return out;
}

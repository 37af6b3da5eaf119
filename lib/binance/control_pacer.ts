/**
 * Pacing of the JSON control messages we send on a market-data socket, so that the server never counts more
 * than its per-connection limit of incoming messages per second (going over disconnects, repeated violations
 * get the IP banned).
 *
 * Pure: the caller passes the time (ms, any monotonic origin).
 */
import { type Market, PROFILES } from "./markets.ts";

/** A sliding-window budget: at most `maxPerWindow` sends in any `windowMs`. */
export interface Pacing {
  maxPerWindow: number;
  windowMs: number;
}

/**
 * The default budget for a market: one message below the limit, reserved for the pong Deno sends by itself
 * when the server pings, and a window padded by 10 % so that network jitter, which can bunch our messages
 * together on arrival, cannot push the server's count to the limit.
 *
 * @example
 * ```ts
 * defaultPacing("spot"); // { maxPerWindow: 4, windowMs: 1100 }
 * ```
 */
export function defaultPacing(market: Market): Pacing {
  // Binance's limit of incoming messages per second per connection counts pings, pongs and JSON messages alike.
  return { maxPerWindow: PROFILES[market].controlMessagesPerSecond - 1, windowMs: 1100 };
}

/**
 * Sliding-window limiter over the last `maxPerWindow` send times (a ring, no allocation per send).
 *
 * @example
 * ```ts
 * const p = new ControlPacer({ maxPerWindow: 2, windowMs: 1000 });
 * p.record(0); p.record(10);
 * p.waitMs(20); // 980: the send at 0 must leave the window first
 * ```
 */
export class ControlPacer {
  readonly #windowMs: number;
  readonly #sent: Float64Array;
  #next = 0;

  constructor(pacing: Pacing) {
    if (!Number.isInteger(pacing.maxPerWindow) || pacing.maxPerWindow < 1 || !(pacing.windowMs > 0)) {
      throw new RangeError(
        `Cannot pace control messages: need an integer maxPerWindow >= 1 and windowMs > 0: current values are ${pacing.maxPerWindow}, ${pacing.windowMs}`,
      );
    }
    this.#windowMs = pacing.windowMs;
    // -Infinity = an empty slot, always outside the window.
    this.#sent = new Float64Array(pacing.maxPerWindow).fill(-Infinity);
  }

  /** Milliseconds to wait from `nowMs` before the next send fits the budget; 0 = send now. */
  waitMs(nowMs: number): number {
    // The oldest of the last maxPerWindow sends must be a full window old.
    return Math.max(0, this.#sent[this.#next]! + this.#windowMs - nowMs);
  }

  /** Records a send at `nowMs`. */
  record(nowMs: number): void {
    this.#sent[this.#next] = nowMs;
    this.#next = (this.#next + 1) % this.#sent.length;
  }
}

/**
 * Pure pacing decisions for the REST client: how long to wait before the next request so Binance's budgets are
 * never exceeded, how long to back off after a transient failure, and how long a 429 or 418 (its `Retry-After`)
 * stops every request.
 * Every function takes the time as an argument; nothing here reads a clock or sleeps.
 */

/**
 * A fixed-window weight budget as Binance counts REQUEST_WEIGHT: usage resets at every interval boundary of the
 * server clock and `X-MBX-USED-WEIGHT-1M` reports it after each response. Only `(1 - margin)` of the limit is
 * spent, leaving room for other users of the same IP and for clock skew.
 *
 * @example
 * ```ts
 * const w = new WeightWindow(100, { margin: 0.1 });
 * w.observe(5, 85, 10_000); // header says 85 used
 * w.delay(10, 10_000); // 51_000: wait for the next minute (+1 s slack)
 * ```
 */
export class WeightWindow {
  #limit: number;
  readonly #intervalMs: number;
  readonly #margin: number;
  readonly #slackMs: number;
  #used = 0;
  #window = Number.NEGATIVE_INFINITY;

  constructor(limit: number, opts: { intervalMs?: number; margin?: number; slackMs?: number } = {}) {
    this.#limit = limit;
    this.#intervalMs = opts.intervalMs ?? 60_000;
    this.#margin = opts.margin ?? 0.1;
    this.#slackMs = opts.slackMs ?? 1_000;
  }

  /** The announced limit per interval. */
  get limit(): number {
    return this.#limit;
  }

  set limit(limit: number) {
    this.#limit = limit;
  }

  /** The part of the limit this client spends. */
  get budget(): number {
    return Math.floor(this.#limit * (1 - this.#margin));
  }

  /** Weight used in the window containing `now` (0 once the window has rolled over). */
  used(now: number): number {
    return Math.floor(now / this.#intervalMs) === this.#window ? this.#used : 0;
  }

  /**
   * Milliseconds to wait before a request of `weight` may be sent at `now`: 0 if it fits, else until just after
   * the next window starts. A request heavier than the whole budget may go alone into a fresh window.
   */
  delay(weight: number, now: number): number {
    const used = this.used(now);
    if (used === 0 || used + weight <= this.budget) return 0;
    return this.untilNextWindow(now);
  }

  /** Records a response: the server's `usedHeader` when present, else our own estimate (+`weight`). */
  observe(weight: number, usedHeader: number | null, now: number): void {
    const used = usedHeader ?? this.used(now) + weight;
    this.#window = Math.floor(now / this.#intervalMs);
    this.#used = used;
  }

  /** Milliseconds from `now` to just after the next window starts (the wait after a 429 without Retry-After). */
  untilNextWindow(now: number): number {
    return (Math.floor(now / this.#intervalMs) + 1) * this.#intervalMs + this.#slackMs - now;
  }
}

/**
 * A sliding-window request-count budget for limits Binance does not report in headers (fundingRate's
 * 500 per 5 min). Counts the requests sent in the last `intervalMs`.
 *
 * @example
 * ```ts
 * const b = new SlidingBudget(2, 1000, 0);
 * b.record(0); b.record(10);
 * b.delay(500); // 500: the request at 0 leaves the window at 1000
 * ```
 */
export class SlidingBudget {
  readonly #budget: number;
  readonly #intervalMs: number;
  readonly #sent: number[] = [];

  constructor(limit: number, intervalMs: number, margin = 0.1) {
    this.#budget = Math.max(1, Math.floor(limit * (1 - margin)));
    this.#intervalMs = intervalMs;
  }

  /** Milliseconds to wait before one more request may be sent at `now`. */
  delay(now: number): number {
    this.#prune(now);
    if (this.#sent.length < this.#budget) return 0;
    return this.#sent[this.#sent.length - this.#budget]! + this.#intervalMs - now;
  }

  /** Records a request sent at `now`. */
  record(now: number): void {
    this.#prune(now);
    this.#sent.push(now);
  }

  #prune(now: number): void {
    let drop = 0;
    while (drop < this.#sent.length && this.#sent[drop]! <= now - this.#intervalMs) drop++;
    if (drop > 0) this.#sent.splice(0, drop);
  }
}

/**
 * Exponential backoff with "equal jitter": half of the capped exponential delay is fixed, half random, so
 * retries never come back immediately yet many clients do not retry in lockstep. `attempt` starts at 1.
 *
 * @example
 * ```ts
 * backoffDelay(3, 500, 10_000, () => 0.5); // 1500 (2000 / 2 + 0.5 * 2000 / 2)
 * ```
 */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  const exp = Math.min(capMs, baseMs * 2 ** (attempt - 1));
  return Math.round(exp / 2 + random() * exp / 2);
}

/**
 * Reads a `Retry-After` header (delta seconds, or an HTTP date compared with `nowMs`) as milliseconds to wait;
 * null when absent or unreadable.
 *
 * @example
 * ```ts
 * retryAfterMs("7", 0); // 7000
 * ```
 */
export function retryAfterMs(header: string | null, nowMs: number): number | null {
  if (header === null || header.trim() === "") return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

const BAN_FALLBACK_MS = 120_000; // the shortest documented ban, when a 418 lacks Retry-After

/**
 * Milliseconds a 429 or 418 answer received at `nowMs` stops every request: its `Retry-After`, else for a 429
 * `untilNextWindowMs` (the weight window's reset) and for a 418 the shortest documented ban.
 *
 * @example
 * ```ts
 * blockMs(429, "7", 0, 50_000); // 7000
 * blockMs(429, null, 0, 50_000); // 50_000
 * blockMs(418, null, 0, 50_000); // 120_000
 * ```
 */
export function blockMs(
  status: 418 | 429,
  retryAfter: string | null,
  nowMs: number,
  untilNextWindowMs: number,
): number {
  return retryAfterMs(retryAfter, nowMs) ?? (status === 418 ? BAN_FALLBACK_MS : untilNextWindowMs);
}

/**
 * Binance's REST request-weight limit for one IP (everything on loopback is one IP): weight accumulates in
 * fixed windows (1 minute for REQUEST_WEIGHT); a request that would exceed the limit gets 429 with
 * `Retry-After`; a further over-limit request in the same window after a 429 earns a ban (418 with
 * `Retry-After`), 2 minutes at first and doubling for repeat offenders up to 3 days (docs/binance-api.md §3).
 */

/** The outcome of charging one request. */
export interface WeightVerdict {
  status: 200 | 429 | 418;
  /** Weight used in the current window after this request (the `X-MBX-USED-WEIGHT-1M` value). */
  used: number;
  /** Seconds to wait, for 429 and 418. */
  retryAfterSec: number;
}

const MAX_BAN_MS = 3 * 24 * 3_600_000;

/**
 * A fixed-window weight limiter.
 *
 * @example
 * ```ts
 * const limiter = new WeightLimiter(6000, 60_000, 120_000);
 * limiter.charge(250, Date.now()); // { status: 200, used: 250, retryAfterSec: 0 }
 * ```
 */
export class WeightLimiter {
  readonly limit: number;
  readonly #windowMs: number;
  readonly #banMs: number;
  #window = -1;
  #used = 0;
  #warned = false;
  #bannedUntil = 0;
  #offenses = 0;

  /** `banMs` is the first ban's length (Binance: 2 minutes); tests shorten it. */
  constructor(limit: number, windowMs: number, banMs: number) {
    this.limit = limit;
    this.#windowMs = windowMs;
    this.#banMs = banMs;
  }

  /** Weight used in the window containing `now`. */
  used(now: number): number {
    this.#roll(now);
    return this.#used;
  }

  /** Charges a request of `weight` at `now`. Rejected requests are not charged. */
  charge(weight: number, now: number): WeightVerdict {
    this.#roll(now);
    if (now < this.#bannedUntil) return this.#reject(418, this.#bannedUntil - now);
    if (this.#used + weight > this.limit) {
      if (!this.#warned) {
        this.#warned = true;
        return this.#reject(429, (this.#window + 1) * this.#windowMs - now);
      }
      this.#offenses++;
      const ban = Math.min(this.#banMs * 2 ** (this.#offenses - 1), MAX_BAN_MS);
      this.#bannedUntil = now + ban;
      return this.#reject(418, ban);
    }
    this.#used += weight;
    return { status: 200, used: this.#used, retryAfterSec: 0 };
  }

  #reject(status: 429 | 418, waitMs: number): WeightVerdict {
    return { status, used: this.#used, retryAfterSec: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  #roll(now: number): void {
    const window = Math.floor(now / this.#windowMs);
    if (window === this.#window) return;
    this.#window = window;
    this.#used = 0;
    this.#warned = false;
  }
}

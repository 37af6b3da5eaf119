/**
 * When to try a market-data socket again after it went down. Pure: the random source is injected and nothing
 * here reads the clock.
 *
 * The delay depends on how long the outage has lasted, not on how many attempts failed: a server that refuses
 * upgrades for a few seconds (a restart, a 503 or a 429 at the edge) is back within seconds, and each of its
 * quick refusals must not push the next attempt out by doubling. So:
 * - during the first minute of an outage every attempt comes 1–2 s after the last (`quickMs` with equal
 *   jitter: uniform in [quick/2, quick]);
 * - from then on the ceiling doubles every further minute (4, 8, 16, 32 s) up to `maxMs` (60 s) for long
 *   outages;
 * - a rate-limit answer (HTTP 429 on the upgrade, close code 1008) waits at least `throttledMs` (5 s), still
 *   not a long-outage delay; an IP ban (418) waits `bannedMs` (2 min, Binance's shortest ban); other 4xx
 *   refusals (403, 404, 451) wait `refusedMs` (30 s): they do not heal in seconds;
 * - a server-announced shutdown reconnects at once.
 *
 * The outage starts when a healthy socket (up `healthyAfterMs` and delivering data) goes down; a socket that
 * opens and dies at once does not start it over. Attempts of all the connections of a market also share a
 * {@link ConnectBudget}, and one connection that gets through wakes the others (see `connection.ts`).
 * @module
 */
import type { RetryClass } from "./backoff.ts";

/** Options of {@link ReconnectPolicy}. */
export interface ReconnectPolicyOptions {
  /** Ceiling of a delay during the first `quickForMs` of an outage. @default 2_000 */
  quickMs?: number;
  /** How long an outage is "short". @default 60_000 */
  quickForMs?: number;
  /** Ceiling of any delay. @default 60_000 */
  maxMs?: number;
  /** Least delay after a rate-limit answer. @default 5_000 */
  throttledMs?: number;
  /** Delay after an IP ban (HTTP 418). @default 120_000 */
  bannedMs?: number;
  /** Delay after another refusal (403, 404, 451). @default 30_000 */
  refusedMs?: number;
  /** A socket up this long that delivered data was healthy. @default 30_000 */
  healthyAfterMs?: number;
  /** Uniform random in [0, 1). @default Math.random */
  random?: () => number;
}

/**
 * The reconnect schedule (see the module docs).
 *
 * @example
 * ```ts
 * const p = new ReconnectPolicy({ random: () => 1 });
 * p.delayMs("transient", 3_000); // 2000: early in an outage
 * p.delayMs("transient", 150_000); // 8000: a long one
 * p.delayMs("throttled", 3_000); // 7500: 5 to 7.5 s, and random() = 1 takes the longest
 * ```
 */
export class ReconnectPolicy {
  readonly #quickMs: number;
  readonly #quickForMs: number;
  readonly #maxMs: number;
  readonly #throttledMs: number;
  readonly #bannedMs: number;
  readonly #refusedMs: number;
  readonly #random: () => number;
  /** A socket up this long that delivered data was healthy. */
  readonly healthyAfterMs: number;

  constructor(options: ReconnectPolicyOptions = {}) {
    this.#quickMs = options.quickMs ?? 2_000;
    this.#quickForMs = options.quickForMs ?? 60_000;
    this.#maxMs = options.maxMs ?? 60_000;
    this.#throttledMs = options.throttledMs ?? 5_000;
    this.#bannedMs = options.bannedMs ?? 120_000;
    this.#refusedMs = options.refusedMs ?? 30_000;
    this.healthyAfterMs = options.healthyAfterMs ?? 30_000;
    this.#random = options.random ?? Math.random;
    if (!(this.#quickMs > 0 && this.#maxMs >= this.#quickMs && this.#quickForMs > 0)) {
      throw new RangeError(
        `Cannot create reconnect policy: need 0 < quickMs <= maxMs and quickForMs > 0: current values are ${this.#quickMs}, ${this.#maxMs}, ${this.#quickForMs}`,
      );
    }
  }

  /** Ceiling of a transient delay `outageMs` into an outage. */
  ceilingMs(outageMs: number): number {
    if (outageMs < this.#quickForMs) return this.#quickMs;
    const minutes = Math.floor(outageMs / this.#quickForMs);
    return Math.min(this.#maxMs, this.#quickMs * 2 ** minutes);
  }

  /** Delay (ms) before the next attempt, for a disconnect of class `retry`, `outageMs` into the outage. */
  delayMs(retry: RetryClass, outageMs: number): number {
    const ceiling = this.ceilingMs(Math.max(0, outageMs));
    const jittered = Math.round(ceiling / 2 + this.#random() * ceiling / 2);
    switch (retry) {
      case "immediate":
        return 0;
      case "transient":
        return jittered;
      case "throttled":
        return Math.max(jittered, Math.round(this.#throttledMs * (1 + this.#random() / 2)));
      case "banned":
        return this.#bannedMs;
      case "refused":
        return Math.max(jittered, this.#refusedMs);
    }
  }
}

/** Options of {@link ConnectBudget}. */
export interface ConnectBudgetOptions {
  /** Attempts allowed per window. @default 250 (Binance allows 300 per 5 minutes per IP) */
  attempts?: number;
  /** @default 300_000 */
  windowMs?: number;
  /** Attempts that may go at once. @default 60 */
  burst?: number;
}

/**
 * A token bucket over connection attempts, shared by every connection of a market, so that many connections
 * retrying through an outage stay within Binance's "300 connection attempts per 5 minutes per IP".
 *
 * @example
 * ```ts
 * const b = new ConnectBudget({ attempts: 2, windowMs: 1000, burst: 1 });
 * b.waitMs(0); // 0
 * b.take(0);
 * b.waitMs(0); // 500: the next token refills half a window later
 * ```
 */
export class ConnectBudget {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #atMs = -Infinity;
  readonly #opened = new Set<() => void>();

  constructor(options: ConnectBudgetOptions = {}) {
    const attempts = options.attempts ?? 250;
    const windowMs = options.windowMs ?? 300_000;
    this.#burst = options.burst ?? 60;
    if (!(attempts > 0 && windowMs > 0 && this.#burst >= 1)) {
      throw new RangeError(
        `Cannot create connect budget: need attempts > 0, windowMs > 0, burst >= 1: current values are ${attempts}, ${windowMs}, ${this.#burst}`,
      );
    }
    this.#perMs = attempts / windowMs;
    this.#tokens = this.#burst;
  }

  /** How long until an attempt may go (0 = now). */
  waitMs(nowMs: number): number {
    this.#refill(nowMs);
    return this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) / this.#perMs);
  }

  /** Spends one attempt. */
  take(nowMs: number): void {
    this.#refill(nowMs);
    this.#tokens -= 1;
  }

  /** Tells every waiting connection that one of them got through: the server is back. */
  opened(): void {
    for (const wake of [...this.#opened]) wake();
  }

  /** Registers `wake` for {@link opened}; returns the unregistration. */
  onOpened(wake: () => void): () => void {
    this.#opened.add(wake);
    return () => this.#opened.delete(wake);
  }

  #refill(nowMs: number): void {
    if (Number.isFinite(this.#atMs)) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (nowMs - this.#atMs) * this.#perMs);
    }
    this.#atMs = Math.max(this.#atMs, nowMs);
  }
}

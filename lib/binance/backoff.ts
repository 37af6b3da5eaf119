/**
 * Exponential backoff with jitter, reset after a healthy session (the journal keeper reopens a failed journal
 * with it), and the classifier that sorts a socket's disconnect causes by how soon to come back.
 *
 * Pure: the random source is injected and nothing here reads the clock.
 */

/** How the delay is randomised. `none` is for tests and diagnostics. */
export type Jitter = "full" | "decorrelated" | "none";

/** Options for {@link Backoff}. */
export interface BackoffOptions {
  /** First delay (before jitter). @default 500 */
  initialMs?: number;
  /** Upper bound of any delay. @default 60_000 */
  maxMs?: number;
  /** Growth per failed attempt (full / none jitter). @default 2 */
  multiplier?: number;
  /** @default "full" */
  jitter?: Jitter;
  /** Uniform random in [0, 1). @default Math.random */
  random?: () => number;
}

/**
 * Exponential backoff. `full`: uniform in [0, min(max, initial·multiplier^n)]. `decorrelated`: uniform in
 * [initial, 3·previous], capped (spreads reconnect storms of many clients better than plain exponential).
 *
 * @example
 * ```ts
 * const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: "none" });
 * [b.next(), b.next(), b.next()]; // [100, 200, 400]
 * ```
 */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #multiplier: number;
  readonly #jitter: Jitter;
  readonly #random: () => number;
  #attempt = 0;
  #previousMs: number;

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 500;
    this.#maxMs = options.maxMs ?? 60_000;
    this.#multiplier = options.multiplier ?? 2;
    this.#jitter = options.jitter ?? "full";
    this.#random = options.random ?? Math.random;
    if (!(this.#initialMs > 0) || !(this.#maxMs >= this.#initialMs) || !(this.#multiplier >= 1)) {
      throw new RangeError(
        `Cannot create backoff: need 0 < initialMs <= maxMs and multiplier >= 1: current values are ${this.#initialMs}, ${this.#maxMs}, ${this.#multiplier}`,
      );
    }
    this.#previousMs = this.#initialMs;
  }

  /** Failed attempts since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** Delay before the next attempt, in ms; advances the sequence. */
  next(): number {
    const n = this.#attempt++;
    if (this.#jitter === "decorrelated") {
      const upper = Math.min(this.#maxMs, this.#previousMs * 3);
      this.#previousMs = this.#initialMs + this.#random() * (upper - this.#initialMs);
      return Math.round(this.#previousMs);
    }
    const ceiling = Math.min(this.#maxMs, this.#initialMs * this.#multiplier ** n);
    return Math.round(this.#jitter === "full" ? this.#random() * ceiling : ceiling);
  }

  /** Starts the sequence over. */
  reset(): void {
    this.#attempt = 0;
    this.#previousMs = this.#initialMs;
  }
}

/** Why a socket went away (or never came up). */
export type DisconnectCause =
  /** The peer closed (or the TCP connection broke: code 1005/1006). */
  | { kind: "closed"; code: number; reason: string }
  /** The socket failed; `status` is the HTTP status of a refused upgrade, null for network errors. */
  | { kind: "error"; message: string; status: number | null }
  /** Spot `serverShutdown` notice: the server is about to go away. */
  | { kind: "serverShutdown" }
  /** We dropped it: liveness watchdog or the owner asked (`reason` says why). */
  | { kind: "forced"; reason: string }
  /** The upgrade did not complete in time. */
  | { kind: "connectTimeout" };

/**
 * How soon to reconnect. Every cause is retriable on a market-data socket (there is no account state to
 * protect and a missing feed is always worse than a retry), but not every cause deserves the same pace:
 * - `immediate`: planned by the server; reconnect now, the backoff sequence is not advanced.
 * - `transient`: network trouble, 5xx, abnormal close; normal backoff.
 * - `throttled`: 429 on upgrade or close 1008 (message rate exceeded); a few seconds' floor, since hurrying
 *   turns a rate limit into an IP ban.
 * - `banned`: 418 on upgrade, an IP ban (2 minutes to 3 days); wait at least the shortest ban.
 * - `refused`: other 4xx on upgrade (403 WAF, 451 region, 404 bad path); keep trying slowly and alert, it
 *   will not heal by itself in seconds.
 *
 * The delays are {@link ReconnectPolicy}'s (reconnect_policy.ts).
 */
export type RetryClass = "immediate" | "transient" | "throttled" | "banned" | "refused";

/**
 * Classifies a disconnect cause.
 *
 * @example
 * ```ts
 * classifyDisconnect({ kind: "error", message: "Invalid status code: 503", status: 503 }); // "transient"
 * classifyDisconnect({ kind: "error", message: "Invalid status code: 403", status: 403 }); // "refused"
 * ```
 */
export function classifyDisconnect(cause: DisconnectCause): RetryClass {
  switch (cause.kind) {
    case "serverShutdown":
      return "immediate";
    case "closed":
      return cause.code === 1008 ? "throttled" : "transient";
    case "error": {
      const s = cause.status;
      if (s === null || s >= 500 || s < 400) return "transient";
      return s === 429 ? "throttled" : s === 418 ? "banned" : "refused";
    }
    case "forced":
    case "connectTimeout":
      return "transient";
  }
}

/**
 * Extracts the HTTP status from a refused WebSocket upgrade error message (Deno reports
 * "failed to connect to WebSocket: Invalid status code: 403"); null when the message carries none.
 */
export function upgradeStatus(message: string): number | null {
  const m = /status code:?\s*(\d{3})\b/i.exec(message);
  return m === null ? null : Number(m[1]);
}

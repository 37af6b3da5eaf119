/**
 * Turns in the Parquet worker: the flush's jobs (encode, write) go before a merge. The worker's jobs interleave
 * at their awaits, and a merge step (decode a window, sort, encode) holds the thread for hundreds of ms: in a
 * whole-market run each await of a flush's ~30 jobs waited behind one, and flushes took ~40 s instead of ~2 s
 * while the hour was compacted (rows held in the collector's memory meanwhile). A merge now waits before each
 * step until no flush job has run for a moment, at most {@link MAX_WAIT_MS} a step (so a stream of flush jobs
 * slows a merge down but cannot stop it).
 * @module
 */

/** A quiet moment: flush jobs come one after another (a file per table), each asked as the last one returns. */
export const QUIET_MS = 50;
/** The longest a merge step waits for flush jobs. */
export const MAX_WAIT_MS = 10_000;

/** Flush jobs run through {@link job}; a merge calls {@link turn} before each step. */
export class FlushFirst {
  #running = 0;
  #lastEnd = -Infinity;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Runs a flush job, which holds merges back while it runs and for {@link QUIET_MS} after. */
  async job<T>(fn: () => Promise<T>): Promise<T> {
    this.#running++;
    try {
      return await fn();
    } finally {
      this.#running--;
      this.#lastEnd = this.now();
    }
  }

  /** Whether a flush job runs or ran within the last {@link QUIET_MS}. */
  get busy(): boolean {
    return this.#running > 0 || this.now() - this.#lastEnd < QUIET_MS;
  }

  /** Resolves when no flush job is busy, or after {@link MAX_WAIT_MS}. */
  async turn(): Promise<void> {
    const until = this.now() + MAX_WAIT_MS;
    while (this.busy && this.now() < until) await new Promise((r) => setTimeout(r, QUIET_MS));
  }
}

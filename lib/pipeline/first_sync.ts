/**
 * The start-up sync of one market's books, reported once: when every book is first in sync, a log line says how
 * many books, how many snapshots that took and how long since the first snapshot request, to compare with what
 * the REST weight budget allows (README "Benchmark": a depth snapshot of 1,000 levels weighs 50 on spot).
 * @module
 */
import type { Market } from "../binance/types.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";

/** What {@link FirstSyncReport} reads. */
export interface FirstSyncDeps {
  market: Market;
  books(): { books: number; synced: number };
  snapshotRequests(): { count: number; firstMs: number | null };
  log: Logger;
  clock: Clock;
}

/**
 * Logs `books synced` once, the first time a market has books and all are in sync.
 *
 * @example
 * ```ts
 * import { FirstSyncReport } from "./first_sync.ts";
 * const report = new FirstSyncReport({
 *   market: "spot",
 *   books: () => ({ books: 2, synced: 2 }),
 *   snapshotRequests: () => ({ count: 2, firstMs: 1_000 }),
 *   log: (_level, msg, fields) => console.log(msg, fields),
 *   clock: { nowMs: () => 4_500, nowUs: () => 4_500_000 },
 * });
 * report.check(); // books synced { market: "spot", books: 2, snapshots: 2, firstRequestMs: 1000, seconds: 3.5 }
 * report.check(); // nothing: reported once
 * ```
 */
export class FirstSyncReport {
  #done = false;

  constructor(private readonly d: FirstSyncDeps) {}

  /** Called every housekeeping tick; counts the books (one pass) only until it has reported. */
  check(): void {
    if (this.#done) return;
    const { books, synced } = this.d.books();
    if (books === 0 || synced < books) return;
    this.#done = true;
    const { count, firstMs } = this.d.snapshotRequests();
    this.d.log("info", "books synced", {
      market: this.d.market,
      books,
      snapshots: count,
      firstRequestMs: firstMs,
      seconds: firstMs === null ? null : Math.round((this.d.clock.nowMs() - firstMs) / 100) / 10,
    });
  }
}

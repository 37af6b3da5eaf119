/**
 * When the collector flushes on its own timer: at the first check in a new UTC hour, else once the flush
 * interval has passed since the last flush started. Pure: the collector's housekeeping timer passes the time
 * in. (A full buffer and a stop flush too; the collector decides those.)
 * @module
 */

const HOUR_MS = 3_600_000;

/** Why a timed flush is due. */
export type ScheduledFlush = "hour" | "interval";

/** The timed flushes of one collector. */
export class FlushSchedule {
  #hour: number;

  /** `nowMs` sets the current hour: no "hour" flush until the next one begins. */
  constructor(nowMs: number, private readonly intervalMs: number) {
    this.#hour = Math.floor(nowMs / HOUR_MS);
  }

  /**
   * The flush due at `nowMs`, or `null`: "hour" once per new UTC hour (in place of an interval flush then),
   * else "interval" when `intervalMs` has passed since `lastStartMs`.
   */
  due(nowMs: number, lastStartMs: number): ScheduledFlush | null {
    const hour = Math.floor(nowMs / HOUR_MS);
    if (hour !== this.#hour) {
      this.#hour = hour;
      return "hour";
    }
    return nowMs - lastStartMs >= this.intervalMs ? "interval" : null;
  }
}

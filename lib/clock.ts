/**
 * The microsecond wall clock: the only place that reads time on the hot path.
 *
 * `performance.timeOrigin + performance.now()` rather than `Date.now()`: it has sub-millisecond resolution and
 * does not jump when the system clock is stepped, so arrival times of one process stay ordered.
 */

/**
 * Current time in whole microseconds since the Unix epoch.
 *
 * @example
 * ```ts
 * const localUs = nowUs(); // e.g. 1767225600123456
 * ```
 */
export function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** Where the collector reads the time (injected, so tests can drive it). */
export interface Clock {
  /** Microseconds since the epoch (see {@linkcode nowUs}). */
  nowUs(): number;
  /** Milliseconds since the epoch, for timers and schedules. */
  nowMs(): number;
}

/**
 * The system clock.
 *
 * @example
 * ```ts
 * systemClock.nowMs() - Date.now(); // 0
 * ```
 */
export const systemClock: Clock = { nowUs, nowMs: () => Date.now() };

/**
 * The least time the REST weight budget allows to sync `books` books from their first snapshot request, for the
 * market benchmark to print beside the measured time: the client spends `budget` weight per one-minute window
 * of the server clock (fixed windows, as Binance counts REQUEST_WEIGHT), so the first window (partial, from the
 * first request to its end) and each full one after it take `floor(budget / weight)` snapshots.
 */

/**
 * Seconds from the first snapshot request until the last one can be sent (its answer then takes a round trip).
 *
 * @example
 * ```ts
 * // 300 spot books at 50 weight, 5,400 a minute: 108 per window, so the 3rd window takes the last 84.
 * snapshotBoundS(300, 50, 5400, 15_000); // 105: 45 s left of the first window + one full window
 * ```
 */
export function snapshotBoundS(
  books: number,
  weight: number,
  budget: number,
  firstRequestMs: number,
): number {
  const perWindow = Math.floor(budget / weight);
  const windows = Math.ceil(books / perWindow);
  if (windows <= 1) return 0;
  const firstWindowLeftMs = 60_000 - (firstRequestMs % 60_000);
  return (firstWindowLeftMs + (windows - 2) * 60_000) / 1000;
}

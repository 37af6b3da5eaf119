/** Figures of the benchmarks' samples. @module */

/** The value at quantile `p` (0..1) of ascending `sorted` values (nearest rank); NaN when there are none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

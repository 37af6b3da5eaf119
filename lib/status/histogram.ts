/**
 * A cumulative histogram with fixed upper bounds, the shape Prometheus scrapes: counts only grow, so rates
 * and quantiles over any window can be computed by the scraper. Pure; `observe` does not allocate.
 * @module
 */

/** Upper bounds (seconds) suited to Parquet flushes: tens of milliseconds when idle, seconds under load. */
export const FLUSH_SECONDS_BOUNDS: readonly number[] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A histogram as exported: `counts[i]` observations were `<= bounds[i]`; `count` includes those above all. */
export interface HistogramSnapshot {
  bounds: number[];
  /** Cumulative counts, one per bound. */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * Counts observations into buckets.
 *
 * @example
 * ```ts
 * const h = new Histogram([0.1, 1]);
 * h.observe(0.05);
 * h.observe(2);
 * h.snapshot(); // { bounds: [0.1, 1], counts: [1, 1], sum: 2.05, count: 2 }
 * ```
 */
export class Histogram {
  readonly #bounds: Float64Array;
  /** Per-bucket (not cumulative) counts; the last slot is above every bound. */
  readonly #buckets: Float64Array;
  #sum = 0;
  #count = 0;

  /** @param bounds strictly increasing, finite upper bounds */
  constructor(bounds: readonly number[]) {
    for (let i = 0; i < bounds.length; i++) {
      const b = bounds[i]!;
      if (!Number.isFinite(b) || (i > 0 && !(b > bounds[i - 1]!))) {
        throw new RangeError(
          `Cannot create histogram: bounds must be finite and strictly increasing: current value is [${bounds}]`,
        );
      }
    }
    this.#bounds = Float64Array.from(bounds);
    this.#buckets = new Float64Array(bounds.length + 1);
  }

  /** Adds one observation; NaN is ignored (it belongs in no bucket). */
  observe(value: number): void {
    if (Number.isNaN(value)) return;
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.#buckets[i]!++;
    this.#sum += value;
    this.#count++;
  }

  /** A copy with cumulative counts. */
  snapshot(): HistogramSnapshot {
    const counts: number[] = [];
    let running = 0;
    for (let i = 0; i < this.#bounds.length; i++) {
      running += this.#buckets[i]!;
      counts.push(running);
    }
    return { bounds: Array.from(this.#bounds), counts, sum: this.#sum, count: this.#count };
  }
}

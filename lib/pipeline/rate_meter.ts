/**
 * Messages per second from a growing counter, per key, over a window of about `windowMs`: status readers ask at
 * their own pace, and the rate only moves once a full window has passed since the last sample.
 */
export class RateMeter {
  private readonly samples = new Map<string, { atMs: number; count: number; rate: number }>();

  /** @param sinceMs when the counters started at 0 (the first reading is the average since then) */
  constructor(private readonly sinceMs: number, private readonly windowMs = 10_000) {}

  /** The rate of `key`, whose counter reads `count` at `nowMs`. */
  rate(key: string, count: number, nowMs: number): number {
    const prev = this.samples.get(key);
    if (!prev) {
      const rate = nowMs > this.sinceMs ? (count * 1000) / (nowMs - this.sinceMs) : 0;
      this.samples.set(key, { atMs: nowMs, count, rate });
      return rate;
    }
    if (nowMs - prev.atMs >= this.windowMs) {
      prev.rate = ((count - prev.count) * 1000) / (nowMs - prev.atMs);
      prev.atMs = nowMs;
      prev.count = count;
    }
    return prev.rate;
  }
}

/**
 * Event-loop lag: how late a timer due every `intervalMs` fires. A flush, a GC pause or any long synchronous
 * step delays every socket read by as much, so this is the delay a frame can wait before it is timestamped and
 * journaled. Kept as a histogram of the last window and of the whole run (p50, p99, max), and of the spans a
 * caller marks (the flushes: a flush must not stall the feed).
 * @module
 */

/**
 * Resolves on a later event-loop turn (a timer), so that frames waiting to be received go before the next piece
 * of a long job: the way to keep such a job off the lag this module measures.
 */
export const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Calls `fn` on each item in order, `slice` items per event-loop turn (see {@link nextTurn}). */
export async function forEachPaced<T>(
  items: readonly T[],
  slice: number,
  fn: (item: T) => void,
): Promise<void> {
  for (let at = 0; at < items.length; at += slice) {
    if (at > 0) await nextTurn();
    const end = Math.min(items.length, at + slice);
    for (let i = at; i < end; i++) fn(items[i]!);
  }
}

/**
 * The items of `items`, a turn apart (see {@link nextTurn}) whenever `sliceMs` passed since the last. For Deno
 * KV's `list`: reading a whole market's day of coverage (216,000 entries in batches of 250, none taking over 21
 * ms) stalled the event loop 60–180 ms in five reads; with a turn every 10 ms, 14–42 ms (a turn after every
 * batch: 5–23 ms, but ~3 ms a turn made the read take 4 s instead of 1.4).
 */
export async function* paced<T>(items: AsyncIterable<T>, sliceMs: number): AsyncGenerator<T> {
  let sliceStart = performance.now();
  for await (const item of items) {
    yield item;
    if (performance.now() - sliceStart >= sliceMs) {
      await nextTurn();
      sliceStart = performance.now();
    }
  }
}

/**
 * Runs `steps` to the end, for at most `sliceMs` per event-loop turn (see {@link nextTurn}), and returns what
 * it returns.
 */
export async function runInSlices<T>(steps: Generator<void, T>, sliceMs: number): Promise<T> {
  let sliceStart = performance.now();
  for (let step = steps.next();; step = steps.next()) {
    if (step.done) return step.value;
    if (performance.now() - sliceStart >= sliceMs) {
      await nextTurn();
      sliceStart = performance.now();
    }
  }
}

/** Lag figures in ms. */
export interface LagStats {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

/** Steps of 1 ms up to 10 tell a p99 under 10 ms (the whole market's goal during flushes) from one at 10. */
const ONE_MS_STEPS = [0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
/** Bucket upper bounds (ms); a sample above the last goes to the overflow bucket. */
const BOUNDS = [...ONE_MS_STEPS, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000, 2000, 5000];

/** A fixed-bucket histogram of lag samples (no allocation per sample). */
export class LagHistogram {
  readonly #counts = new Float64Array(BOUNDS.length + 1);
  #n = 0;
  #max = 0;

  add(ms: number): void {
    let i = 0;
    while (i < BOUNDS.length && ms > BOUNDS[i]!) i++;
    this.#counts[i]!++;
    this.#n++;
    if (ms > this.#max) this.#max = ms;
  }

  /**
   * p50, p99 (as bucket upper bounds, so an upper estimate, but never above the max rounded up to 0.1 ms) and
   * the exact max.
   *
   * @example
   * ```ts
   * const h = new LagHistogram();
   * for (let i = 0; i < 100; i++) h.add(i < 99 ? 0.2 : 40);
   * h.stats(); // { samples: 100, p50: 0.5, p99: 0.5, max: 40 }
   * ```
   */
  stats(): LagStats {
    // A bucket's bound can lie above every sample in it: then the max (to 0.1 ms) is the estimate.
    const max = Math.ceil(this.#max * 10) / 10;
    const at = (q: number) => {
      const rank = Math.ceil(q * this.#n);
      let seen = 0;
      for (let i = 0; i < BOUNDS.length; i++) {
        seen += this.#counts[i]!;
        if (seen >= rank) return Math.min(BOUNDS[i]!, max);
      }
      return max; // the overflow bucket
    };
    return { samples: this.#n, p50: this.#n ? at(0.5) : 0, p99: this.#n ? at(0.99) : 0, max: this.#max };
  }

  reset(): void {
    this.#counts.fill(0);
    this.#n = 0;
    this.#max = 0;
  }
}

/** Measures the event loop's lag with a timer, into a per-minute window and a whole-run histogram. */
export class LoopLagMonitor {
  readonly total = new LagHistogram();
  /** Samples taken in marked spans (see {@link openSpan}), over the whole run. */
  readonly spans = new LagHistogram();
  #openSpans = 0;
  /** A span closed since the last sample: that sample's delay began inside it. */
  #spanClosed = false;
  #spanMax = 0;
  #window = new LagHistogram();
  #last = new LagHistogram();
  #timer: ReturnType<typeof setInterval> | null = null;
  #expected = 0;
  #windowStart = 0;

  constructor(private readonly intervalMs = 10, private readonly windowMs = 60_000) {}

  start(): void {
    if (this.#timer !== null) return;
    this.#expected = performance.now() + this.intervalMs;
    this.#windowStart = performance.now();
    this.#timer = setInterval(() => {
      const now = performance.now();
      const lag = Math.max(0, now - this.#expected);
      this.#expected = now + this.intervalMs;
      this.total.add(lag);
      this.#window.add(lag);
      if (this.#openSpans > 0 || this.#spanClosed) {
        this.spans.add(lag);
        if (lag > this.#spanMax) this.#spanMax = lag;
        this.#spanClosed = false;
      }
      if (now - this.#windowStart >= this.windowMs) {
        [this.#last, this.#window] = [this.#window, this.#last];
        this.#window.reset();
        this.#windowStart = now;
      }
    }, this.intervalMs);
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Marks the start of a span whose lag is kept apart (in {@link spans}), e.g. a flush. */
  openSpan(): void {
    if (this.#openSpans++ === 0) this.#spanMax = 0;
  }

  /**
   * Marks a span's end. The next sample still counts for it: a stall at its very end is only measured by the
   * timer that fires after it.
   */
  closeSpan(): void {
    if (this.#openSpans > 0 && --this.#openSpans === 0) this.#spanClosed = true;
  }

  /** The longest lag sampled since the current (or last) span opened, in ms. */
  get spanMax(): number {
    return this.#spanMax;
  }

  /** The last complete window (or the current one before the first completes). */
  recent(): LagStats {
    const last = this.#last.stats();
    return last.samples > 0 ? last : this.#window.stats();
  }
}

/**
 * Data liveness per stream: a stream that stops delivering for longer than its expected cadence is stale
 * (a USD-M stream on the wrong route, for one, stays silent without any error). Stale intervals become `stale`
 * gap rows and may trigger a forced reconnect.
 *
 * Pure: times (µs) are passed in. `seen()` is on the hot path (every frame) and only writes typed arrays.
 */
import type { PlannedStream, StreamKind } from "./stream_plan.ts";

/** Per-kind staleness thresholds in ms; `null` = do not monitor (event-driven streams may be quiet for long). */
export type StaleThresholds = Partial<Record<StreamKind, number | null>>;

/** Defaults for event-driven streams. A depth diff of a liquid symbol arrives every update interval. */
export const DEFAULT_EVENT_THRESHOLDS: Readonly<StaleThresholds> = {
  depth: 60_000,
  aggTrade: null,
  trade: null,
  bookTicker: null,
  forceOrder: null,
};

/**
 * Staleness threshold of a stream in ms, or null when it is not monitored. Periodic streams have fixed
 * defaults from their push cadence: kline every 1–2 s (futures 250 ms) → 10 s; `markPrice@1s` → 5 s;
 * `markPrice` (every 3 s) → 10 s. `overrides` wins over every default.
 *
 * @example
 * ```ts
 * staleAfterMs({ kind: "markPrice", param: "1s" }); // 5000
 * staleAfterMs({ kind: "aggTrade", param: "" }, { aggTrade: 120_000 }); // 120000
 * ```
 */
export function staleAfterMs(
  stream: Pick<PlannedStream, "kind" | "param">,
  overrides: StaleThresholds = {},
): number | null {
  const override = overrides[stream.kind];
  if (override !== undefined) return override;
  switch (stream.kind) {
    case "kline":
      return 10_000;
    case "markPrice":
      return stream.param === "1s" ? 5_000 : 10_000;
    default:
      return DEFAULT_EVENT_THRESHOLDS[stream.kind] ?? null;
  }
}

/** Transitions found by one {@link StreamLiveness.check}: stream indices, each transition reported once. */
export interface LivenessChanges {
  /** Streams silent for longer than their threshold since the last check. */
  stale: number[];
  /** Previously stale streams that delivered again ({@link StreamLiveness.resumedUs} says when). */
  recovered: number[];
}

const FRESH = 0;
const STALE = 1;
const RESUMED = 2;

/**
 * Tracks the last arrival per stream index.
 *
 * A stream's clock starts when it is armed (subscribed), so a stream that never delivers turns stale too.
 *
 * @example
 * ```ts
 * const live = new StreamLiveness([10_000, null]);
 * live.arm(0);
 * live.check(11_000_000).stale; // [0]
 * live.seen(0, 12_000_000);
 * live.check(12_500_000).recovered; // [0]
 * ```
 */
export class StreamLiveness {
  /** Threshold of each stream (0 = not monitored, or retired). */
  #thresholdUs: Float64Array;
  /** Threshold of each stream while it is recorded (a retired stream gets it back when it returns). */
  #baseUs: Float64Array;
  /** max(last arrival, arm time): the reference for staleness. */
  #lastUs: Float64Array;
  #seenUs: Float64Array;
  #resumedUs: Float64Array;
  #state: Uint8Array;

  /** @param thresholdsMs per stream index, null = not monitored */
  constructor(thresholdsMs: readonly (number | null)[]) {
    const n = thresholdsMs.length;
    this.#thresholdUs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t = thresholdsMs[i] ?? null;
      if (t !== null && !(t > 0)) {
        throw new RangeError(
          `Cannot track liveness: threshold of stream ${i} must be > 0: current value is ${t}`,
        );
      }
      this.#thresholdUs[i] = t === null ? 0 : t * 1000;
    }
    this.#baseUs = this.#thresholdUs.slice();
    this.#lastUs = new Float64Array(n).fill(NaN);
    this.#seenUs = new Float64Array(n).fill(NaN);
    this.#resumedUs = new Float64Array(n).fill(NaN);
    this.#state = new Uint8Array(n);
  }

  /**
   * Tracks streams added to the plan (their indexes follow the tracked ones), armed at `nowUs`.
   *
   * @throws {RangeError} if an index does not follow on.
   */
  add(streams: readonly PlannedStream[], nowUs: number, overrides?: StaleThresholds): void {
    const n0 = this.size;
    const n = n0 + streams.length;
    streams.forEach((ps, i) => {
      if (ps.index !== n0 + i) {
        throw new RangeError(`Cannot track stream ${ps.name}: index ${ps.index}, expected ${n0 + i}`);
      }
    });
    const grow = <T extends Float64Array | Uint8Array>(a: T, fill: number): T => {
      const b = new (a.constructor as { new (n: number): T })(n).fill(fill) as T;
      b.set(a);
      return b;
    };
    this.#thresholdUs = grow(this.#thresholdUs, 0);
    this.#baseUs = grow(this.#baseUs, 0);
    this.#lastUs = grow(this.#lastUs, NaN);
    this.#seenUs = grow(this.#seenUs, NaN);
    this.#resumedUs = grow(this.#resumedUs, NaN);
    this.#state = grow(this.#state, FRESH);
    for (const ps of streams) {
      const t = staleAfterMs(ps, overrides);
      this.#thresholdUs[ps.index] = this.#baseUs[ps.index] = t === null ? 0 : t * 1000;
      this.#arm(ps.index, nowUs);
    }
  }

  /** Stops watching a stream whose symbol no longer trades (its silence is not a fault). */
  retire(index: number): void {
    this.#thresholdUs[index] = 0;
    this.#state[index] = FRESH;
  }

  /** Watches a retired stream again (its symbol trades again), from `nowUs`. */
  revive(index: number, nowUs: number): void {
    this.#thresholdUs[index] = this.#baseUs[index]!;
    this.#lastUs[index] = Math.max(this.#lastUs[index]! || 0, nowUs);
  }

  /** Builds a tracker for a plan's streams with {@link staleAfterMs} thresholds. */
  static forStreams(streams: readonly PlannedStream[], overrides?: StaleThresholds): StreamLiveness {
    return new StreamLiveness(streams.map((s) => staleAfterMs(s, overrides)));
  }

  /** Number of tracked streams. */
  get size(): number {
    return this.#state.length;
  }

  /**
   * Starts (or restarts, after a reconnect) the clock of streams at `nowUs` without counting as data; a stale
   * stream stays stale until it delivers. Without `indices`, all streams.
   */
  arm(nowUs: number, indices?: Iterable<number>): void {
    if (indices === undefined) {
      for (let i = 0; i < this.#lastUs.length; i++) this.#arm(i, nowUs);
    } else {
      for (const i of indices) this.#arm(i, nowUs);
    }
  }

  #arm(i: number, nowUs: number): void {
    const last = this.#lastUs[i]!;
    if (!(last >= nowUs)) this.#lastUs[i] = nowUs;
  }

  /** Records a frame of stream `index` arriving at `nowUs`. Hot path: no allocation. */
  seen(index: number, nowUs: number): void {
    this.#lastUs[index] = nowUs;
    this.#seenUs[index] = nowUs;
    if (this.#state[index] === STALE) {
      this.#state[index] = RESUMED;
      this.#resumedUs[index] = nowUs;
    }
  }

  /** Local time (µs) of the last frame of a stream; NaN if none yet. */
  lastSeenUs(index: number): number {
    return this.#seenUs[index] ?? NaN;
  }

  /** Local time (µs) of the first frame after the stream was last found stale; NaN if it never was. */
  resumedUs(index: number): number {
    return this.#resumedUs[index] ?? NaN;
  }

  /** Whether a stream is currently considered stale (found stale and not delivered since). */
  isStale(index: number): boolean {
    return this.#state[index] === STALE;
  }

  /** Finds streams that turned stale or recovered since the last check. */
  check(nowUs: number): LivenessChanges {
    const stale: number[] = [];
    const recovered: number[] = [];
    const state = this.#state;
    for (let i = 0; i < state.length; i++) {
      if (state[i] === RESUMED) {
        state[i] = FRESH;
        recovered.push(i);
      }
      // Unarmed (NaN) and unmonitored (threshold 0) streams never compare true.
      const threshold = this.#thresholdUs[i]!;
      if (state[i] === FRESH && threshold > 0 && nowUs - this.#lastUs[i]! > threshold) {
        state[i] = STALE;
        stale.push(i);
      }
    }
    return { stale, recovered };
  }
}

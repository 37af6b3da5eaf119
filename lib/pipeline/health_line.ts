/**
 * The collector's health line: once a minute, how the process keeps up (frames, event-loop lag, REST limits,
 * memory, books in sync), for whoever reads the log on a VM without the status page. A read model of the
 * markets' counters, kept apart from the shell that owns the timers.
 * @module
 */
import type { Logger } from "../log.ts";
import type { LagStats } from "../loop_lag.ts";

/** The minimum time between two health lines. */
export const HEALTH_LOG_MS = 60_000;

/**
 * Resident memory and this isolate's share of it (the Parquet worker's is in `rss` only), MiB: the heap in use
 * and as reserved (which the RSS follows), and ArrayBuffers outside it.
 */
function memoryMb(): { rssMb: number; heapMb: number; heapTotalMb: number; externalMb: number } {
  const m = Deno.memoryUsage();
  const mb = (b: number) => Math.round(b / 1048576);
  return {
    rssMb: mb(m.rss),
    heapMb: mb(m.heapUsed),
    heapTotalMb: mb(m.heapTotal),
    externalMb: mb(m.external),
  };
}

/** The counters of a market that a health line sums (a market runtime has them). */
export interface HealthMarket {
  normalizer: { stats: { frames: number }; bookCounts(): { synced: number } };
  rest: { stats: { throttled: number; banned: number } };
  symbols: readonly string[];
}

/** What a health line reads. */
export interface HealthSources {
  markets: readonly HealthMarket[];
  /** The event-loop lag of the last complete window. */
  lag: () => LagStats;
  /** Bytes of rows buffered for the next flush. */
  bufferedBytes: () => number;
  log: Logger;
}

/** Logs a health line when {@link HEALTH_LOG_MS} passed since the last (the first call logs at once). */
export class HealthLine {
  #lastMs = -Infinity;
  #lastFrames = 0;

  constructor(private readonly s: HealthSources) {}

  maybeLog(nowMs: number): void {
    if (nowMs - this.#lastMs < HEALTH_LOG_MS) return;
    const { markets } = this.s;
    const frames = markets.reduce((n, rt) => n + rt.normalizer.stats.frames, 0);
    const seconds = (nowMs - this.#lastMs) / 1000;
    const lag = this.s.lag();
    const rest = markets.map((rt) => rt.rest.stats);
    this.s.log("info", "health", {
      frames,
      msgsPerSec: Number.isFinite(seconds) ? Math.round((frames - this.#lastFrames) / seconds) : 0,
      lagP99Ms: lag.p99,
      lagMaxMs: Math.round(lag.max * 10) / 10,
      restThrottled: rest.reduce((n, r) => n + r.throttled, 0),
      restBanned: rest.reduce((n, r) => n + r.banned, 0),
      bufferedMb: Math.round(this.s.bufferedBytes() / 1048576),
      ...memoryMb(),
      symbols: markets.reduce((n, rt) => n + rt.symbols.length, 0),
      booksSynced: markets.reduce((n, rt) => n + rt.normalizer.bookCounts().synced, 0),
    });
    this.#lastMs = nowMs;
    this.#lastFrames = frames;
  }
}

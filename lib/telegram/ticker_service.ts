/**
 * The timers behind the live ticker and the flush report: every `telegram.ticker_interval` seconds a ticker
 * message (ticker.ts) from a snapshot of the collector, and with `telegram.flush_report` a table after each flush
 * (flush_report.ts). Both go through the bot's delivery, so they share the alerts' pacing, and a newer ticker
 * replaces one Telegram has not taken yet.
 *
 * Collection never waits for this: the collector is only read, synchronously, in a timer callback (its quotes,
 * symbol status and last flushes); the awaited parts (free disk, today's gaps in the ledger) are off the path that
 * handles frames.
 * @module
 */

import type { DiskSpace } from "../disk.ts";
import type { GapFilter, GapRecord } from "../ledger/records.ts";
import { type Logger, RateLimitedLog } from "../log.ts";
import type { FlushResult } from "../pipeline/table_store.ts";
import type { SymbolStatus } from "./format.ts";
import { formatFlushReport } from "./flush_report.ts";
import { formatTicker, midsOf, quoteKey, type TickerSymbol } from "./ticker.ts";

/** What the ticker reads from the collector (`Collector` fits). */
export interface TickerCollector {
  quotes(): readonly { market: string; symbol: string; bid: number; ask: number }[];
  symbolStatus(): readonly SymbolStatus[];
  /** Completed flushes, most recent last (bounded). */
  readonly flushes: readonly FlushResult[];
  /** Completed flushes since start. */
  readonly flushCount: number;
  /** Wall-clock start (ms) of the last flush. */
  readonly lastFlushMs: number;
}

/** Options of {@linkcode startTickerService}. */
export interface TickerServiceOptions {
  collector: TickerCollector;
  /** Gaps of a range, e.g. `(f) => ledger.listGaps(f)`. */
  gaps(filter: GapFilter): Promise<GapRecord[]>;
  diskSpace(): Promise<DiskSpace>;
  /** Queues a message for every chat (`TelegramBot.post`). */
  post(text: string, tag: string): void;
  /** Between tickers; 0 = no ticker. */
  intervalMs: number;
  /** Send a table after each flush. */
  flushReport: boolean;
  log: Logger;
  /** How often a new flush is looked for. @default 1000 */
  flushPollMs?: number;
  /** Wall clock (ms). @default Date.now */
  nowMs?: () => number;
  /** @default () => Deno.memoryUsage().rss */
  rssBytes?: () => number;
}

const DAY_MS = 86_400_000;

/**
 * The running timers.
 *
 * @example
 * ```ts
 * import { consoleLogger } from "../log.ts";
 *
 * const posted: string[] = [];
 * const ticker = startTickerService({
 *   collector: { // the Collector
 *     quotes: () => [{ market: "spot", symbol: "BTCUSDT", bid: 61602.01, ask: 61602.02 }],
 *     symbolStatus: () => [{
 *       market: "spot", symbol: "BTCUSDT", connected: true, book: "synced", lastMessageAgeMs: 40, msgsPerSec: 25,
 *     }],
 *     flushes: [],
 *     flushCount: 0,
 *     lastFlushMs: Date.now(),
 *   },
 *   gaps: () => Promise.resolve([]), // (f) => ledger.listGaps(f)
 *   diskSpace: () => Promise.resolve({ path: "data", freeBytes: 80e9, totalBytes: 100e9 }),
 *   post: (text) => posted.push(text), // (text, tag) => bot.post(text, tag)
 *   intervalMs: 10, // telegram.ticker_interval: 180 s by default
 *   flushReport: false,
 *   log: consoleLogger(),
 * });
 * while (posted.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
 * ticker?.stop();
 * posted[0]!.includes("BTCUSDT"); // true
 * ```
 */
export class TickerService {
  readonly #o: TickerServiceOptions;
  readonly #now: () => number;
  readonly #rss: () => number;
  readonly #errors: RateLimitedLog;
  #timers: ReturnType<typeof setInterval>[] = [];
  #mids = new Map<string, number>();
  #ticking = false;
  #flushesSeen: number;

  constructor(options: TickerServiceOptions) {
    this.#o = options;
    this.#now = options.nowMs ?? Date.now;
    this.#rss = options.rssBytes ?? (() => Deno.memoryUsage().rss);
    this.#errors = new RateLimitedLog(options.log, 1, 3_600_000);
    this.#flushesSeen = options.collector.flushCount;
  }

  /** Starts the timers (the first ticker after one interval, when the books have had time to sync). */
  start(): void {
    if (this.#o.intervalMs > 0) this.#timers.push(setInterval(() => void this.tick(), this.#o.intervalMs));
    if (this.#o.flushReport) {
      this.#timers.push(setInterval(() => this.checkFlushes(), this.#o.flushPollMs ?? 1000));
    }
  }

  /** Stops the timers; a ticker being built is still posted. */
  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }

  /**
   * Builds and posts one ticker; returns its text, or null when the previous one is still being built or this
   * one failed (logged at most once an hour).
   */
  async tick(): Promise<string | null> {
    if (this.#ticking) return null;
    this.#ticking = true;
    try {
      const nowMs = this.#now();
      const { collector } = this.#o;
      // One synchronous read of the collector, so every figure describes the same moment.
      const status = collector.symbolStatus();
      const quotes = new Map(collector.quotes().map((q) => [quoteKey(q.market, q.symbol), q]));
      const last = collector.flushes.at(-1) ?? null;
      const lastFlush = last === null
        ? null
        : { atMs: collector.lastFlushMs, rows: last.rows, files: last.files.length };
      const flushRows = new Map<string, number>();
      for (const s of last?.symbolRows ?? []) {
        const key = quoteKey(s.market, s.symbol);
        flushRows.set(key, (flushRows.get(key) ?? 0) + s.rows);
      }
      const rssBytes = this.#rss();

      const dayStartMs = nowMs - nowMs % DAY_MS;
      const [gaps, disk] = await Promise.allSettled([
        this.#o.gaps({ fromUs: dayStartMs * 1000, toUs: nowMs * 1000 + 1 }),
        this.#o.diskSpace(),
      ]);
      const gapsBySymbol = new Map<string, number>();
      if (gaps.status === "fulfilled") {
        for (const g of gaps.value) {
          const key = quoteKey(g.market, g.row.symbol);
          gapsBySymbol.set(key, (gapsBySymbol.get(key) ?? 0) + 1);
        }
      } else {
        this.#errors.write("warn", "ticker: today's gaps not read", { error: String(gaps.reason) });
      }
      const symbols = status.map((s): TickerSymbol => {
        const key = quoteKey(s.market, s.symbol);
        const q = quotes.get(key);
        return {
          market: s.market,
          symbol: s.symbol,
          bid: q?.bid ?? null,
          ask: q?.ask ?? null,
          connected: s.connected,
          book: s.book,
          lastMessageAgeMs: s.lastMessageAgeMs,
          msgsPerSec: s.msgsPerSec,
          flushRows: flushRows.get(key) ?? 0,
          gapsToday: gapsBySymbol.get(key) ?? 0,
        };
      });
      const text = formatTicker({
        nowMs,
        symbols,
        previousMids: this.#mids,
        rssBytes,
        freeDiskBytes: disk.status === "fulfilled" ? disk.value.freeBytes : null,
        gapsToday: gaps.status === "fulfilled" ? gaps.value.length : null,
        lastFlush,
      });
      this.#mids = midsOf(symbols);
      this.#o.post(text, "ticker");
      return text;
    } catch (err) {
      this.#errors.write("warn", "ticker not sent", { error: String(err) });
      return null;
    } finally {
      this.#ticking = false;
    }
  }

  /**
   * Posts the table of the latest flush if one completed since the last look and wrote files (of several, the
   * latest: a newer table would replace the older ones in the queue anyway). Returns whether it posted.
   */
  checkFlushes(): boolean {
    const { collector } = this.#o;
    const fresh = collector.flushCount > this.#flushesSeen;
    this.#flushesSeen = collector.flushCount;
    const flush = collector.flushes.at(-1);
    if (!fresh || flush === undefined || flush.files.length === 0) return false;
    this.#o.post(formatFlushReport(flush, this.#now()), "flush");
    return true;
  }
}

/** Starts the ticker and flush report timers, or returns null when both are off. */
export function startTickerService(options: TickerServiceOptions): TickerService | null {
  if (options.intervalMs <= 0 && !options.flushReport) return null;
  const service = new TickerService(options);
  service.start();
  return service;
}

/**
 * Reads a day's coverage from the ledger into a {@link DayCoverage}, hour by hour, and keeps what cannot change
 * any more. With 2,000 symbols a day is 240,000 stream-hours: `Ledger.coverage` turns them into row objects
 * and interval figures in one synchronous pass (about a second of stalled event loop on a small VM), so the
 * status page and chat commands read through this instead. An hour that ended more than `finalAfterMs` ago is
 * read once (its slots are kept, 2 small numbers per stream); the exact figures are computed only for the
 * stream-hours a gap touches, from their stored spans.
 * @module
 */

import { type CoverageEntry, coverageRows } from "../ledger/coverage.ts";
import { DAY_US, HOUR_US, slotsTouched, utcDayStartUs } from "../ledger/intervals.ts";
import { coverageKey, coverageRange, parseCoverageKey } from "../ledger/keys.ts";
import { listPaced } from "../ledger/paced_list.ts";
import type { CoverageValue, GapFilter, GapRecord } from "../ledger/records.ts";
import { type DayCoverage, HOURS, hourSlot, type StreamHours, streamHoursOf } from "./day_coverage.ts";

/** The ledger parts the reader uses (a `Ledger` fits). */
export interface CoverageLedger {
  readonly kv: Deno.Kv;
  listGaps(filter: GapFilter): Promise<GapRecord[]>;
}

/** Options of {@linkcode DayCoverageReader}. */
export interface DayCoverageReaderOptions {
  /** Wall clock (ms). @default Date.now */
  nowMs?: () => number;
  /** An hour is final this long after its end (the hour's last flush has committed). @default 900000 */
  finalAfterMs?: number;
  /** A day read less than this long ago is answered from memory. @default 30000 */
  maxAgeMs?: number;
  /** Days kept in memory. @default 3 */
  days?: number;
}

interface CachedDay {
  streams: Map<string, StreamHours>;
  /** Hour slots read after they became final. */
  final: boolean[];
  result: DayCoverage | null;
  readAtMs: number;
  reading: Promise<DayCoverage> | null;
}

/** Sum of the recorded spans `[s0, e0, s1, e1, ...]`, in seconds. */
function recordedSeconds(spans: readonly number[]): number {
  let us = 0;
  for (let i = 0; i + 1 < spans.length; i += 2) us += spans[i + 1]! - spans[i]!;
  return us / 1e6;
}

/**
 * Cached, incremental day reads.
 *
 * @example
 * ```ts
 * import { coverageGrid } from "./coverage_grid.ts";
 * import { Ledger } from "../ledger/ledger.ts";
 *
 * const ledger = new Ledger(await Deno.openKv(":memory:"));
 * const hourUs = Date.UTC(2024, 0, 2, 7) * 1000; // 07:00 UTC
 * const span = { spanStartUs: hourUs, spanEndUs: hourUs + 3_600_000_000 };
 * await ledger.addCoverage("spot", "BTCUSDT", "aggTrade", hourUs, { messages: 3600, ...span });
 * await ledger.addCoverage("spot", "ETHUSDT", "aggTrade", hourUs, { messages: 1800, ...span });
 * await ledger.addGap("spot", {
 *   symbol: "ETHUSDT", stream: "aggTrade", kind: "disconnect", start_time: hourUs + 60e6,
 *   end_time: hourUs + 120e6, last_update_id: null, resume_update_id: null, reason: "socket closed",
 * });
 *
 * const reader = new DayCoverageReader(ledger);
 * const grid = coverageGrid(await reader.read("2024-01-02"));
 * grid.symbols.map((s) => s.symbol); // ["ETHUSDT", "BTCUSDT"]: worst first
 * ledger.close();
 * ```
 */
export class DayCoverageReader {
  readonly #ledger: CoverageLedger;
  readonly #now: () => number;
  readonly #finalAfterMs: number;
  readonly #maxAgeMs: number;
  readonly #days: number;
  readonly #cache = new Map<string, CachedDay>();

  constructor(ledger: CoverageLedger, options: DayCoverageReaderOptions = {}) {
    this.#ledger = ledger;
    this.#now = options.nowMs ?? Date.now;
    this.#finalAfterMs = options.finalAfterMs ?? 900_000;
    this.#maxAgeMs = options.maxAgeMs ?? 30_000;
    this.#days = options.days ?? 3;
  }

  /** The coverage of `date` (`YYYY-MM-DD`, UTC); concurrent calls for one day share one read. */
  read(date: string): Promise<DayCoverage> {
    const dayUs = utcDayStartUs(date);
    let c = this.#cache.get(date);
    if (c === undefined) {
      c = {
        streams: new Map(),
        final: new Array(HOURS).fill(false),
        result: null,
        readAtMs: 0,
        reading: null,
      };
      this.#cache.set(date, c);
      for (const old of this.#cache.keys()) {
        if (this.#cache.size <= this.#days) break;
        this.#cache.delete(old);
      }
    }
    if (c.reading !== null) return c.reading;
    if (c.result !== null && this.#now() - c.readAtMs < this.#maxAgeMs) return Promise.resolve(c.result);
    const cached = c;
    cached.reading = this.#read(date, dayUs, cached).finally(() => cached.reading = null);
    return cached.reading;
  }

  async #read(date: string, dayUs: number, c: CachedDay): Promise<DayCoverage> {
    const nowMs = this.#now();
    const gaps = await this.#ledger.listGaps({ fromUs: dayUs, toUs: dayUs + DAY_US });
    for (let h = 0; h < HOURS; h++) {
      const hourUs = dayUs + h * HOUR_US;
      if (c.final[h] || hourUs > nowMs * 1000) continue;
      const isFinal = (hourUs + HOUR_US) / 1000 + this.#finalAfterMs <= nowMs;
      await this.#readHour(c.streams, dayUs, hourUs);
      c.final[h] = isFinal;
    }
    const exact = coverageRows(dayUs, await this.#touchedEntries(dayUs, gaps), gaps);
    for (const r of exact) streamHoursOf(c.streams, r.market, r.symbol, r.stream);
    c.result = { date, dayUs, streams: c.streams, exact, gaps };
    c.readAtMs = nowMs;
    return c.result;
  }

  /** Replaces hour `hourUs`'s slots with what the ledger holds now. */
  async #readHour(streams: Map<string, StreamHours>, dayUs: number, hourUs: number): Promise<void> {
    const slot = hourSlot(dayUs, hourUs);
    for (const s of streams.values()) {
      s.messages[slot] = 0;
      s.recorded[slot] = NaN;
    }
    const range = coverageRange(hourUs, hourUs + HOUR_US);
    for await (const { key, value } of listPaced<CoverageValue>(this.#ledger.kv, range)) {
      const k = parseCoverageKey(key);
      const s = streamHoursOf(streams, k.market, k.symbol, k.stream);
      s.messages[slot] = value.messages;
      s.recorded[slot] = recordedSeconds(value.spans);
    }
  }

  /** The stored values of every stream-hour of the day that a gap touches. */
  async #touchedEntries(dayUs: number, gaps: readonly GapRecord[]): Promise<CoverageEntry[]> {
    const keys = new Map<string, Deno.KvKey>();
    for (const g of gaps) {
      for (const hourUs of slotsTouched(g.row.start_time, g.row.end_time, HOUR_US)) {
        if (hourSlot(dayUs, hourUs) < 0) continue;
        const key = coverageKey(hourUs, g.market, g.row.symbol, g.row.stream);
        keys.set(JSON.stringify(key), key);
      }
    }
    const list = [...keys.values()];
    const out: CoverageEntry[] = [];
    // getMany takes at most 10 keys.
    for (let i = 0; i < list.length; i += 10) {
      for (const { key, value } of await this.#ledger.kv.getMany<CoverageValue[]>(list.slice(i, i + 10))) {
        if (value !== null) out.push({ ...parseCoverageKey(key), value });
      }
    }
    return out;
  }
}

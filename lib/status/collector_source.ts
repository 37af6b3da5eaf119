/**
 * The status page's view of a running collector: live figures from the collector itself, today's gaps and
 * coverage and the latest clock offsets from the ledger (refreshed in the background at most every 30 s, so KV
 * reads stay off the request path), the data directory's free disk space, and the chart data: coverage of any
 * day through a {@link DayCoverageReader} and each market's message rate over the last hour.
 */
import type { Market } from "../binance/types.ts";
import { DayCoverageReader } from "../charts/coverage_reader.ts";
import { type DayCoverage, streamTotals } from "../charts/day_coverage.ts";
import { diskSpace } from "../disk.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { Collector } from "../pipeline/collector.ts";
import { RateMeter } from "../pipeline/rate_meter.ts";
import type { ChartSource } from "./charts_api.ts";
import { FLUSH_SECONDS_BOUNDS, Histogram } from "./histogram.ts";
import { RateHistory, type RateSeries } from "./rate_history.ts";
import type { ClockStatus, DiskStatus, StatusSnapshot, StatusSource } from "./snapshot.ts";

const LEDGER_REFRESH_MS = 30_000;
/** Step of the rate chart. */
const RATE_SAMPLE_MS = 10_000;

/** Free and total bytes of the file system holding `path`; null when it cannot be read. */
async function diskOf(path: string): Promise<DiskStatus | null> {
  try {
    return { path, ...(await diskSpace(path)) };
  } catch {
    return null;
  }
}

/** Builds {@link StatusSnapshot}s of `collector` and serves its chart data; {@linkcode close} stops sampling. */
export class CollectorStatusSource implements StatusSource, ChartSource {
  private readonly flushHistogram = new Histogram(FLUSH_SECONDS_BOUNDS);
  private flushesSeen = 0;
  private readonly meter: RateMeter;
  private readonly history = new RateHistory();
  private readonly reader: DayCoverageReader;
  private readonly sampler: ReturnType<typeof setInterval>;
  private refreshing: Promise<void> | null = null;
  private ledgerView = {
    atMs: -Infinity,
    gapsToday: new Map<string, number>(),
    coverageToday: new Map<string, number>(),
    clock: [] as ClockStatus[],
  };

  constructor(
    private readonly collector: Collector,
    private readonly ledger: Ledger,
    private readonly options: {
      version: string;
      dataDir: string;
      startedAtMs: number;
      /** Shared with the chat commands, so both read a day once. @default a new reader */
      reader?: DayCoverageReader;
      /** Step of the rate chart, ms. @default 10000 */
      rateSampleMs?: number;
    },
  ) {
    this.meter = new RateMeter(options.startedAtMs);
    this.reader = options.reader ?? new DayCoverageReader(ledger);
    this.sampleRates();
    this.sampler = setInterval(() => this.sampleRates(), options.rateSampleMs ?? RATE_SAMPLE_MS);
    Deno.unrefTimer(this.sampler);
  }

  /** Stops the rate sampling. */
  close(): void {
    clearInterval(this.sampler);
  }

  /** Coverage and gaps of a UTC day, from the ledger (cached, see {@link DayCoverageReader}). */
  coverageDay(date: string): Promise<DayCoverage> {
    return this.reader.read(date);
  }

  /** Message rate per market over the last hour. */
  rates(): RateSeries[] {
    return this.history.series();
  }

  private sampleRates(): void {
    const counts = new Map<Market, number>();
    for (const s of this.collector.streams()) counts.set(s.market, (counts.get(s.market) ?? 0) + s.messages);
    this.history.sample(Date.now(), counts);
  }

  async snapshot(): Promise<StatusSnapshot> {
    const nowMs = Date.now();
    if (nowMs - this.ledgerView.atMs >= LEDGER_REFRESH_MS) {
      this.refreshing ??= this.refreshLedger(nowMs).finally(() => this.refreshing = null);
      // Only the first snapshot waits; later ones show the previous view while the ledger is read.
      if (!Number.isFinite(this.ledgerView.atMs)) await this.refreshing;
      else this.refreshing.catch(() => {});
    }
    const c = this.collector;
    // Flushes finished since the last snapshot (the collector keeps the last 100).
    const fresh = c.flushCount - this.flushesSeen;
    for (const f of c.flushes.slice(Math.max(0, c.flushes.length - fresh))) {
      this.flushHistogram.observe(f.ms / 1000);
    }
    this.flushesSeen = c.flushCount;
    const journal = c.journal;
    return {
      version: this.options.version,
      startedAtMs: this.options.startedAtMs,
      nowMs,
      streams: c.streams().map((s) => {
        const key = `${s.market}/${s.symbol}/${s.stream}`;
        return {
          market: s.market,
          symbol: s.symbol,
          stream: s.stream,
          connected: s.connected,
          stale: s.stale,
          messages: s.messages,
          bytes: s.bytes,
          msgsPerSec: this.meter.rate(key, s.messages, nowMs),
          lastMessageAgeMs: Number.isFinite(s.lastSeenUs) ? Math.max(0, nowMs - s.lastSeenUs / 1000) : null,
          gaps: s.gaps,
          gapsToday: this.ledgerView.gapsToday.get(key) ?? 0,
          coverageTodayPct: this.ledgerView.coverageToday.get(key) ?? null,
        };
      }),
      books: c.status().flatMap((m) =>
        m.books.map((b) => ({ market: m.market, symbol: b.symbol, state: b.state, resyncs: b.resyncs }))
      ),
      rest: c.restWeights(),
      clock: this.ledgerView.clock,
      disk: await diskOf(this.options.dataDir),
      journal: {
        unsyncedBytes: journal.bufferedBytes,
        sinceFsyncMs: Number.isFinite(journal.lastSyncMs) ? Math.max(0, nowMs - journal.lastSyncMs) : null,
        errors: c.journalErrors,
      },
      flushes: { durations: this.flushHistogram.snapshot(), failures: c.flushFailures },
    };
  }

  private async refreshLedger(nowMs: number): Promise<void> {
    const date = new Date(nowMs).toISOString().slice(0, 10);
    const dayUs = Date.parse(`${date}T00:00:00Z`) * 1000;
    const gapsToday = new Map<string, number>();
    const day = await this.reader.read(date);
    for (const g of day.gaps) {
      if (g.row.start_time >= nowMs * 1000 || (g.row.end_time <= dayUs && g.row.start_time < dayUs)) continue;
      const key = `${g.market}/${g.row.symbol}/${g.row.stream}`;
      gapsToday.set(key, (gapsToday.get(key) ?? 0) + 1);
    }
    const coverageToday = new Map<string, number>();
    for (const t of streamTotals(day)) coverageToday.set(`${t.market}/${t.symbol}/${t.stream}`, t.pct);
    const latest = new Map<string, ClockStatus>();
    for (const s of await this.ledger.listClockSamples(nowMs * 1000 - 3_600_000_000, nowMs * 1000 + 1)) {
      latest.set(s.source, { source: s.source, offsetMs: s.offsetMs, atMs: s.atUs / 1000 });
    }
    this.ledgerView = { atMs: nowMs, gapsToday, coverageToday, clock: [...latest.values()] };
  }
}

/**
 * The status page's view of a running collector: live figures from the collector itself, today's gaps and
 * coverage and the latest clock offsets from the ledger (refreshed at most every 30 s: KV reads stay off the
 * request path), and the data directory's free disk space.
 */
import { diskSpace } from "../disk.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { Collector } from "../pipeline/collector.ts";
import { RateMeter } from "../pipeline/rate_meter.ts";
import { FLUSH_SECONDS_BOUNDS, Histogram } from "./histogram.ts";
import type { ClockStatus, DiskStatus, StatusSnapshot, StatusSource } from "./snapshot.ts";

const LEDGER_REFRESH_MS = 30_000;

/** Free and total bytes of the file system holding `path`; null when it cannot be read. */
async function diskOf(path: string): Promise<DiskStatus | null> {
  try {
    return { path, ...(await diskSpace(path)) };
  } catch {
    return null;
  }
}

/** Builds {@link StatusSnapshot}s of `collector`. */
export class CollectorStatusSource implements StatusSource {
  private readonly flushHistogram = new Histogram(FLUSH_SECONDS_BOUNDS);
  private flushesSeen = 0;
  private readonly rates: RateMeter;
  private ledgerView = {
    atMs: -Infinity,
    gapsToday: new Map<string, number>(),
    coverageToday: new Map<string, number>(),
    clock: [] as ClockStatus[],
  };

  constructor(
    private readonly collector: Collector,
    private readonly ledger: Ledger,
    private readonly options: { version: string; dataDir: string; startedAtMs: number },
  ) {
    this.rates = new RateMeter(options.startedAtMs);
  }

  async snapshot(): Promise<StatusSnapshot> {
    const nowMs = Date.now();
    await this.refreshLedger(nowMs);
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
          msgsPerSec: this.rates.rate(key, s.messages, nowMs),
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
    if (nowMs - this.ledgerView.atMs < LEDGER_REFRESH_MS) return;
    this.ledgerView.atMs = nowMs;
    const date = new Date(nowMs).toISOString().slice(0, 10);
    const dayUs = Date.parse(`${date}T00:00:00Z`) * 1000;
    const gapsToday = new Map<string, number>();
    for (const g of await this.ledger.listGaps({ fromUs: dayUs, toUs: nowMs * 1000 })) {
      const key = `${g.market}/${g.row.symbol}/${g.row.stream}`;
      gapsToday.set(key, (gapsToday.get(key) ?? 0) + 1);
    }
    const totals = new Map<string, { covered: number; observed: number }>();
    for (const row of await this.ledger.coverage(date)) {
      const key = `${row.market}/${row.symbol}/${row.stream}`;
      const t = totals.get(key) ?? { covered: 0, observed: 0 };
      t.covered += row.coveredSeconds;
      t.observed += row.observedSeconds;
      totals.set(key, t);
    }
    const latest = new Map<string, ClockStatus>();
    for (const s of await this.ledger.listClockSamples(nowMs * 1000 - 3_600_000_000, nowMs * 1000 + 1)) {
      latest.set(s.source, { source: s.source, offsetMs: s.offsetMs, atMs: s.atUs / 1000 });
    }
    this.ledgerView = {
      atMs: nowMs,
      gapsToday,
      coverageToday: new Map(
        [...totals].map(([k, t]) => [k, t.observed > 0 ? (100 * t.covered) / t.observed : 100]),
      ),
      clock: [...latest.values()],
    };
  }
}

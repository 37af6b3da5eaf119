/**
 * The collector shell: wires WebSocket connections, REST requests, the journal, the normalizers and the table
 * store together, and owns the timers. All decisions about data live in the pure parts; this file only moves
 * records between them, in this order for every record: journal first, then normalizer. Its pieces:
 * collector_contract.ts (options and alerts), market_runtime.ts (a market's parts wired), connections.ts
 * (sockets and handovers), rest_fetcher.ts (snapshots and backfill), flush_commit.ts (the flush transaction),
 * flush_schedule.ts (timed flushes), collector_status.ts (read models), health_line.ts (a log line a minute).
 */
import type { Market } from "../binance/types.ts";
import { type Clock, systemClock } from "../clock.ts";
import { RateLimitedLog } from "../log.ts";
import { type LagStats, LoopLagMonitor } from "../loop_lag.ts";
import type { JournalWriter } from "../storage/journal.ts";
import {
  type MarketStatus,
  marketStatus,
  quotes,
  restWeights,
  type StreamStatus,
  streamStatus,
  type SymbolStatus,
  symbolStatus,
} from "./collector_status.ts";
import type { CollectorOptions } from "./collector_contract.ts";
import { FlushCommitter } from "./flush_commit.ts";
import { FlushSchedule } from "./flush_schedule.ts";
import { HealthLine } from "./health_line.ts";
import { JournalKeeper } from "./journal_keeper.ts";
import { type MarketHost, type MarketRuntime, marketRuntime } from "./market_runtime.ts";
import { RateMeter } from "./rate_meter.ts";
import { RecordPacer } from "./record_pacer.ts";
import { type JournalRecord, RecordKind, type RestRecordKind } from "./records.ts";
import { recover, type RecoveryReport } from "./recovery.ts";
import type { FlushResult } from "./table_store.ts";

export type { MarketStatus, StreamStatus, SymbolStatus } from "./collector_status.ts";
export type { CollectorAlert, CollectorOptions, MarketSetup } from "./collector_contract.ts";

const TICK_MS = 100;
/**
 * The record pacer's budget per turn while a flush runs beside the feed (6 ms otherwise): the lag timer waits
 * out the pacer's turn and the flush's step (a part of the state journaled) together.
 */
const FLUSH_PACER_BUDGET_MS = 3;
const HOUSEKEEPING_MS = 1000;

/** Records the configured markets until {@link Collector.stop}. */
export class Collector {
  private readonly markets: MarketRuntime[] = [];
  private readonly byMarket = new Map<Market, MarketRuntime>();
  private nextConnId = 1;
  private timers: ReturnType<typeof setTimeout>[] = [];
  private stopping = false;
  private started = false;
  /** True while recovery replays the journal: requests the normalizers make are already answered in it. */
  private replaying = false;
  private readonly wal: JournalKeeper;
  private readonly flusher: FlushCommitter;
  private readonly badFrames: RateLimitedLog;
  private readonly clock: Clock;
  private readonly symbolRates: RateMeter;
  private readonly lag = new LoopLagMonitor();
  private readonly pacer = new RecordPacer((rec) => this.normalize(rec));
  private readonly health: HealthLine;
  private readonly schedule: FlushSchedule;

  constructor(private readonly options: CollectorOptions) {
    const clock = this.clock = options.clock ?? systemClock;
    this.badFrames = new RateLimitedLog(options.log);
    this.symbolRates = new RateMeter(clock.nowMs());
    this.schedule = new FlushSchedule(clock.nowMs(), options.flushIntervalMs);
    this.wal = new JournalKeeper(options.journal, {
      reopen: options.reopenJournal,
      onFailed: (err) => {
        options.log("error", "journal failed: collecting on in memory while it is reopened", {
          error: String(err),
        });
        options.onAlert?.({ kind: "journal_failed", error: String(err) });
      },
      // Replayed after a crash, the journal lost what came since its last frame: a gap on every stream.
      onReopening: (writer) => {
        const at = clock.nowUs();
        const reason = "the journal failed and was reopened: frames since its last one were not journaled";
        for (const rt of this.markets) writer.append(at, rt.market, 0, RecordKind.Crashed, "", reason);
      },
      onReopened: (writer, downMs) =>
        options.log("warn", "journal reopened", { segment: writer.segment, downMs }),
    });
    const host: MarketHost = {
      options,
      clock,
      badFrames: this.badFrames,
      record: (rec) => this.record(rec),
      nextConnId: () => this.nextConnId++,
      replaying: () => this.replaying,
      stopping: () => this.stopping,
      started: () => this.started,
      gapWritten: (m, gap) => this.flusher.gapWritten(m, gap),
      gapRecovered: (m, gap) => this.flusher.gapRecovered(m, gap),
    };
    for (const setup of options.markets) {
      const rt = marketRuntime(setup, host);
      this.markets.push(rt);
      this.byMarket.set(rt.market, rt);
    }
    this.flusher = new FlushCommitter({
      markets: this.markets.map((rt) => ({
        market: rt.market,
        normalizer: rt.normalizer,
        streams: () => rt.plan.streams,
      })),
      wal: this.wal,
      store: options.store,
      ledger: options.ledger,
      manifest: options.manifest,
      dataDir: options.dataDir,
      keepRaw: options.keepRaw ?? false,
      // A flush's checkpoint is the state as of its FlushMark: every record before it normalized.
      record: (rec) => {
        this.record(rec);
        this.pacer.drain();
      },
      settled: () => this.pacer.idle(),
      hold: () => {
        this.pacer.hold();
        return () => {
          const held = this.pacer.waiting;
          this.pacer.release();
          return held;
        };
      },
      share: () => this.pacer.share(FLUSH_PACER_BUDGET_MS),
      captureSliceMs: options.captureSliceMs,
      log: options.log,
      clock,
      lag: this.lag,
      onFailed: (error) => options.onAlert?.({ kind: "flush_failed", error }),
    }, options.startUs ?? clock.nowUs());
    this.health = new HealthLine({
      markets: this.markets,
      lag: () => this.lag.recent(),
      bufferedBytes: () => options.store.bufferedBytes,
      log: options.log,
    });
  }

  /**
   * Before connecting: replays the journal not yet committed (crash recovery) and commits its rows, so the live
   * run starts from a clean checkpoint.
   */
  async recover(): Promise<RecoveryReport> {
    const { ledger, log, dataDir } = this.options;
    await this.flusher.init();
    this.replaying = true;
    let report: RecoveryReport;
    try {
      report = await recover({
        dataDir,
        journalDir: this.wal.writer.dir,
        ledger,
        normalizers: new Map(this.markets.map((rt) => [rt.market, rt.normalizer])),
        log,
        record: (rec) => this.record(rec),
        nowUs: () => this.clock.nowUs(),
      });
    } finally {
      this.replaying = false;
    }
    if (report.firstUs !== null) await this.flusher.init(report.firstUs);
    await this.flush("recovery");
    // Holes found before the crash (or in the replay) are filled now, from REST.
    for (const rt of this.markets) {
      for (const request of rt.normalizer.pendingBackfills()) rt.fetcher.backfill(request);
    }
    return report;
  }

  /** Opens every connection and starts the timers. */
  start(): void {
    const start = this.clock.nowUs();
    this.started = true;
    this.lag.start();
    this.pacer.start();
    for (const rt of this.markets) {
      rt.liveness.arm(start);
      rt.connections.open();
      rt.universe.start();
    }
    this.timers.push(setInterval(() => this.tick(), TICK_MS));
    this.timers.push(setInterval(() => this.housekeeping(), HOUSEKEEPING_MS));
    this.options.log("info", "collector started", {
      markets: this.markets.map((m) => `${m.market}:${m.plan.streams.length} streams`).join(","),
    });
  }

  /** Wall-clock time (ms) of the last flush start (the flush cron job's safety net reads it). */
  get lastFlushMs(): number {
    return this.flusher.lastStartMs;
  }

  /** Flushes that succeeded. */
  get flushCount(): number {
    return this.flusher.count;
  }

  /** Flushes that failed. */
  get flushFailures(): number {
    return this.flusher.failures;
  }

  /** Results of completed flushes (most recent last, bounded). */
  get flushes(): readonly FlushResult[] {
    return this.flusher.flushes;
  }

  /** The symbols `market` records now (with `symbols: all`, as read from the exchange). */
  symbolsOf(market: Market): readonly string[] {
    return this.byMarket.get(market)?.symbols ?? [];
  }

  /** How late the event loop runs (a flush or a GC pause delays every socket read by as much), in ms. */
  loopLag(): { recent: LagStats; total: LagStats } {
    return { recent: this.lag.recent(), total: this.lag.total.stats() };
  }

  /** Every planned stream with where it stands, for the status page and metrics. */
  streams(): StreamStatus[] {
    return streamStatus(this.markets);
  }

  /** Per configured (market, symbol): connection, book state, last message age and message rate. */
  symbolStatus(): SymbolStatus[] {
    return symbolStatus(this.markets, this.symbolRates, this.clock.nowMs());
  }

  /** Best bid and ask of every synced book with both sides (the Telegram ticker); O(1) per book, no sorting. */
  quotes(): { market: Market; symbol: string; bid: number; ask: number }[] {
    return quotes(this.markets);
  }

  /** The REST clients' request-weight use. */
  restWeights(): { market: Market; weightUsed: number; weightLimit: number }[] {
    return restWeights(this.markets);
  }

  /** Where each market stands. */
  status(): MarketStatus[] {
    return marketStatus(this.markets);
  }

  /**
   * Journals a REST answer that becomes rows (funding polls: {@link RecordKind.FundingRates},
   * {@link RecordKind.PremiumIndex}) and normalizes it, like a frame: a crash before the next flush replays it.
   */
  recordRest(market: Market, kind: RestRecordKind, symbol: string, text: string): void {
    if (this.stopping || !this.byMarket.has(market)) return;
    this.record({ localUs: this.clock.nowUs(), market, conn: 0, kind, symbol, text });
  }

  /** The write-ahead journal (status, benchmarks). */
  get journal(): JournalWriter {
    return this.wal.writer;
  }

  /** Records the journal could not take (it was down, or failed on them). */
  get journalErrors(): number {
    return this.wal.errors;
  }

  /**
   * Stops reading, journals the clean stop, flushes every buffer and closes the journal. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const t0 = performance.now();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.lag.stop();
    for (const rt of this.markets) {
      rt.universe.stop();
      rt.rest.close();
      rt.fetcher.close();
    }
    await Promise.all(this.markets.map((rt) => rt.connections.close()));
    const closedMs = performance.now() - t0;
    const at = this.clock.nowUs();
    for (const rt of this.markets) {
      this.record({
        localUs: at,
        market: rt.market,
        conn: 0,
        kind: RecordKind.Shutdown,
        symbol: "",
        text: "",
      });
    }
    // A flush already running took its rows before the Shutdown record (it may hold the pacer while it copies
    // them): wait for it, then normalize what waits and flush the rest.
    while (this.flusher.running) await this.flusher.running;
    this.pacer.stop();
    // A checkpoint needs the journal: one more try, else the next start recovers what it holds.
    if (this.wal.down && !(await this.wal.reopen())) {
      this.options.log(
        "error",
        "journal down at shutdown: buffered rows are left to the next start's recovery",
      );
    }
    const flushStart = performance.now();
    await this.flush("shutdown");
    const flushMs = performance.now() - flushStart;
    await this.wal.close();
    try {
      await this.flusher.mirrorManifest();
    } catch (err) {
      this.options.log("error", "checksums.json not written", { error: String(err) });
    }
    const total = this.lag.total.stats();
    const flushes = this.lag.spans.stats();
    this.options.log("info", "collector stopped", {
      frames: this.markets.reduce((n, rt) => n + rt.normalizer.stats.frames, 0),
      lagP99Ms: total.p99,
      lagMaxMs: Math.round(total.max * 10) / 10,
      flushLagP99Ms: flushes.p99,
      flushLagMaxMs: Math.round(flushes.max * 10) / 10,
      stopMs: Math.round(performance.now() - t0),
      socketsMs: Math.round(closedMs),
      flushMs: Math.round(flushMs),
    });
  }

  /** Flushes buffers to Parquet now (one flush at a time; a concurrent call waits for the running one). */
  flush(reason: string): Promise<FlushResult | null> {
    return this.flusher.flush(reason);
  }

  /**
   * Journals a record, then normalizes it (now, or after the records waiting in the pacer): the journal always
   * holds what the output was made from. Runs inside socket callbacks, so it never throws; a failing journal
   * (disk full) is logged and counted.
   */
  private record(rec: JournalRecord): void {
    try {
      this.wal.append(rec);
    } catch (err) {
      this.badFrames.write("error", "record not journaled", { kind: rec.kind, error: String(err) });
    }
    this.pacer.push(rec);
  }

  private normalize(rec: JournalRecord): void {
    const rt = this.byMarket.get(rec.market);
    if (rt === undefined) {
      this.badFrames.write("error", "record for a market not recorded", { market: rec.market });
      return;
    }
    try {
      rt.normalizer.process(rec);
    } catch (err) {
      this.badFrames.write("error", "normalizer failed on a record", { kind: rec.kind, error: String(err) });
    }
  }

  private tick(): void {
    this.wal.tick(this.clock.nowMs());
    if (this.options.store.bufferedBytes > this.options.maxBufferBytes) void this.flush("buffer full");
  }

  private housekeeping(): void {
    const nowMs = this.clock.nowMs();
    const due = this.schedule.due(nowMs, this.flusher.lastStartMs);
    if (due !== null) void this.flush(due);
    const nowUs = this.clock.nowUs();
    for (const rt of this.markets) {
      rt.connections.housekeeping(nowUs);
      rt.firstSync.check();
    }
    this.health.maybeLog(nowMs);
  }
}

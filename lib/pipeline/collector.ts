/**
 * The collector shell: wires WebSocket connections, REST snapshots, the journal, the normalizers and the table
 * store together, and owns every timer. All decisions about data live in the pure parts; this file only moves
 * records between them, in this order for every record: journal first, then normalizer.
 */
import { nowUs } from "../clock.ts";
import { StreamConnection, type WebSocketConstructor } from "../binance/connection.ts";
import { StreamLiveness } from "../binance/liveness.ts";
import { ConnectBudget, type ReconnectPolicy } from "../binance/reconnect_policy.ts";
import type { RestClient } from "../binance/rest.ts";
import { type ConnectionPlan, planStreams, type StreamPlan } from "../binance/stream_plan.ts";
import type { Market } from "../binance/types.ts";
import type { Logger } from "../log.ts";
import { RateLimitedLog } from "../log.ts";
import { GapNotFoundError, type Ledger } from "../ledger/ledger.ts";
import type { Checkpoint } from "../ledger/records.ts";
import { type JournalPosition, type JournalWriter, listSegments, segmentPath } from "../storage/journal.ts";
import type { Manifest, ManifestEntry } from "../storage/manifest.ts";
import { archiveSegment } from "../storage/raw_archive.ts";
import type { Row } from "../storage/tables.ts";
import { backfillHead, backfillRecordKind, type BackfillRequest } from "./backfill.ts";
import { MarketNormalizer, type StreamCount } from "./normalizer.ts";
import { RateMeter } from "./rate_meter.ts";
import { JournalKeeper } from "./journal_keeper.ts";
import { recover, type RecoveryReport } from "./recovery.ts";
import { type JournalRecord, RecordKind, type RestRecordKind } from "./records.ts";
import { FlushError, type FlushResult, type TableStore } from "./table_store.ts";

/** One market as the collector needs it (resolved from the config). */
export interface MarketSetup {
  market: Market;
  wsUrl: string;
  symbols: readonly string[];
  streams: readonly string[];
  /** REST depth snapshot limit valid for the market. */
  depthLimit: number;
  rest: RestClient;
}

/** Collector settings. */
export interface CollectorOptions {
  markets: readonly MarketSetup[];
  journal: JournalWriter;
  /** Opens a new journal segment after a write or fsync failure (see {@link JournalKeeper}). */
  reopenJournal?: () => Promise<JournalWriter>;
  store: TableStore;
  log: Logger;
  /** Levels per side in `book_snapshots`. */
  topLevels: number;
  flushIntervalMs: number;
  /** Buffered rows beyond this size trigger an early flush. */
  maxBufferBytes: number;
  /** Age at which a connection gets a replacement (Binance cuts it at 24 h). */
  connectionLifetimeMs: number;
  /** Time the replacement has to get in sync before the server cuts the old one (default 10 min). */
  rotateLeadMs?: number;
  /** Streams per connection (Binance allows 1024). */
  maxStreamsPerConnection?: number;
  webSocket?: WebSocketConstructor;
  /** When to reconnect a socket that went down (tests shorten it). @default new ReconnectPolicy() */
  reconnect?: ReconnectPolicy;
  /** Delay before a failed snapshot request is retried. */
  snapshotRetryMs?: number;
  /** The ledger: checkpoints, file entries, gaps, coverage, flush statistics. */
  ledger: Ledger;
  /** In-memory manifest shared with compaction and cloud sync; committed files are added to it. */
  manifest: Manifest;
  dataDir: string;
  /** Keep committed journal segments as gzip archives under `{dataDir}/_raw/`. */
  keepRaw?: boolean;
  /** Where the recorded span of the first flush starts (recovery: the replayed records' start). */
  startUs?: number;
  /** Operational events for alerts (Telegram). */
  onAlert?: (alert: CollectorAlert) => void;
  /** Notified of every gap written (alerts, tests). */
  onGap?: (market: Market, gap: Row<"gaps">) => void;
}

/** Something the operator should hear about, in the shape the Telegram alerts take. */
export type CollectorAlert =
  | { kind: "disconnect"; market: Market; conn: string; cause: string }
  | { kind: "reconnect"; market: Market; conn: string; downtimeMs: number }
  | { kind: "gap"; market: Market; gap: Row<"gaps"> }
  | {
    kind: "backfill";
    market: Market;
    symbol: string;
    stream: string;
    ok: boolean;
    rows: number;
    detail: string;
  }
  | { kind: "flush_failed"; error: string }
  /** The journal failed: collection goes on in memory while it is reopened. */
  | { kind: "journal_failed"; error: string };

/** Where one (market, symbol) stands, for chat queries. */
export interface SymbolStatus {
  market: Market;
  symbol: string;
  connected: boolean;
  book: string | null;
  lastMessageAgeMs: number | null;
  msgsPerSec: number;
}

/** Status of one market, for reports and tests. */
export interface MarketStatus {
  market: Market;
  connections: { key: string; connId: number | null; state: string; replacing: boolean }[];
  books: { symbol: string; state: string; lastUpdateId: number; resyncs: number }[];
  stats: MarketNormalizer["stats"];
}

/** A plan's connection and, while rotating, its replacement. */
interface Slot {
  plan: ConnectionPlan;
  active: StreamConnection;
  replacement: StreamConnection | null;
}

interface MarketRuntime {
  setup: MarketSetup;
  plan: StreamPlan;
  normalizer: MarketNormalizer;
  liveness: StreamLiveness;
  slots: Slot[];
  /** Symbols with a snapshot request in flight. */
  fetching: Set<string>;
  /** Connection attempts of the market's sockets (Binance limits them per IP). */
  connectBudget: ConnectBudget;
}

const TICK_MS = 100;
const HOUSEKEEPING_MS = 1000;
/**
 * `checksums.json` is rewritten whole, so after months of files a rewrite per flush would cost more disk writes
 * than the data: it is mirrored at most this often, and at recovery and shutdown (the ledger is always current).
 */
const MIRROR_INTERVAL_MS = 5 * 60_000;

/** Records the configured markets until {@link Collector.stop}. */
export class Collector {
  private readonly markets: MarketRuntime[] = [];
  private nextConnId = 1;
  private timers: ReturnType<typeof setTimeout>[] = [];
  private flushing: Promise<FlushResult | null> | null = null;
  private lastFlush = Date.now();
  /** Flushes that failed, and that succeeded (status, metrics). */
  flushFailures = 0;
  flushCount = 0;
  private lastHour = Math.floor(Date.now() / 3_600_000);
  private stopping = false;
  /** True while recovery replays the journal: requests the normalizers make are already answered in it. */
  private replaying = false;
  private readonly wal: JournalKeeper;
  private lastMirrorMs = -Infinity;
  private readonly badFrames: RateLimitedLog;
  private checkpoint: Checkpoint | null = null;
  private readonly symbolRates = new RateMeter(Date.now());
  /** Connections closed in the journal at a handover, before their socket finished closing. */
  private readonly handedOver = new Set<number>();
  /** Gap rows written since the last flush, for the ledger. */
  private pendingGaps: { market: Market; gap: Row<"gaps"> }[] = [];
  /** Gap rows of earlier runs recovered in full since the last flush (marked so in the ledger). */
  private pendingRecoveries: { market: Market; gap: Row<"gaps">; atUs: number }[] = [];
  /** Files written by flushes whose commit has not succeeded yet. */
  private uncommitted: ManifestEntry[] = [];
  private spanStartUs: number;
  /** Results of completed flushes (most recent last, bounded). */
  readonly flushes: FlushResult[] = [];

  constructor(private readonly options: CollectorOptions) {
    this.badFrames = new RateLimitedLog(options.log);
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
        const at = nowUs();
        const reason = "the journal failed and was reopened: frames since its last one were not journaled";
        for (const rt of this.markets) writer.append(at, rt.setup.market, 0, RecordKind.Crashed, "", reason);
      },
      onReopened: (writer, downMs) =>
        options.log("warn", "journal reopened", { segment: writer.segment, downMs }),
    });
    this.spanStartUs = options.startUs ?? nowUs();
    for (const setup of options.markets) {
      const plan = planStreams(
        { market: setup.market, wsUrl: setup.wsUrl, symbols: setup.symbols, streams: setup.streams },
        { maxStreamsPerConnection: options.maxStreamsPerConnection },
      );
      const liveness = StreamLiveness.forStreams(plan.streams);
      const rt: MarketRuntime = {
        setup,
        plan,
        liveness,
        slots: [],
        fetching: new Set(),
        connectBudget: new ConnectBudget(),
        normalizer: undefined as unknown as MarketNormalizer,
      };
      rt.normalizer = new MarketNormalizer(plan, options.store, {
        needSnapshot: (_market, symbol) => {
          if (!this.replaying) this.fetchSnapshot(rt, symbol);
        },
        needBackfill: (_market, request) => {
          if (!this.replaying) this.fetchBackfill(rt, request);
        },
        backfillDone: (market, r) => options.onAlert?.({ kind: "backfill", market, ...r }),
        gapRecovered: (market, gap) => this.pendingRecoveries.push({ market, gap, atUs: nowUs() }),
        gap: (market, gap) => {
          if (!this.replaying) options.onAlert?.({ kind: "gap", market, gap });
          // Recorded in the ledger by the flush that commits the row, so ledger and Parquet agree.
          this.pendingGaps.push({ market, gap });
          options.log("warn", "gap", {
            market,
            symbol: gap.symbol,
            stream: gap.stream,
            kind: gap.kind,
            reason: gap.reason,
          });
          options.onGap?.(market, gap);
        },
      }, {
        topLevels: options.topLevels,
        liveness,
        onBadFrame: (reason, text) =>
          this.badFrames.write("warn", "frame not normalized", {
            market: setup.market,
            reason,
            frame: text.slice(0, 120),
          }),
      });
      this.markets.push(rt);
    }
  }

  /**
   * Before connecting: replays the journal not yet committed (crash recovery) and commits its rows, so the live
   * run starts from a clean checkpoint.
   */
  async recover(): Promise<RecoveryReport> {
    const { ledger, log, dataDir } = this.options;
    this.checkpoint = await ledger.getCheckpoint();
    this.replaying = true;
    let report: RecoveryReport;
    try {
      report = await recover({
        dataDir,
        journalDir: this.wal.writer.dir,
        ledger,
        normalizers: new Map(this.markets.map((rt) => [rt.setup.market, rt.normalizer])),
        log,
        record: (rec) => this.record(rec),
        nowUs,
      });
    } finally {
      this.replaying = false;
    }
    if (report.firstUs !== null) this.spanStartUs = report.firstUs;
    await this.flush("recovery");
    // Holes found before the crash (or in the replay) are filled now, from REST.
    for (const rt of this.markets) {
      for (const request of rt.normalizer.pendingBackfills()) this.fetchBackfill(rt, request);
    }
    return report;
  }

  /** Opens every connection and starts the timers. */
  start(): void {
    const start = nowUs();
    for (const rt of this.markets) {
      rt.liveness.arm(start);
      for (const plan of rt.plan.connections) {
        const slot: Slot = { plan, active: undefined as unknown as StreamConnection, replacement: null };
        slot.active = this.connect(rt, slot);
        rt.slots.push(slot);
        slot.active.start();
      }
    }
    this.timers.push(setInterval(() => this.tick(), TICK_MS));
    this.timers.push(setInterval(() => this.housekeeping(), HOUSEKEEPING_MS));
    this.options.log("info", "collector started", {
      markets: this.markets.map((m) => `${m.setup.market}:${m.plan.streams.length} streams`).join(","),
    });
  }

  /** Wall-clock time (ms) of the last flush start (the flush cron job's safety net reads it). */
  get lastFlushMs(): number {
    return this.lastFlush;
  }

  /** Every planned stream with where it stands, for the status page and metrics. */
  streams(): {
    market: Market;
    symbol: string;
    stream: string;
    connected: boolean;
    stale: boolean;
    lastSeenUs: number;
    messages: number;
    bytes: number;
    gaps: number;
  }[] {
    return this.markets.flatMap((rt) => {
      const totals = rt.normalizer.streamTotals();
      return rt.plan.streams.map((ps) => {
        const slot = rt.slots.find((s) => s.plan.streams.includes(ps));
        const t = totals[ps.index]!;
        return {
          market: rt.setup.market,
          symbol: ps.symbol,
          stream: ps.stream,
          connected: slot?.active.state === "subscribed",
          stale: rt.liveness.isStale(ps.index),
          lastSeenUs: rt.liveness.lastSeenUs(ps.index),
          messages: t.messages,
          bytes: t.bytes,
          gaps: t.gaps,
        };
      });
    });
  }

  /** Per configured (market, symbol): connection, book state, last message age and message rate. */
  symbolStatus(): SymbolStatus[] {
    const nowMs = Date.now();
    const out: SymbolStatus[] = [];
    for (const rt of this.markets) {
      const totals = rt.normalizer.streamTotals();
      for (const symbol of rt.setup.symbols) {
        const streams = rt.plan.streams.filter((ps) => ps.symbol === symbol);
        const lastUs = Math.max(
          ...streams.map((ps) => rt.liveness.lastSeenUs(ps.index)).filter(Number.isFinite),
        );
        const messages = streams.reduce((n, ps) => n + totals[ps.index]!.messages, 0);
        const rate = this.symbolRates.rate(`${rt.setup.market}/${symbol}`, messages, nowMs);
        out.push({
          market: rt.setup.market,
          symbol,
          connected: rt.slots.filter((s) => s.plan.streams.some((ps) => ps.symbol === symbol))
            .every((s) => s.active.state === "subscribed"),
          book: rt.normalizer.bookOf(symbol)?.state ?? null,
          lastMessageAgeMs: Number.isFinite(lastUs) ? Math.max(0, nowMs - lastUs / 1000) : null,
          msgsPerSec: rate,
        });
      }
    }
    return out;
  }

  /** Best bid and ask of every synced book with both sides (the Telegram ticker); O(1) per book, no sorting. */
  quotes(): { market: Market; symbol: string; bid: number; ask: number }[] {
    return this.markets.flatMap((rt) =>
      rt.setup.symbols.flatMap((symbol) => {
        const b = rt.normalizer.bookOf(symbol);
        const bid = b?.state === "synced" ? b.book.bestBid() : undefined;
        const ask = b?.state === "synced" ? b.book.bestAsk() : undefined;
        return bid === undefined || ask === undefined ? [] : [{ market: rt.setup.market, symbol, bid, ask }];
      })
    );
  }

  /** The REST clients' request-weight use. */
  restWeights(): { market: Market; weightUsed: number; weightLimit: number }[] {
    return this.markets.map((rt) => ({
      market: rt.setup.market,
      weightUsed: rt.setup.rest.usedWeight,
      weightLimit: rt.setup.rest.limit,
    }));
  }

  /**
   * Journals a REST answer that becomes rows (funding polls: {@link RecordKind.FundingRates},
   * {@link RecordKind.PremiumIndex}) and normalizes it, like a frame: a crash before the next flush replays it.
   */
  recordRest(market: Market, kind: RestRecordKind, symbol: string, text: string): void {
    if (this.stopping || !this.markets.some((rt) => rt.setup.market === market)) return;
    this.record({ localUs: nowUs(), market, conn: 0, kind, symbol, text });
  }

  /** The write-ahead journal (status, benchmarks). */
  get journal(): JournalWriter {
    return this.wal.writer;
  }

  /** Records the journal could not take (it was down, or failed on them). */
  get journalErrors(): number {
    return this.wal.errors;
  }

  /** Where each market stands. */
  status(): MarketStatus[] {
    return this.markets.map((rt) => ({
      market: rt.setup.market,
      connections: rt.slots.map((s) => ({
        key: s.plan.key,
        connId: s.active.connId,
        state: s.active.state,
        replacing: s.replacement !== null,
      })),
      books: rt.setup.symbols.flatMap((symbol) => {
        const b = rt.normalizer.bookOf(symbol);
        return b
          ? [{ symbol, state: b.state, lastUpdateId: b.book.lastUpdateId, resyncs: b.counters.resyncs }]
          : [];
      }),
      stats: { ...rt.normalizer.stats },
    }));
  }

  /**
   * Stops reading, journals the clean stop, flushes every buffer and closes the journal. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const closing: Promise<void>[] = [];
    for (const rt of this.markets) {
      rt.setup.rest.close();
      for (const s of rt.slots) {
        closing.push(s.active.close());
        if (s.replacement) closing.push(s.replacement.close());
      }
    }
    await Promise.all(closing);
    const at = nowUs();
    for (const rt of this.markets) {
      this.record({
        localUs: at,
        market: rt.setup.market,
        conn: 0,
        kind: RecordKind.Shutdown,
        symbol: "",
        text: "",
      });
    }
    // A checkpoint needs the journal: one more try, else the next start recovers what it holds.
    if (this.wal.down && !(await this.wal.reopen())) {
      this.options.log(
        "error",
        "journal down at shutdown: buffered rows are left to the next start's recovery",
      );
    }
    // A flush already running took its rows before the Shutdown record: wait for it, then flush the rest.
    while (this.flushing) await this.flushing;
    await this.flush("shutdown");
    await this.wal.close();
    try {
      await this.mirrorManifest();
    } catch (err) {
      this.options.log("error", "checksums.json not written", { error: String(err) });
    }
    this.options.log("info", "collector stopped");
  }

  /** Flushes buffers to Parquet now (one flush at a time; a concurrent call waits for the running one). */
  flush(reason: string): Promise<FlushResult | null> {
    if (this.flushing) return this.flushing;
    this.flushing = this.doFlush(reason).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async doFlush(reason: string): Promise<FlushResult | null> {
    this.lastFlush = Date.now();
    const { store, ledger, log } = this.options;
    // Without the journal there is no checkpoint: rows stay buffered until it is reopened.
    if (this.wal.down) return null;
    const atUs = nowUs();
    // Synchronous section: the state records and the taken buffers describe exactly the same journal prefix,
    // so a recovery that restores these states and replays what follows rebuilds every row not in this flush.
    let position: JournalPosition | null = null;
    for (const rt of this.markets) {
      this.record({
        localUs: atUs,
        market: rt.setup.market,
        conn: 0,
        kind: RecordKind.FlushMark,
        symbol: "",
        text: "",
      });
      const state = rt.normalizer.exportState();
      const rec = {
        localUs: atUs,
        market: rt.setup.market,
        conn: 0,
        kind: RecordKind.Checkpoint,
        symbol: "",
        text: state,
      };
      if (!this.wal.append(rec)) return null;
      position ??= this.wal.writer.lastRecord;
    }
    const gaps = this.pendingGaps.splice(0);
    const recoveries = this.pendingRecoveries.splice(0);
    const spanStartUs = this.spanStartUs;
    this.spanStartUs = atUs;
    const batch = store.take();
    // The checkpoint must be durable before the ledger points at it.
    if (!(await this.wal.sync())) {
      store.putBack(batch);
      this.pendingGaps.unshift(...gaps);
      this.pendingRecoveries.unshift(...recoveries);
      this.spanStartUs = spanStartUs;
      return null;
    }
    // Message counts are keyed by their own hour, so taking them after the await only moves them between
    // flushes of the same coverage.
    const counts = this.markets.map((rt) => ({ rt, counts: rt.normalizer.takeCounts() }));
    let committed = false;
    try {
      let result: FlushResult;
      try {
        result = await store.write(batch);
      } catch (err) {
        if (err instanceof FlushError) this.uncommitted.push(...err.written);
        throw err;
      }
      const files = [...this.uncommitted, ...result.files];
      // Before the checkpoint: a crash in between replays these gaps, and adding a gap again is a no-op.
      for (const g of gaps) await ledger.addGap(g.market, g.gap);
      for (const r of recoveries) await this.markRecovered(r);
      if (!(await ledger.commitCheckpoint(this.checkpoint, position!, files))) {
        throw new Error("the ledger's checkpoint changed under this collector (is another one running?)");
      }
      committed = true;
      this.uncommitted = [];
      this.checkpoint = await ledger.getCheckpoint();
      for (const e of files) this.options.manifest.add(e);
      if (reason === "recovery" || Date.now() - this.lastMirrorMs >= MIRROR_INTERVAL_MS) {
        await this.mirrorManifest();
      }
      await this.recordCoverage(counts, spanStartUs, atUs);
      await ledger.addFlush({
        atUs,
        files: files.length,
        rows: result.rows,
        bytes: result.bytes,
        ms: result.ms,
        reason,
      });
      this.flushes.push(result);
      this.flushCount++;
      if (this.flushes.length > 100) this.flushes.shift();
      log("info", "flushed", { reason, files: files.length, rows: result.rows, ms: Math.round(result.ms) });
      await this.pruneJournal(position!.segment);
      return result;
    } catch (err) {
      // The ledger still points at the previous checkpoint: a crash now replays from there, and files written
      // by this flush are orphans that recovery removes. Without a crash the next flush commits them.
      this.flushFailures++;
      if (!committed) {
        this.pendingGaps.unshift(...gaps);
        this.pendingRecoveries.unshift(...recoveries);
        // The next flush's coverage span starts where this one's did, with this one's message counts.
        this.spanStartUs = spanStartUs;
        for (const { rt, counts: list } of counts) rt.normalizer.putBackCounts(list);
      }
      this.options.onAlert?.({ kind: "flush_failed", error: String(err) });
      log("error", "flush failed", { reason, error: String(err) });
      return null;
    }
  }

  /** Marks a gap row of an earlier run recovered (its `backfilled` twin is in this flush). */
  private async markRecovered(r: { market: Market; gap: Row<"gaps">; atUs: number }): Promise<void> {
    const { symbol, stream, start_time, kind } = r.gap;
    const key = { market: r.market, symbol, stream, startUs: start_time, kind };
    try {
      await this.options.ledger.markRecovered(key, r.atUs, "backfilled from REST by a later run");
    } catch (err) {
      // A gap the ledger never recorded (its run crashed before committing it) has nothing to mark.
      if (!(err instanceof GapNotFoundError)) throw err;
    }
  }

  /** Writes `checksums.json` from the in-memory manifest, which follows the ledger's files. */
  private async mirrorManifest(): Promise<void> {
    this.lastMirrorMs = Date.now();
    await this.options.manifest.save();
  }

  /** Adds each stream's recorded span and message counts to the coverage ledger, hour by hour. */
  private async recordCoverage(
    counts: { rt: MarketRuntime; counts: StreamCount[] }[],
    fromUs: number,
    toUs: number,
  ): Promise<void> {
    const HOUR = 3_600_000_000;
    for (const { rt, counts: list } of counts) {
      const byKey = new Map<string, number>();
      for (const c of list) {
        const key = `${c.symbol}\u0000${c.stream}\u0000${c.hourUs}`;
        byKey.set(key, (byKey.get(key) ?? 0) + c.messages);
      }
      for (const ps of rt.plan.streams) {
        for (let hourUs = fromUs - fromUs % HOUR; hourUs < toUs; hourUs += HOUR) {
          const messages = byKey.get(`${ps.symbol}\u0000${ps.stream}\u0000${hourUs}`) ?? 0;
          await this.options.ledger.addCoverage(rt.setup.market, ps.symbol, ps.stream, hourUs, {
            messages,
            spanStartUs: Math.max(fromUs, hourUs),
            spanEndUs: Math.min(toUs, hourUs + HOUR),
          });
        }
      }
    }
  }

  /** Segments before the committed checkpoint are in Parquet: delete them, or archive them with `keep_raw`. */
  private async pruneJournal(before: number): Promise<void> {
    const dir = this.wal.writer.dir;
    for (const id of await listSegments(dir)) {
      if (id >= before) continue;
      const path = segmentPath(dir, id);
      if (this.options.keepRaw) await archiveSegment(path, `${this.options.dataDir}/_raw`);
      await Deno.remove(path).catch(() => {});
    }
  }

  /**
   * Journals a record, then normalizes it: the journal always holds what the output was made from. Runs inside
   * socket callbacks, so it never throws; a failing journal (disk full) is logged and counted.
   */
  private record(rec: JournalRecord): void {
    try {
      this.wal.append(rec);
    } catch (err) {
      this.badFrames.write("error", "record not journaled", { kind: rec.kind, error: String(err) });
    }
    try {
      this.normalizerOfRecord(rec).process(rec);
    } catch (err) {
      this.badFrames.write("error", "normalizer failed on a record", { kind: rec.kind, error: String(err) });
    }
  }

  private normalizerOfRecord(rec: JournalRecord): MarketNormalizer {
    for (const rt of this.markets) if (rt.setup.market === rec.market) return rt.normalizer;
    throw new Error(`No normalizer for market ${rec.market}`);
  }

  private connect(rt: MarketRuntime, slot: Slot): StreamConnection {
    const market = rt.setup.market;
    const log = this.options.log;
    // When the connection's socket went down, until one opens again (for the reconnect alert's downtime).
    let downSinceUs: number | null = null;
    const label = `${slot.plan.key} (${[...new Set(slot.plan.streams.map((s) => s.symbol))].join(",")})`;
    const conn: StreamConnection = new StreamConnection({
      plan: slot.plan,
      nextConnId: () => this.nextConnId++,
      webSocket: this.options.webSocket,
      budget: rt.connectBudget,
      reconnect: this.options.reconnect,
      lifetimeMs: this.options.connectionLifetimeMs + (this.options.rotateLeadMs ?? 600_000),
      rotateLeadMs: this.options.rotateLeadMs ?? 600_000,
      handlers: {
        onFrame: (text, localUs, connId) => {
          this.record({ localUs, market, conn: connId, kind: RecordKind.Frame, symbol: "", text });
        },
        onOpen: (connId, info) => {
          this.record({
            localUs: info.openedUs,
            market,
            conn: connId,
            kind: RecordKind.ConnOpen,
            symbol: "",
            text: slot.plan.key,
          });
          log("info", "connected", { market, plan: slot.plan.key, conn: connId, attempt: info.attempt });
          if (downSinceUs !== null) {
            this.options.onAlert?.({
              kind: "reconnect",
              market,
              conn: label,
              downtimeMs: Math.round((info.openedUs - downSinceUs) / 1000),
            });
            downSinceUs = null;
          }
        },
        onSubscribed: (connId, info) => {
          this.record({
            localUs: info.subscribedUs,
            market,
            conn: connId,
            kind: RecordKind.Subscribed,
            symbol: "",
            text: "",
          });
          log("info", "subscribed", { market, plan: slot.plan.key, conn: connId, streams: info.streams });
        },
        onSubscribeFailed: (connId, f) => {
          log("warn", "subscribe failed", {
            market,
            conn: connId,
            code: f.code,
            msg: f.msg,
            retryInMs: f.retryInMs,
          });
        },
        onClose: (connId, info) => {
          // A clean stop is not a disconnect: the Shutdown record ends the run instead.
          if (this.stopping) return;
          // A connection handed over to its replacement was already closed in the journal (see promote).
          if (info.opened && !this.handedOver.delete(connId)) {
            this.record({
              localUs: info.downSinceUs,
              market,
              conn: connId,
              kind: RecordKind.ConnClose,
              symbol: "",
              text: `${info.cause.kind} code=${info.code} ${info.reason}`.trim(),
            });
          }
          if (info.opened && slot.active === conn && !slot.replacement) {
            downSinceUs = info.downSinceUs;
            this.options.onAlert?.({ kind: "disconnect", market, conn: label, cause: info.cause.kind });
          }
          log("warn", "disconnected", {
            market,
            plan: slot.plan.key,
            conn: connId,
            cause: info.cause.kind,
            status: info.cause.kind === "error" ? info.cause.status : undefined,
            retry: info.retry,
            reconnectInMs: info.reconnectInMs,
          });
          // The active socket died while a replacement is already up: let the replacement carry on alone.
          if (slot.active === conn && slot.replacement) this.promote(slot);
        },
        onLifetimeNear: (connId) => {
          this.replace(rt, slot, conn, connId, "connection nears its lifetime");
        },
        // Keep reading the announced socket until a replacement is in sync, as at the 24 h cut.
        onServerShutdown: (connId) => this.replace(rt, slot, conn, connId, "server announced shutdown"),
        onBadFrame: (connId, frame) => {
          this.badFrames.write("warn", "non-text or unknown frame", {
            market,
            conn: connId,
            type: typeof frame,
          });
        },
      },
    });
    return conn;
  }

  /** Opens a replacement for the slot's active connection; true when one is (now) running. */
  private replace(
    rt: MarketRuntime,
    slot: Slot,
    conn: StreamConnection,
    connId: number,
    why: string,
  ): boolean {
    if (this.stopping || slot.active !== conn) return false;
    if (slot.replacement) return true;
    this.options.log("info", `${why}: opening a replacement`, {
      market: rt.setup.market,
      plan: slot.plan.key,
      conn: connId,
    });
    slot.replacement = this.connect(rt, slot);
    slot.replacement.start();
    return true;
  }

  /** The replacement takes over; the old connection is closed for good. */
  private promote(slot: Slot): void {
    const old = slot.active;
    slot.active = slot.replacement!;
    slot.replacement = null;
    // Journal the close now, in the same step as the readiness check that allowed it: once `close()` starts,
    // the old socket delivers nothing more, and frames the replacement brings meanwhile must not count against
    // the handover.
    const oldId = old.connId;
    if (oldId !== null && old.state !== "waiting" && old.state !== "stopped") {
      this.handedOver.add(oldId);
      this.record({
        localUs: nowUs(),
        market: old.plan.market,
        conn: oldId,
        kind: RecordKind.ConnClose,
        symbol: "",
        text: "handed over to its replacement",
      });
    }
    void old.close();
  }

  private fetchSnapshot(rt: MarketRuntime, symbol: string): void {
    if (this.stopping || rt.fetching.has(symbol)) return;
    rt.fetching.add(symbol);
    const market = rt.setup.market;
    rt.setup.rest.depth(symbol, rt.setup.depthLimit).then(
      ({ text }) => {
        rt.fetching.delete(symbol);
        if (this.stopping) return;
        this.record({ localUs: nowUs(), market, conn: 0, kind: RecordKind.Snapshot, symbol, text });
      },
      (err) => {
        rt.fetching.delete(symbol);
        if (this.stopping) return;
        this.options.log("warn", "snapshot request failed", { market, symbol, error: String(err) });
        const retry = setTimeout(() => {
          this.timers = this.timers.filter((t) => t !== retry);
          if (rt.normalizer.bookOf(symbol)?.state !== "synced") this.fetchSnapshot(rt, symbol);
        }, this.options.snapshotRetryMs ?? 2000);
        this.timers.push(retry);
      },
    );
  }

  /**
   * Fetches rows missed on the socket from REST (at backfill priority, behind snapshots) and journals the answer,
   * or the failure, for the normalizer. One page per request; the normalizer asks for the next.
   */
  private fetchBackfill(rt: MarketRuntime, req: BackfillRequest): void {
    if (this.stopping) return;
    const market = rt.setup.market;
    const rest = rt.setup.rest;
    const call = req.kind === "trades"
      ? rest.aggTrades({ symbol: req.symbol, fromId: req.fromId, limit: 1000 })
      : rest.klines({
        symbol: req.symbol,
        interval: req.interval,
        startTime: req.fromOpenMs,
        endTime: req.toOpenMs,
        limit: 1000,
      });
    const journal = (failed: boolean, text: string) =>
      this.record({
        localUs: nowUs(),
        market,
        conn: 0,
        kind: backfillRecordKind(req),
        symbol: req.symbol,
        text: `${backfillHead(req, failed)}\n${text}`,
      });
    call.then(
      ({ text }) => {
        if (!this.stopping) journal(false, text);
      },
      (err) => {
        if (this.stopping) return;
        this.options.log("warn", "backfill failed", {
          market,
          symbol: req.symbol,
          kind: req.kind,
          error: String(err),
        });
        journal(true, String(err));
      },
    );
  }

  private tick(): void {
    this.wal.tick(Date.now());
    if (this.options.store.bufferedBytes > this.options.maxBufferBytes) void this.flush("buffer full");
  }

  private housekeeping(): void {
    const nowMs = Date.now();
    const hour = Math.floor(nowMs / 3_600_000);
    if (hour !== this.lastHour) {
      this.lastHour = hour;
      void this.flush("hour");
    } else if (nowMs - this.lastFlush >= this.options.flushIntervalMs) {
      void this.flush("interval");
    }
    const now = nowUs();
    for (const rt of this.markets) {
      this.checkLiveness(rt, now);
      for (const slot of rt.slots) {
        const id = slot.replacement?.connId;
        if (id != null && rt.normalizer.connectionInSync(id)) {
          this.options.log("info", "rotated connection without a gap", {
            market: rt.setup.market,
            plan: slot.plan.key,
            conn: id,
          });
          this.promote(slot);
        }
      }
    }
  }

  private checkLiveness(rt: MarketRuntime, now: number): void {
    const { stale } = rt.liveness.check(now);
    for (const index of stale) {
      const ps = rt.plan.streams[index]!;
      this.record({
        localUs: now,
        market: rt.setup.market,
        conn: 0,
        kind: RecordKind.Stale,
        symbol: "",
        text: ps.name,
      });
      // Streams with a fixed cadence never go quiet on a healthy socket: reconnect the one carrying it.
      if (ps.kind === "kline" || ps.kind === "markPrice") {
        for (const slot of rt.slots) {
          if (slot.plan.streams.includes(ps)) slot.active.reconnect(`stream ${ps.name} is stale`);
        }
      }
    }
  }
}

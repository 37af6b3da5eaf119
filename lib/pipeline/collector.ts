/**
 * The collector shell: wires WebSocket connections, REST snapshots, the journal, the normalizers and the table
 * store together, and owns every timer. All decisions about data live in the pure parts; this file only moves
 * records between them, in this order for every record: journal first, then normalizer.
 */
import { nowUs } from "../clock.ts";
import { StreamConnection, type WebSocketConstructor } from "../binance/connection.ts";
import { StreamLiveness } from "../binance/liveness.ts";
import type { RestClient } from "../binance/rest.ts";
import { type ConnectionPlan, planStreams, type StreamPlan } from "../binance/stream_plan.ts";
import type { Market } from "../binance/types.ts";
import type { Logger } from "../log.ts";
import { RateLimitedLog } from "../log.ts";
import { type JournalWriter, listSegments, segmentPath } from "../storage/journal.ts";
import type { Row } from "../storage/tables.ts";
import { MarketNormalizer } from "./normalizer.ts";
import { type JournalRecord, RecordKind } from "./records.ts";
import type { FlushResult, TableStore } from "./table_store.ts";

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
  /** Delay before a failed snapshot request is retried. */
  snapshotRetryMs?: number;
  /** Delete journal segments once their rows are in committed Parquet files. */
  pruneJournal?: boolean;
  /** Notified of every gap written (alerts, tests). */
  onGap?: (market: Market, gap: Row<"gaps">) => void;
}

/** Status of one market, for reports and tests. */
export interface MarketStatus {
  market: Market;
  connections: { key: string; connId: number | null; state: string; replacing: boolean }[];
  books: { symbol: string; state: string; lastUpdateId: number }[];
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
}

const TICK_MS = 100;
const HOUSEKEEPING_MS = 1000;

/** Records the configured markets until {@link Collector.stop}. */
export class Collector {
  private readonly markets: MarketRuntime[] = [];
  private nextConnId = 1;
  private timers: ReturnType<typeof setTimeout>[] = [];
  private flushing: Promise<FlushResult | null> | null = null;
  private lastFlushMs = Date.now();
  private lastHour = Math.floor(Date.now() / 3_600_000);
  private stopping = false;
  /** Records the journal could not take (it stops accepting after a write or fsync failure). */
  journalErrors = 0;
  private readonly badFrames: RateLimitedLog;
  /** Results of completed flushes (most recent last, bounded). */
  readonly flushes: FlushResult[] = [];

  constructor(private readonly options: CollectorOptions) {
    this.badFrames = new RateLimitedLog(options.log);
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
        normalizer: undefined as unknown as MarketNormalizer,
      };
      rt.normalizer = new MarketNormalizer(plan, options.store, {
        needSnapshot: (_market, symbol) => this.fetchSnapshot(rt, symbol),
        gap: (market, gap) => {
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

  /** The write-ahead journal (status, benchmarks). */
  get journal(): JournalWriter {
    return this.options.journal;
  }

  /** The normalizer of a market (status, tests). */
  normalizerOf(market: Market): MarketNormalizer | undefined {
    return this.markets.find((m) => m.setup.market === market)?.normalizer;
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
        return b ? [{ symbol, state: b.state, lastUpdateId: b.book.lastUpdateId }] : [];
      }),
      stats: { ...rt.normalizer.stats },
    }));
  }

  /** Forces every connection to drop and reconnect (operator command, tests). */
  reconnectAll(reason: string): void {
    for (const rt of this.markets) for (const s of rt.slots) s.active.reconnect(reason);
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
    await this.flush("shutdown");
    await this.options.journal.close();
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
    this.lastFlushMs = Date.now();
    const journal = this.options.journal;
    try {
      // Rows of every record in segments up to `closed` are in the buffers now (records are normalized as
      // soon as they are journaled), so once the flush is committed those segments are no longer needed.
      const closed = this.stopping ? journal.segment : await journal.rotate();
      const result = await this.options.store.flush();
      this.flushes.push(result);
      if (this.flushes.length > 100) this.flushes.shift();
      this.options.log("info", "flushed", {
        reason,
        files: result.files.length,
        rows: result.rows,
        ms: Math.round(result.ms),
      });
      if (this.options.pruneJournal && !this.stopping) await this.pruneJournal(closed);
      return result;
    } catch (err) {
      this.options.log("error", "flush failed", { reason, error: String(err) });
      return null;
    }
  }

  private async pruneJournal(upTo: number): Promise<void> {
    const dir = this.options.journal.dir;
    for (const id of await listSegments(dir)) {
      if (id <= upTo) await Deno.remove(segmentPath(dir, id)).catch(() => {});
    }
  }

  /**
   * Journals a record, then normalizes it: the journal always holds what the output was made from. Runs inside
   * socket callbacks, so it never throws; a failing journal (disk full) is logged and counted.
   */
  private record(rec: JournalRecord): void {
    try {
      this.options.journal.append(rec.localUs, rec.market, rec.conn, rec.kind, rec.symbol, rec.text);
    } catch (err) {
      this.journalErrors++;
      this.badFrames.write("error", "journal append failed", { error: String(err) });
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
    const conn: StreamConnection = new StreamConnection({
      plan: slot.plan,
      nextConnId: () => this.nextConnId++,
      webSocket: this.options.webSocket,
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
          if (info.opened) {
            this.record({
              localUs: info.downSinceUs,
              market,
              conn: connId,
              kind: RecordKind.ConnClose,
              symbol: "",
              text: `${info.cause.kind} code=${info.code} ${info.reason}`.trim(),
            });
          }
          log("warn", "disconnected", {
            market,
            plan: slot.plan.key,
            conn: connId,
            cause: info.cause.kind,
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

  private tick(): void {
    try {
      this.options.journal.tick(Date.now());
    } catch (err) {
      this.options.log("error", "journal failed", { error: String(err) });
    }
    if (this.options.store.bufferedBytes > this.options.maxBufferBytes) void this.flush("buffer full");
  }

  private housekeeping(): void {
    const nowMs = Date.now();
    const hour = Math.floor(nowMs / 3_600_000);
    if (hour !== this.lastHour) {
      this.lastHour = hour;
      void this.flush("hour");
    } else if (nowMs - this.lastFlushMs >= this.options.flushIntervalMs) {
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

/**
 * The normalizer: journal records in, rows of the output tables out. The same code runs on live frames and on
 * a journal replay, so both produce identical rows.
 *
 * Per stream it admits frames through a {@link StreamCursor} (de-duplicating overlapping connections), keeps
 * depth books in sync through {@link BookSync}, and records every interval in which data may be missing as a
 * `gaps` row. It performs no I/O: rows go to a {@link RowSink}, and requests for REST snapshots go to
 * {@link NormalizerEvents} (the live shell fetches and journals them; a replay ignores them, because the journal
 * already holds the snapshots that were fetched).
 */
import {
  MalformedMessageError,
  parseAggTrade,
  parseBookTicker,
  parseDepthDiff,
  parseKline,
  parseLiquidation,
  parseMarkPrice,
  type Payload,
} from "../binance/messages.ts";
import { parseDepthSnapshot, parseFundingRates, parsePremiumIndex } from "../binance/rest_parse.ts";
import {
  type ConnectionPlan,
  extendPlan,
  type PlannedStream,
  type StreamPlan,
} from "../binance/stream_plan.ts";
import type { DepthDiff, DepthSnapshot, Market } from "../binance/types.ts";
import { BookSync, type SequenceGap, type SyncSink } from "../book/sync.ts";
import { diffContinues } from "../book/sequencer.ts";
import type { OrderBook } from "../book/order_book.ts";
import type { Row, TableName } from "../storage/tables.ts";
import { type BackfillRequest, type BackfillResult, Backfills, type SavedBackfills } from "./backfill.ts";
import { type JournalRecord, RecordKind } from "./records.ts";
import {
  bookTickerRow,
  fundingRow,
  klineRow,
  liquidationRow,
  markPriceRow,
  msToUs,
  premiumIndexRow,
  tradeRow,
} from "./rows.ts";
import { Admit, StreamCursor } from "./stream_cursor.ts";

export type { BackfillRequest } from "./backfill.ts";

/** Where rows go; `partitionUs` is the time that decides the file's UTC date and hour. */
export interface RowSink {
  row<N extends TableName>(market: Market, table: N, symbol: string, partitionUs: number, row: Row<N>): void;
}

/** What the normalizer asks of the live shell, and what it reports. */
export interface NormalizerEvents {
  /** The book of `symbol` needs a (new) REST snapshot. */
  needSnapshot(market: Market, symbol: string): void;
  /** A gap was closed and written (for alerts and the ledger). */
  gap?(market: Market, gap: Row<"gaps">): void;
  /** Rows missed on the socket should be fetched from REST (the answer comes back as a Backfill record). */
  needBackfill?(market: Market, request: BackfillRequest): void;
  /** A backfill ended: `ok` when every missed row came back. */
  backfillDone?(market: Market, result: BackfillResult): void;
  /** A gap row written earlier (its backfill was pending at a stop) was recovered in full after all. */
  gapRecovered?(market: Market, earlier: Row<"gaps">): void;
  /** The plan grew (symbols added): track the new streams, open the new connections. Also on replay. */
  planGrew?(streams: readonly PlannedStream[], connections: readonly ConnectionPlan[]): void;
  /** Streams of symbols that stopped trading (retired) or trade again (revived). Also on replay. */
  retired?(streams: readonly PlannedStream[]): void;
  revived?(streams: readonly PlannedStream[]): void;
}

/** Counters for status and metrics. */
export interface NormalizerStats {
  records: number;
  frames: number;
  /** Frames that are not JSON. */
  badFrames: number;
  /** JSON frames for a stream or event the collector does not know. */
  unknownFrames: number;
  /** Known streams whose payload lacks a field or has a wrong type. */
  malformedFrames: number;
  duplicates: number;
  held: number;
  gaps: number;
  /** Rows recovered from REST. */
  backfilled: number;
}

/** Options of {@link MarketNormalizer}. */
export interface NormalizerOptions {
  /** Levels per side in `book_snapshots`. */
  topLevels: number;
  /** Diffs a book buffers while waiting for a snapshot. */
  maxBufferedDiffs?: number;
  /** Reports malformed frames (the caller rate-limits logging). */
  onBadFrame?(reason: string, text: string): void;
  /** Told of every frame routed to a stream (liveness tracking). */
  liveness?: { seen(streamIndex: number, localUs: number): void };
  /**
   * `symbols: all`: the plan follows {@link RecordKind.Universe} records, and checkpoints save it (a restore
   * rebuilds it). Otherwise the plan is the config's and a saved plan is ignored.
   */
  dynamicUniverse?: boolean;
}

/** A diff with its arrival time (the book hands the same object back after applying it). */
type DiffAt = DepthDiff & { localUs: number };

interface OpenGap {
  kind: "sequence" | "disconnect" | "stale";
  startUs: number;
  lastId: number | null;
  reason: string;
}

/** Per-stream state. */
interface StreamState {
  ps: PlannedStream;
  cursor: StreamCursor<Payload>;
  gap: OpenGap | null;
  /** Depth streams only. */
  book: BookSync | null;
  /** Kline streams: open time of the last closed candle written. */
  lastClosedOpen: number;
  /** After a clean stop: the last frame its connections delivered (where the stop's gap begins). */
  downSinceUs: number;
  /** Its symbol stopped trading (`symbols: all`): silence is expected, no gap opens. */
  retired: boolean;
  /** Depth streams: local time of the last snapshot record (its rows carry it). */
  snapshotUs: number;
  /** Messages routed to the stream in hour `countHourUs` (coverage statistics). */
  count: number;
  countHourUs: number;
  /** Totals since start (status and metrics). */
  totals: { messages: number; bytes: number; gaps: number };
}

/** Messages of one stream in one UTC hour, for the coverage ledger. */
export interface StreamCount {
  symbol: string;
  stream: string;
  hourUs: number;
  messages: number;
}

/** The saved form of one stream (see {@link MarketNormalizer.exportState}). */
interface SavedStream {
  name: string;
  conns: { id: number; sinceUs: number | null }[];
  owner: number;
  lastKey: number | null;
  lastLocalUs: number | null;
  gap: OpenGap | null;
  lastClosedOpen: number | null;
  /** Absent in states saved before 0.4. */
  downSinceUs?: number | null;
  book: { lastUpdateId: number; bids: [number, number][]; asks: [number, number][] } | null;
}

interface SavedState {
  v: 1;
  market: Market;
  /** Saved after a clean stop (nothing was running). */
  stopped: boolean;
  /** Local time of the last frame (absent in states saved before 0.3.1). */
  lastFrameUs?: number | null;
  /** `lastUs`: its last frame (absent in states saved before 0.4). */
  conns: { id: number; plan: string; lastUs?: number | null }[];
  streams: SavedStream[];
  backfills: SavedBackfills;
  /** `symbols: all` only: the symbols of each {@link RecordKind.Universe} addition, in order, and the retired. */
  universe?: { batches: string[][]; retired: string[] };
}

const HOUR_US = 3_600_000_000;

const CONTIGUOUS_KINDS = new Set(["aggTrade"]);

/** Normalizes the records of one market. */
export class MarketNormalizer implements SyncSink {
  readonly stats: NormalizerStats = {
    records: 0,
    frames: 0,
    badFrames: 0,
    unknownFrames: 0,
    malformedFrames: 0,
    duplicates: 0,
    held: 0,
    gaps: 0,
    backfilled: 0,
  };
  readonly market: Market;
  private readonly states: StreamState[] = [];
  private readonly depthBySymbol = new Map<string, StreamState>();
  /** Recorded symbols without a `markPrice` stream: their mark price comes from REST `premiumIndex` polls. */
  private readonly polledMarkPrice = new Set<string>();
  /** `symbols: all`: the symbols of each addition, in order (a restore replays them), and the retired ones. */
  private readonly batches: string[][] = [];
  private readonly retiredSymbols = new Set<string>();
  private readonly connStreams = new Map<number, StreamState[]>();
  /** Plan key of each registered connection (checkpoints restore the registrations from it). */
  private readonly connPlans = new Map<number, string>();
  /** Closed per-hour message counts not yet taken by {@link takeCounts}. */
  private readonly counts: StreamCount[] = [];
  /** Holes waiting for their REST backfill. */
  private readonly backfills = new Backfills();
  private readonly connLastUs = new Map<number, number>();
  private readonly planStreams = new Map<string, StreamState[]>();
  private readonly routes: ReadonlyMap<string, PlannedStream>;
  private readonly top: number;
  private readonly topBuf: Float64Array[];
  /** Local time of the record being processed; rows written by book callbacks use it. */
  private nowUs = 0;
  /** Local time of the last frame: where a crash's loss begins. */
  private lastFrameUs = NaN;
  /** True after a clean Shutdown until the next connection opens. */
  stopped = false;

  constructor(
    private readonly plan: StreamPlan,
    private readonly sink: RowSink,
    private readonly events: NormalizerEvents,
    private readonly options: NormalizerOptions,
  ) {
    this.market = plan.market;
    this.routes = plan.routes;
    this.top = options.topLevels;
    this.topBuf = [0, 1, 2, 3].map(() => new Float64Array(options.topLevels));
    this.trackPlan(plan.connections);
  }

  /** Creates the state of the plan's streams that have none yet, and registers `connections`. */
  private trackPlan(connections: readonly ConnectionPlan[]): PlannedStream[] {
    const fresh = this.plan.streams.slice(this.states.length);
    for (const ps of fresh) {
      const st: StreamState = {
        ps,
        cursor: new StreamCursor<Payload>(CONTIGUOUS_KINDS.has(ps.kind)),
        gap: null,
        book: ps.kind === "depth"
          ? new BookSync(this.market, ps.symbol, this, { maxBuffered: this.options.maxBufferedDiffs })
          : null,
        lastClosedOpen: -Infinity,
        downSinceUs: NaN,
        retired: false,
        snapshotUs: NaN,
        count: 0,
        countHourUs: 0,
        totals: { messages: 0, bytes: 0, gaps: 0 },
      };
      this.states.push(st);
      if (st.book) this.depthBySymbol.set(ps.symbol, st);
    }
    const streamed = new Set(
      this.plan.streams.filter((ps) => ps.kind === "markPrice").map((ps) => ps.symbol),
    );
    for (const ps of fresh) if (!streamed.has(ps.symbol)) this.polledMarkPrice.add(ps.symbol);
    for (const c of connections) this.planStreams.set(c.key, c.streams.map((ps) => this.states[ps.index]!));
    return fresh;
  }

  /** The symbols recorded now: planned and not retired. */
  symbols(): string[] {
    const out = new Set<string>();
    for (const ps of this.plan.streams) if (!this.retiredSymbols.has(ps.symbol)) out.add(ps.symbol);
    return [...out];
  }

  /** The book sync of a symbol (for status and tests). */
  bookOf(symbol: string): BookSync | undefined {
    return this.depthBySymbol.get(symbol)?.book ?? undefined;
  }

  /**
   * True when `conn` could replace the other connections of its streams without losing a message: every depth
   * book is synced and every stream of `conn` is ready to take over (see {@link StreamCursor.ready}).
   */
  connectionInSync(conn: number): boolean {
    const streams = this.connStreams.get(conn);
    if (!streams) return false;
    for (const st of streams) {
      if (st.book && st.book.state !== "synced") return false;
      if (!st.cursor.ready(conn)) return false;
    }
    return true;
  }

  /** Consumes one journal record. Never throws on bad input: it is counted and reported. */
  process(rec: JournalRecord): void {
    this.stats.records++;
    this.nowUs = rec.localUs;
    switch (rec.kind) {
      case RecordKind.Frame:
        return this.frame(rec);
      case RecordKind.Snapshot:
        return this.snapshot(rec);
      case RecordKind.ConnOpen:
        return this.connOpen(rec);
      case RecordKind.Subscribed:
        return this.subscribed(rec);
      case RecordKind.ConnClose:
        return this.connClose(rec);
      case RecordKind.Stale:
        return this.stale(rec);
      case RecordKind.Shutdown:
        return this.shutdown(rec.localUs);
      case RecordKind.Crashed:
        return this.crashed(rec.text || "collector stopped without a clean shutdown");
      case RecordKind.Checkpoint:
        // A live checkpoint only records the state; recovery restores from the first one it replays.
        return;
      case RecordKind.BackfillTrades:
      case RecordKind.BackfillKlines:
        return this.backfill(rec);
      case RecordKind.FundingRates:
        return this.fundingRates(rec);
      case RecordKind.PremiumIndex:
        return this.premiumIndex(rec);
      case RecordKind.Universe:
        return this.universe(rec);
      case RecordKind.FlushMark:
        for (const row of this.backfills.markWritten("at a flush")) this.writeGapRow(row);
        return;
    }
  }

  // ---- records ----

  private frame(rec: JournalRecord): void {
    this.stats.frames++;
    this.lastFrameUs = rec.localUs;
    this.connLastUs.set(rec.conn, rec.localUs);
    let msg: unknown;
    try {
      msg = JSON.parse(rec.text);
    } catch {
      this.stats.badFrames++;
      this.options.onBadFrame?.("not JSON", rec.text);
      return;
    }
    const envelope = msg as { stream?: unknown; data?: unknown } | null;
    const ps = typeof envelope?.stream === "string" ? this.routes.get(envelope.stream) : undefined;
    if (ps === undefined || typeof envelope?.data !== "object" || envelope.data === null) {
      this.stats.unknownFrames++;
      this.options.onBadFrame?.("unknown stream or event", rec.text);
      return;
    }
    this.options.liveness?.seen(ps.index, rec.localUs);
    const st = this.states[ps.index]!;
    this.countMessage(st, rec.localUs);
    st.totals.bytes += rec.text.length;
    try {
      this.admit(this.states[ps.index]!, rec.conn, rec.localUs, envelope.data as Payload);
    } catch (err) {
      if (!(err instanceof MalformedMessageError)) throw err;
      this.stats.malformedFrames++;
      this.options.onBadFrame?.(err.message, rec.text);
    }
  }

  private snapshot(rec: JournalRecord): void {
    const st = this.depthBySymbol.get(rec.symbol);
    if (!st) {
      this.stats.unknownFrames++;
      return;
    }
    let snap: DepthSnapshot;
    try {
      snap = parseDepthSnapshot(rec.text, rec.symbol, this.market);
    } catch (err) {
      if (!(err instanceof MalformedMessageError)) throw err;
      this.stats.malformedFrames++;
      this.options.onBadFrame?.(err.message, rec.text.slice(0, 200));
      this.needSnapshot(rec.symbol);
      return;
    }
    st.snapshotUs = rec.localUs;
    st.book!.onSnapshot(snap);
  }

  private connOpen(rec: JournalRecord): void {
    this.stopped = false;
    const streams = this.planStreams.get(rec.text);
    if (!streams) return;
    this.connStreams.set(rec.conn, streams);
    this.connPlans.set(rec.conn, rec.text);
    for (const st of streams) {
      st.cursor.attach(rec.conn);
      st.downSinceUs = NaN;
    }
  }

  private subscribed(rec: JournalRecord): void {
    for (const st of this.connStreams.get(rec.conn) ?? []) {
      st.cursor.attach(rec.conn, rec.localUs);
      // Liquidations can be silent for hours and carry no sequence: what the outage missed ends once the new
      // subscription carries the stream, not at the next liquidation.
      if (st.ps.kind === "forceOrder" && st.gap?.kind === "disconnect") this.closeGap(st, rec.localUs, null);
    }
  }

  private connClose(rec: JournalRecord): void {
    const streams = this.connStreams.get(rec.conn);
    if (!streams) return;
    this.connStreams.delete(rec.conn);
    this.connPlans.delete(rec.conn);
    const aliveUs = this.connLastUs.get(rec.conn) ?? rec.localUs;
    this.connLastUs.delete(rec.conn);
    for (const st of streams) {
      const covered = st.cursor.detach(rec.conn);
      this.drainReleased(st);
      if (covered) continue;
      this.openGap(st, "disconnect", aliveUs, `connection closed: ${rec.text}`);
      // Update ids do not carry over a lost connection: the book restarts from a new snapshot.
      st.book?.reset();
    }
  }

  /**
   * The recorded symbols changed (`symbols: all`): added ones get streams on new connections, removed ones are
   * retired. A retired stream's open gap ends now, unless it is only the silence of a symbol that stopped
   * trading (a `stale` gap), which is dropped: no data was missed.
   */
  private universe(rec: JournalRecord): void {
    let change: { add?: unknown; remove?: unknown };
    try {
      change = JSON.parse(rec.text);
    } catch {
      this.stats.malformedFrames++;
      return;
    }
    const names = (v: unknown) => Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
    const add = names(change.add);
    const remove = new Set(names(change.remove));
    if (add.length > 0) {
      this.batches.push(add);
      const connections = extendPlan(this.plan, add);
      const fresh = this.trackPlan(connections);
      if (fresh.length > 0 || connections.length > 0) this.events.planGrew?.(fresh, connections);
      const revived = this.states.filter((st) => st.retired && add.includes(st.ps.symbol));
      for (const st of revived) st.retired = false;
      for (const symbol of add) this.retiredSymbols.delete(symbol);
      if (revived.length > 0) this.events.revived?.(revived.map((st) => st.ps));
    }
    const retired = this.states.filter((st) => !st.retired && remove.has(st.ps.symbol));
    for (const st of retired) {
      st.retired = true;
      if (st.gap?.kind === "stale") st.gap = null;
      else if (st.gap) {
        st.gap.reason += "; the symbol stopped trading";
        this.closeGap(st, rec.localUs, null);
      }
    }
    for (const st of retired) this.retiredSymbols.add(st.ps.symbol);
    if (retired.length > 0) this.events.retired?.(retired.map((st) => st.ps));
  }

  private stale(rec: JournalRecord): void {
    const ps = this.routes.get(rec.text);
    if (!ps) return;
    const st = this.states[ps.index]!;
    if (st.retired) return;
    const since = Number.isNaN(st.cursor.lastLocalUs) ? rec.localUs : st.cursor.lastLocalUs;
    this.openGap(
      st,
      "stale",
      since,
      `no message on ${rec.text} for ${((rec.localUs - since) / 1e6).toFixed(1)} s`,
    );
  }

  /** A clean stop: open gaps end now, connections and books are forgotten (a later run starts afresh). */
  private shutdown(localUs: number): void {
    this.stopped = true;
    // A hole still waiting for REST is missing data for whoever reads the files now: its gap row is written
    // (a later run that recovers it adds a `backfilled` row for the same interval).
    for (const row of this.backfills.markWritten("at shutdown")) this.writeGapRow(row);
    for (const st of this.states) {
      const alive = this.connectionsLastUs(st);
      if (!Number.isNaN(alive)) st.downSinceUs = alive;
      if (st.gap) {
        st.gap.reason += " (still open at shutdown)";
        this.closeGap(st, localUs, null);
      }
      for (const conn of this.connStreams.keys()) st.cursor.detach(conn);
      st.cursor.drain();
      st.book?.reset();
    }
    this.connStreams.clear();
    this.connPlans.clear();
    this.connLastUs.clear();
  }

  /**
   * The journal may have lost data (a {@link RecordKind.Crashed} record: a crash, or a journal reopened after
   * a failure): every stream may miss data from the last frame received until the next delivery, so each opens a
   * disconnect gap; books must resync. Not from the last record: a run killed during its own recovery journals
   * records but no frame.
   */
  private crashed(reason: string): void {
    for (const st of this.states) {
      // From the last frame of the connections that carried the stream: a socket delivers in order, so what
      // it lost came after that. Else the stream's own last message, else the market's last frame.
      // A stream the last run recorded (even one that never got a message, as a quiet liquidation stream) has
      // one of these; a stream new to this run has none and no gap.
      const alive = [st.downSinceUs, this.connectionsLastUs(st), st.cursor.lastLocalUs].find((us) =>
        !Number.isNaN(us)
      );
      // A retired stream's symbol does not trade: its silence is no loss.
      const recorded = !st.retired && (alive !== undefined || st.book?.book.lastUpdateId);
      st.cursor.detachAll();
      st.book?.reset();
      st.downSinceUs = NaN;
      if (recorded) {
        const since = alive ?? (Number.isNaN(this.lastFrameUs) ? this.nowUs : this.lastFrameUs);
        this.openGap(st, "disconnect", since, reason);
      }
    }
    this.connStreams.clear();
    this.connPlans.clear();
    this.connLastUs.clear();
  }

  /** The last frame of the connections carrying `st` (NaN when none delivered one). */
  private connectionsLastUs(st: StreamState): number {
    let last = NaN;
    for (const [conn, streams] of this.connStreams) {
      const us = this.connLastUs.get(conn);
      if (us !== undefined && streams.includes(st) && !(us <= last)) last = us;
    }
    return last;
  }

  /** Message counts per stream and UTC hour since the last call (for the coverage ledger). */
  takeCounts(): StreamCount[] {
    const out = this.counts.splice(0);
    for (const st of this.states) {
      if (st.count === 0) continue;
      out.push({ symbol: st.ps.symbol, stream: st.ps.stream, hourUs: st.countHourUs, messages: st.count });
      st.count = 0;
    }
    return out;
  }

  /** Returns counts taken by {@link takeCounts} whose flush failed: the next take includes them. */
  putBackCounts(counts: readonly StreamCount[]): void {
    this.counts.unshift(...counts);
  }

  private countMessage(st: StreamState, localUs: number): void {
    const hourUs = localUs - localUs % HOUR_US;
    if (hourUs !== st.countHourUs) {
      if (st.count > 0) {
        this.counts.push({
          symbol: st.ps.symbol,
          stream: st.ps.stream,
          hourUs: st.countHourUs,
          messages: st.count,
        });
      }
      st.count = 0;
      st.countHourUs = hourUs;
    }
    st.count++;
    st.totals.messages++;
  }

  /** Per planned stream (by index): messages, bytes and gaps since start. */
  streamTotals(): readonly { messages: number; bytes: number; gaps: number }[] {
    return this.states.map((st) => st.totals);
  }

  /**
   * The whole state as JSON (books in full, stream positions, open gaps, connections), journaled at each flush
   * so that recovery can replay from there. Frames held back from a joining connection are not saved: after a
   * crash every connection is gone anyway.
   */
  exportState(): string {
    const num = (n: number) => (Number.isFinite(n) ? n : null);
    const state: SavedState = {
      v: 1,
      market: this.market,
      stopped: this.stopped,
      lastFrameUs: num(this.lastFrameUs),
      conns: [...this.connPlans].map(([id, plan]) => ({
        id,
        plan,
        lastUs: num(this.connLastUs.get(id) ?? NaN),
      })),
      backfills: this.backfills.export(),
      universe: this.options.dynamicUniverse
        ? { batches: this.batches, retired: [...this.retiredSymbols] }
        : undefined,
      streams: this.states.map((st) => {
        let book: SavedStream["book"] = null;
        if (st.book?.state === "synced") {
          const b = st.book.book;
          book = { lastUpdateId: b.lastUpdateId, bids: levelsOf(b, "bid"), asks: levelsOf(b, "ask") };
        }
        return {
          name: st.ps.name,
          conns: st.cursor.attached().map((c) => ({ id: c.id, sinceUs: num(c.sinceUs) })),
          owner: st.cursor.owner,
          lastKey: num(st.cursor.lastKey),
          lastLocalUs: num(st.cursor.lastLocalUs),
          gap: st.gap,
          lastClosedOpen: num(st.lastClosedOpen),
          downSinceUs: num(st.downSinceUs),
          book,
        };
      }),
    };
    return JSON.stringify(state);
  }

  /** Restores a state saved by {@link exportState}; streams no longer in the plan are ignored. */
  restoreState(text: string): void {
    const saved = JSON.parse(text) as SavedState;
    if (saved.v !== 1 || saved.market !== this.market) {
      throw new TypeError(`Cannot restore normalizer state: version ${saved.v}, market ${saved.market}`);
    }
    this.stopped = saved.stopped;
    this.lastFrameUs = saved.lastFrameUs ?? NaN;
    if (this.options.dynamicUniverse && saved.universe) {
      // The same additions in the same order rebuild the same streams and connection keys.
      this.batches.length = 0;
      const fresh: PlannedStream[] = [];
      const connections: ConnectionPlan[] = [];
      for (const batch of saved.universe.batches) {
        this.batches.push(batch);
        const added = extendPlan(this.plan, batch);
        connections.push(...added);
        fresh.push(...this.trackPlan(added));
      }
      if (fresh.length > 0) this.events.planGrew?.(fresh, connections);
      for (const symbol of saved.universe.retired) this.retiredSymbols.add(symbol);
    }
    // Holes of streams no longer configured cannot be filled: their gap rows are written unless they were.
    for (const p of this.backfills.restore(saved.backfills, (stream) => this.routes.has(stream))) {
      if (p.written === null) {
        this.writeGapRow({
          ...p.row,
          reason: `${p.row.reason}; the stream is no longer recorded, so not backfilled`,
        });
      }
    }
    this.connStreams.clear();
    this.connPlans.clear();
    this.connLastUs.clear();
    for (const c of saved.conns) {
      const streams = this.planStreams.get(c.plan);
      if (!streams) continue;
      this.connStreams.set(c.id, streams);
      this.connPlans.set(c.id, c.plan);
      if (c.lastUs != null) this.connLastUs.set(c.id, c.lastUs);
    }
    for (const s of saved.streams) {
      const ps = this.routes.get(s.name);
      if (!ps) continue;
      const st = this.states[ps.index]!;
      st.cursor.restore(
        s.conns.map((c) => ({ id: c.id, sinceUs: c.sinceUs ?? NaN })),
        s.owner,
        s.lastKey ?? NaN,
        s.lastLocalUs ?? NaN,
      );
      st.gap = s.gap;
      st.lastClosedOpen = s.lastClosedOpen ?? -Infinity;
      st.downSinceUs = s.downSinceUs ?? NaN;
      st.retired = this.retiredSymbols.has(st.ps.symbol);
      if (st.retired) this.events.retired?.([st.ps]);
      if (st.book) {
        if (s.book) st.book.restore(s.book);
        else st.book.reset();
      }
    }
  }

  // ---- admission ----

  private admit(st: StreamState, conn: number, localUs: number, p: Payload): void {
    if (st.book) return this.admitDiff(st, conn, localUs, p);
    const verdict = st.cursor.admit(conn, orderingKey(st.ps.kind, p), localUs, p);
    const prevKey = st.cursor.prevKey;
    const prevUs = st.cursor.prevLocalUs;
    this.drainReleased(st);
    this.accept(st, p, localUs, verdict, prevKey, prevUs);
  }

  private drainReleased(st: StreamState): void {
    for (const r of st.cursor.drain()) {
      if (st.book) this.feedBook(st, r.item, r.localUs);
      else this.accept(st, r.item, r.localUs, r.admit, r.prevKey, r.prevLocalUs);
    }
  }

  /**
   * Depth diffs: while a book is not synced only its owner connection feeds it (the sync procedure needs one
   * ordered stream); once synced, every connection that joined the sequence may bring the next diff.
   */
  private admitDiff(st: StreamState, conn: number, localUs: number, p: Payload): void {
    const book = st.book!;
    if (book.state !== "synced") {
      st.cursor.attach(conn);
      if (st.cursor.owner !== conn) {
        this.stats.held++;
        return;
      }
      return this.feedBook(st, p, localUs);
    }
    const u = intField(p, "u");
    const continues = diffContinues(
      this.market,
      intField(p, "U"),
      u,
      this.market === "spot" ? null : intField(p, "pu"),
      book.book.lastUpdateId,
    );
    const verdict = st.cursor.admit(conn, u, localUs, p, continues);
    this.drainReleased(st);
    if (verdict === Admit.Duplicate) this.stats.duplicates++;
    else if (verdict === Admit.Held) this.stats.held++;
    else this.feedBook(st, p, localUs);
  }

  private feedBook(st: StreamState, p: Payload, localUs: number): void {
    const diff = parseDepthDiff(p, this.market, st.ps.symbol) as DiffAt;
    diff.localUs = localUs;
    st.book!.onDiff(diff);
  }

  private accept(
    st: StreamState,
    p: Payload,
    localUs: number,
    verdict: Admit,
    prevKey: number,
    prevUs: number,
  ) {
    if (verdict === Admit.Duplicate) {
      this.stats.duplicates++;
      return;
    }
    if (verdict === Admit.Held) {
      this.stats.held++;
      return;
    }
    const symbol = st.ps.symbol;
    const key = st.cursor.lastKey;
    switch (st.ps.kind) {
      case "aggTrade": {
        const t = parseAggTrade(p);
        if (st.gap) this.closeGap(st, localUs, t.aggTradeId);
        else if (verdict === Admit.Hole) {
          st.gap = {
            kind: "sequence",
            startUs: prevUs,
            lastId: prevKey,
            reason: `agg trade ids jump from ${prevKey} to ${t.aggTradeId}`,
          };
          this.closeGap(st, localUs, t.aggTradeId);
        }
        this.sink.row(
          this.market,
          "trades",
          symbol,
          localUs,
          tradeRow(symbol, t, t.eventTime, localUs, "ws"),
        );
        return;
      }
      case "kline": {
        const k = parseKline(p);
        if (st.gap) this.closeGap(st, localUs, null, k.openTime);
        if (!k.closed || k.openTime <= st.lastClosedOpen) return;
        st.lastClosedOpen = k.openTime;
        this.sink.row(
          this.market,
          "klines",
          symbol,
          localUs,
          klineRow(symbol, k.interval, k, k.eventTime, localUs),
        );
        return;
      }
      case "bookTicker": {
        const b = parseBookTicker(p);
        if (st.gap) this.closeGap(st, localUs, key);
        this.sink.row(this.market, "book_tickers", symbol, localUs, bookTickerRow(symbol, b, localUs));
        return;
      }
      case "forceOrder": {
        const l = parseLiquidation(p);
        if (st.gap) this.closeGap(st, localUs, null);
        this.sink.row(this.market, "liquidations", symbol, localUs, liquidationRow(symbol, l, localUs));
        return;
      }
      case "markPrice": {
        const m = parseMarkPrice(p);
        if (st.gap) this.closeGap(st, localUs, null);
        this.sink.row(this.market, "mark_prices", symbol, localUs, markPriceRow(symbol, m, localUs));
        return;
      }
      default:
        // `trade` frames stay in the journal only: the contract's trade tape is aggTrade.
        if (st.gap) this.closeGap(st, localUs, key);
    }
  }

  // ---- book callbacks (SyncSink) ----

  /** @internal BookSync asks for a (new) snapshot. */
  needSnapshot(symbol: string): void {
    this.events.needSnapshot(this.market, symbol);
  }

  /** @internal The book was reset to a snapshot: write its levels, close the depth gap. */
  snapshotApplied(snap: DepthSnapshot, _book: OrderBook): void {
    const st = this.depthBySymbol.get(snap.symbol)!;
    const localUs = Number.isNaN(st.snapshotUs) ? this.nowUs : st.snapshotUs;
    const symbol = snap.symbol;
    const id = snap.lastUpdateId;
    for (let side = 0; side < 2; side++) {
      const levels = side === 0 ? snap.bids : snap.asks;
      const sideName = side === 0 ? "bid" : "ask";
      for (const [price, quantity] of levels) {
        this.sink.row(this.market, "depth_updates", symbol, localUs, {
          symbol,
          exchange_time: msToUs(snap.eventTime),
          transaction_time: msToUs(snap.transactionTime),
          local_time: localUs,
          first_update_id: id,
          final_update_id: id,
          prev_final_update_id: null,
          side: sideName,
          price,
          quantity,
          is_snapshot: true,
        });
      }
    }
    st.cursor.restart(id);
    if (st.gap) this.closeGap(st, this.nowUs, id);
  }

  /** @internal A diff was applied: write its levels and the book's top levels after it. */
  diffApplied(d: DepthDiff, book: OrderBook): void {
    const diff = d as DiffAt;
    const st = this.depthBySymbol.get(diff.symbol)!;
    const symbol = diff.symbol;
    const localUs = diff.localUs;
    st.cursor.lastKey = diff.finalUpdateId;
    st.cursor.lastLocalUs = localUs;
    if (st.gap?.kind === "stale") this.closeGap(st, localUs, diff.firstUpdateId);
    const exchangeTime = diff.eventTime * 1000;
    const transactionTime = msToUs(diff.transactionTime);
    for (let side = 0; side < 2; side++) {
      const levels = side === 0 ? diff.bids : diff.asks;
      const sideName = side === 0 ? "bid" : "ask";
      for (const [price, quantity] of levels) {
        this.sink.row(this.market, "depth_updates", symbol, localUs, {
          symbol,
          exchange_time: exchangeTime,
          transaction_time: transactionTime,
          local_time: localUs,
          first_update_id: diff.firstUpdateId,
          final_update_id: diff.finalUpdateId,
          prev_final_update_id: diff.prevFinalUpdateId,
          side: sideName,
          price,
          quantity,
          is_snapshot: false,
        });
      }
    }
    const [bp, bq, ap, aq] = this.topBuf as [Float64Array, Float64Array, Float64Array, Float64Array];
    const bids = book.top("bid", this.top, bp, bq);
    const asks = book.top("ask", this.top, ap, aq);
    this.sink.row(this.market, "book_snapshots", symbol, localUs, {
      symbol,
      exchange_time: exchangeTime,
      local_time: localUs,
      last_update_id: diff.finalUpdateId,
      bid_prices: bp.subarray(0, bids),
      bid_quantities: bq.subarray(0, bids),
      ask_prices: ap.subarray(0, asks),
      ask_quantities: aq.subarray(0, asks),
    });
  }

  /** @internal A diff did not chain: the book is discarded and a sequence gap opens. */
  gap(g: SequenceGap): void {
    const st = this.depthBySymbol.get(g.symbol)!;
    const since = Number.isNaN(st.cursor.lastLocalUs) ? this.nowUs : st.cursor.lastLocalUs;
    this.openGap(st, "sequence", since, g.reason, g.lastUpdateId);
  }

  // ---- gaps ----

  private openGap(st: StreamState, kind: OpenGap["kind"], startUs: number, reason: string, lastId?: number) {
    if (st.gap) return; // one interval at a time: the open one already covers this
    const last = lastId ?? st.cursor.lastKey;
    st.gap = {
      kind,
      startUs,
      lastId: boundedById(st) ? (Number.isNaN(last) ? null : last) : null,
      reason,
    };
  }

  /**
   * Ends the open gap of `st`. Holes in trades and closed klines are first backfilled from REST: their gap row
   * is written when the backfill ends (kind `backfilled` when every row came back).
   */
  private closeGap(st: StreamState, endUs: number, resumeId: number | null, resumeOpenMs?: number): void {
    const row = this.gapRow(st, endUs, resumeId);
    const request = this.backfillFor(st, row, resumeOpenMs);
    if (request === null) return this.writeGap(st, row);
    if (request === "none") {
      return this.writeGap(st, { ...row, kind: "backfilled", reason: `${row.reason}; nothing was missed` });
    }
    // The backfill owns these candles now: a socket candle or a later hole must not claim them again.
    if (request.kind === "klines") st.lastClosedOpen = Math.max(st.lastClosedOpen, request.toOpenMs);
    this.events.needBackfill?.(this.market, this.backfills.open(st.ps.name, request, row));
  }

  /** The REST request that recovers a hole, "none" when the hole turned out empty, null when not backfillable. */
  private backfillFor(
    st: StreamState,
    row: Row<"gaps">,
    resumeOpenMs?: number,
  ): Parameters<Backfills["open"]>[1] | "none" | null {
    if (st.ps.kind === "aggTrade" && row.last_update_id !== null && row.resume_update_id !== null) {
      const fromId = row.last_update_id + 1;
      const toId = row.resume_update_id - 1;
      return fromId > toId ? "none" : { kind: "trades", symbol: st.ps.symbol, fromId, toId };
    }
    const step = intervalMs(st.ps.param);
    if (
      st.ps.kind === "kline" && step !== null && resumeOpenMs !== undefined &&
      Number.isFinite(st.lastClosedOpen)
    ) {
      const fromOpenMs = st.lastClosedOpen + step;
      const toOpenMs = resumeOpenMs - step;
      if (fromOpenMs > toOpenMs) return "none";
      return { kind: "klines", symbol: st.ps.symbol, interval: st.ps.param, fromOpenMs, toOpenMs };
    }
    return null;
  }

  /** Open backfills (recovery asks for them again after a restart). */
  pendingBackfills(): BackfillRequest[] {
    return this.backfills.requests();
  }

  /** A REST answer for a pending backfill: rows in the hole are written; the hole's gap row once it is done. */
  private backfill(rec: JournalRecord): void {
    const outcome = this.backfills.answer(rec, intervalMs, {
      row: (table, symbol, partitionUs, row) => {
        this.stats.backfilled++;
        this.sink.row(this.market, table, symbol, partitionUs, row);
      },
      gap: (row) => this.writeGapRow(row),
      recovered: (earlier) => this.events.gapRecovered?.(this.market, earlier),
      malformed: (err, body) => {
        this.stats.malformedFrames++;
        this.options.onBadFrame?.(err.message, body.slice(0, 200));
      },
    });
    if (outcome === null) return; // already completed (a duplicate answer after a restart)
    if ("next" in outcome) this.events.needBackfill?.(this.market, outcome.next); // a full page: ask for the rest
    else this.events.backfillDone?.(this.market, outcome.done);
  }

  /**
   * A REST `fundingRate` page (`text` is `<startTimeMs>\n<body>`): entries from the start time on are new, the
   * poll having started after the last funding time recorded.
   */
  private fundingRates(rec: JournalRecord): void {
    const nl = rec.text.indexOf("\n");
    const startMs = Number(rec.text.slice(0, nl));
    try {
      for (const f of parseFundingRates(rec.text.slice(nl + 1))) {
        if (f.symbol !== rec.symbol || !(f.fundingTime >= startMs)) continue;
        this.sink.row(this.market, "funding_rates", f.symbol, rec.localUs, fundingRow(f, rec.localUs));
      }
    } catch (err) {
      if (!(err instanceof MalformedMessageError)) throw err;
      this.stats.malformedFrames++;
      this.options.onBadFrame?.(err.message, rec.text.slice(0, 200));
    }
  }

  /** A REST `premiumIndex` answer: mark prices of the recorded symbols whose mark price is not streamed. */
  private premiumIndex(rec: JournalRecord): void {
    try {
      for (const p of parsePremiumIndex(rec.text)) {
        if (!this.polledMarkPrice.has(p.symbol)) continue;
        this.sink.row(this.market, "mark_prices", p.symbol, rec.localUs, premiumIndexRow(p, rec.localUs));
      }
    } catch (err) {
      if (!(err instanceof MalformedMessageError)) throw err;
      this.stats.malformedFrames++;
      this.options.onBadFrame?.(err.message, rec.text.slice(0, 200));
    }
  }

  private gapRow(st: StreamState, endUs: number, resumeId: number | null): Row<"gaps"> {
    const g = st.gap!;
    st.gap = null;
    return {
      symbol: st.ps.symbol,
      stream: st.ps.stream,
      kind: g.kind,
      start_time: g.startUs,
      end_time: Math.max(endUs, g.startUs),
      last_update_id: g.lastId,
      resume_update_id: boundedById(st) ? resumeId : null,
      reason: g.reason,
    };
  }

  private writeGap(st: StreamState, row: Row<"gaps">): void {
    st.totals.gaps++;
    this.writeGapRow(row);
  }

  private writeGapRow(row: Row<"gaps">): void {
    this.stats.gaps++;
    this.sink.row(this.market, "gaps", row.symbol, row.start_time, row);
    this.events.gap?.(this.market, row);
  }
}

/** Streams whose gaps carry the last and resume ids: depth (update ids), aggTrade and bookTicker. */
function boundedById(st: StreamState): boolean {
  return st.book !== null || st.ps.kind === "aggTrade" || st.ps.kind === "bookTicker";
}

/** Every level of one side of a book, best first. */
function levelsOf(book: OrderBook, side: "bid" | "ask"): [number, number][] {
  const n = book.depth(side);
  const prices = new Float64Array(n);
  const qtys = new Float64Array(n);
  book.top(side, n, prices, qtys);
  return Array.from(prices, (p, i) => [p, qtys[i]!]);
}

const INTERVAL_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Length of a kline interval (`1s`, `15m`, `4h`, `1d`, `1w`); null for months, which vary. */
function intervalMs(interval: string): number | null {
  const m = /^(\d+)([smhdw])$/.exec(interval);
  return m ? Number(m[1]) * INTERVAL_MS[m[2]!]! : null;
}

function intField(p: Payload, field: string): number {
  const v = p[field];
  if (typeof v === "number" && Number.isSafeInteger(v)) return v;
  throw new MalformedMessageError(
    `Cannot parse field '${field}': ${v === undefined ? "missing" : "not an integer"}`,
  );
}

/** The key all connections share for a stream's messages, used to merge and de-duplicate them. */
function orderingKey(kind: PlannedStream["kind"], p: Payload): number {
  switch (kind) {
    case "aggTrade":
      return intField(p, "a");
    case "trade":
      return intField(p, "t");
    case "bookTicker":
      return intField(p, "u");
    default:
      return intField(p, "E");
  }
}

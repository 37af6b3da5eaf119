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
import { MalformedMessageError, type Payload } from "../binance/messages.ts";
import type { ConnectionPlan, PlannedStream, StreamPlan } from "../binance/stream_plan.ts";
import type { Market } from "../binance/types.ts";
import type { BookSync } from "../book/sync.ts";
import type { JournalPosition } from "../storage/journal.ts";
import type { BackfillRequest } from "./backfill.ts";
import type { BookImage } from "./book_image.ts";
import { ConnectionEvents } from "./connection_events.ts";
import { ConnectionRegistry } from "./connection_registry.ts";
import { DepthStreams } from "./depth_stream.ts";
import { GapKeeper } from "./gap_keeper.ts";
import { HourlyCounts, type StreamCount } from "./hourly_counts.ts";
import type { NormalizerEvents, NormalizerOptions, NormalizerStats, RowSink } from "./normalizer_contract.ts";
import { CapturedState, type SavedState } from "./normalizer_state.ts";
import { StreamRows } from "./stream_rows.ts";
import type { SavedBook } from "./book_image.ts";
import { type JournalRecord, RecordKind } from "./records.ts";
import {
  newStreamState,
  orderingKey,
  restoreStream,
  type SavedStream,
  saveStream,
  type StreamState,
} from "./stream_state.ts";
import { UniverseChanges } from "./universe_changes.ts";
import { runSteps } from "../steps.ts";

export type { BackfillRequest } from "./backfill.ts";

/** Normalizes the records of one market. */
export class MarketNormalizer {
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
  private readonly gaps: GapKeeper;
  private readonly depth: DepthStreams;
  private readonly rows: StreamRows;
  /** Recorded symbols without a `markPrice` stream: their mark price comes from REST `premiumIndex` polls. */
  private readonly polledMarkPrice = new Set<string>();
  private readonly conns = new ConnectionRegistry();
  private readonly connEvents: ConnectionEvents;
  private readonly counts = new HourlyCounts();
  private readonly universe: UniverseChanges;
  private readonly routes: ReadonlyMap<string, PlannedStream>;
  /** Local time of the record being processed; rows written by book callbacks use it. */
  private nowUs = 0;
  /** Local time of the last frame: where a crash's loss begins. */
  private lastFrameUs = NaN;
  /** True after a clean Shutdown until the next connection opens. */
  stopped = false;

  constructor(
    private readonly plan: StreamPlan,
    sink: RowSink,
    events: NormalizerEvents,
    private readonly options: NormalizerOptions,
  ) {
    this.market = plan.market;
    this.routes = plan.routes;
    const malformed = (err: MalformedMessageError, text: string) => {
      this.stats.malformedFrames++;
      options.onBadFrame?.(err.message, text.slice(0, 200));
    };
    this.gaps = new GapKeeper(plan.market, sink, events, this.stats, malformed);
    this.depth = new DepthStreams({
      market: plan.market,
      sink,
      gaps: this.gaps,
      stats: this.stats,
      topLevels: options.topLevels,
      maxBookLevels: options.maxBookLevels,
      nowUs: () => this.nowUs,
      needSnapshot: (symbol) => events.needSnapshot(plan.market, symbol),
      malformed,
    });
    this.rows = new StreamRows(plan.market, sink, this.gaps, this.stats, malformed);
    this.connEvents = new ConnectionEvents({
      conns: this.conns,
      states: this.states,
      gaps: this.gaps,
      drain: (st) => this.drainReleased(st),
    });
    this.universe = new UniverseChanges({
      plan,
      states: this.states,
      gaps: this.gaps,
      events,
      stats: this.stats,
      dynamic: options.dynamicUniverse,
      track: (connections) => this.trackPlan(connections),
    });
    this.trackPlan(plan.connections);
  }

  /** Creates the state of the plan's streams that have none yet, and registers `connections`. */
  private trackPlan(connections: readonly ConnectionPlan[]): PlannedStream[] {
    const fresh = this.plan.streams.slice(this.states.length);
    for (const ps of fresh) {
      const st = newStreamState(ps, ps.kind === "depth" ? this.depth.newBook(ps.symbol, ps.param) : null);
      this.states.push(st);
      if (st.book) this.depth.add(st);
    }
    const streamed = new Set(
      this.plan.streams.filter((ps) => ps.kind === "markPrice").map((ps) => ps.symbol),
    );
    for (const ps of fresh) if (!streamed.has(ps.symbol)) this.polledMarkPrice.add(ps.symbol);
    for (const c of connections) this.conns.addPlan(c.key, c.streams.map((ps) => this.states[ps.index]!));
    return fresh;
  }

  /** The symbols recorded now: planned and not retired. */
  symbols(): string[] {
    return this.universe.symbols();
  }

  /** How many books there are (of symbols not retired) and how many are in sync. */
  bookCounts(): { books: number; synced: number } {
    let books = 0;
    let synced = 0;
    for (const st of this.states) {
      if (st.book === null || st.retired) continue;
      books++;
      if (st.book.state === "synced") synced++;
    }
    return { books, synced };
  }

  /** The book sync of a symbol (for status and tests). */
  bookOf(symbol: string): BookSync | undefined {
    return this.depth.of(symbol)?.book ?? undefined;
  }

  /**
   * True when `conn` could replace the other connections of its streams without losing a message: every depth
   * book is synced and every stream of `conn` is ready to take over (see {@link StreamCursor.ready}).
   */
  connectionInSync(conn: number): boolean {
    const streams = this.conns.streamsOf(conn);
    if (!streams) return false;
    for (const st of streams) {
      if (st.book && (st.book.state !== "synced" || st.book.awaitingBridge)) return false;
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
        return this.depth.snapshot(rec);
      case RecordKind.ConnOpen:
        return this.connOpen(rec);
      case RecordKind.Subscribed:
        return this.connEvents.subscribed(rec.conn, rec.localUs);
      case RecordKind.ConnClose:
        return this.connEvents.closed(rec.conn, rec.localUs, rec.text);
      case RecordKind.Stale:
        return this.stale(rec);
      case RecordKind.Shutdown:
        return this.shutdown(rec.localUs);
      case RecordKind.Crashed:
        return this.crashed(rec.text || "collector stopped without a clean shutdown");
      case RecordKind.Checkpoint:
      case RecordKind.CheckpointBooks:
        // A live checkpoint only records the state; recovery restores from the first one it replays.
        return;
      case RecordKind.BackfillTrades:
      case RecordKind.BackfillKlines:
        return this.gaps.answer(rec);
      case RecordKind.FundingRates:
        return this.rows.fundingRates(rec);
      case RecordKind.PremiumIndex:
        return this.rows.premiumIndex(rec, this.polledMarkPrice);
      case RecordKind.Universe:
        return this.universe.apply(rec);
      case RecordKind.Instruments:
        return this.rows.instruments(rec);
      case RecordKind.FlushMark:
        return this.gaps.markPending("at a flush");
    }
  }

  // ---- records ----

  private frame(rec: JournalRecord): void {
    this.stats.frames++;
    this.lastFrameUs = rec.localUs;
    this.conns.frame(rec.conn, rec.localUs);
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
    this.counts.count(st, rec.localUs);
    st.totals.bytes += rec.text.length;
    try {
      this.admit(this.states[ps.index]!, rec.conn, rec.localUs, envelope.data as Payload);
    } catch (err) {
      if (!(err instanceof MalformedMessageError)) throw err;
      this.stats.malformedFrames++;
      this.options.onBadFrame?.(err.message, rec.text);
    }
  }

  private connOpen(rec: JournalRecord): void {
    this.stopped = false;
    this.connEvents.opened(rec.conn, rec.text);
  }

  private stale(rec: JournalRecord): void {
    const ps = this.routes.get(rec.text);
    if (ps) this.connEvents.stale(this.states[ps.index]!, rec.localUs);
  }

  /** A clean stop: open gaps end now, connections and books are forgotten (a later run starts afresh). */
  private shutdown(localUs: number): void {
    this.stopped = true;
    this.connEvents.shutdown(localUs);
  }

  /** A {@link RecordKind.Crashed} record: the journal may have lost data (see {@link ConnectionEvents.crashed}). */
  private crashed(reason: string): void {
    this.connEvents.crashed(reason, Number.isNaN(this.lastFrameUs) ? this.nowUs : this.lastFrameUs);
  }

  /** Message counts per stream and UTC hour since the last call (for the coverage ledger). */
  takeCounts(): StreamCount[] {
    return this.counts.take(this.states);
  }

  /** Returns counts taken by {@link takeCounts} whose flush failed: the next take includes them. */
  putBackCounts(counts: readonly StreamCount[]): void {
    this.counts.putBack(counts);
  }

  /** Per planned stream (by index): messages, bytes and gaps since start. */
  streamTotals(): readonly { messages: number; bytes: number; gaps: number }[] {
    return this.states.map((st) => st.totals);
  }

  /**
   * The whole state as JSON (books in full, stream positions, open gaps, connections). Frames held back from a
   * joining connection are not saved: after a crash every connection is gone anyway.
   */
  exportState(): string {
    return JSON.stringify(this.#state());
  }

  /**
   * The state at a flush's checkpoint, as of the journal record `asOf`: like {@link exportState} but with the
   * synced books copied into `image` (the flush journals them later, a part at a time, before this state).
   */
  captureState(image: BookImage, asOf: JournalPosition): CapturedState {
    return runSteps(this.captureSteps(image, asOf));
  }

  /**
   * {@link captureState} a step at a time: it yields after each stream, so that a flush can spread the copy
   * over turns of the event loop (records must not reach this normalizer until it returns).
   */
  *captureSteps(image: BookImage, asOf: JournalPosition): Generator<void, CapturedState> {
    image.clear();
    const streams: SavedStream[] = [];
    for (const st of this.states) {
      streams.push(saveStream(st, image));
      yield;
    }
    return new CapturedState({ ...this.#head(), asOf }, streams);
  }

  #state(): SavedState {
    return { ...this.#head(), streams: this.states.map((st) => saveStream(st)) };
  }

  /** The state but its streams. */
  #head(): Omit<SavedState, "streams"> {
    return {
      v: 1,
      market: this.market,
      stopped: this.stopped,
      lastFrameUs: Number.isFinite(this.lastFrameUs) ? this.lastFrameUs : null,
      conns: this.conns.save(),
      backfills: this.gaps.backfills.export(),
      universe: this.universe.save(),
    };
  }

  /**
   * Restores a state saved by {@link exportState}, or by {@link captureState} with the `books` of its parts
   * (as its text, or parsed); streams no longer in the plan are ignored.
   */
  restoreState(state: string | SavedState, books?: ReadonlyMap<string, SavedBook>): void {
    const saved = typeof state === "string" ? JSON.parse(state) as SavedState : state;
    if (saved.v !== 1 || saved.market !== this.market) {
      throw new TypeError(`Cannot restore normalizer state: version ${saved.v}, market ${saved.market}`);
    }
    this.stopped = saved.stopped;
    this.lastFrameUs = saved.lastFrameUs ?? NaN;
    this.universe.restore(saved.universe);
    // Holes of streams no longer configured cannot be filled: their gap rows are written unless they were.
    for (const p of this.gaps.backfills.restore(saved.backfills, (stream) => this.routes.has(stream))) {
      if (p.written === null) {
        this.gaps.writeRow({
          ...p.row,
          reason: `${p.row.reason}; the stream is no longer recorded, so not backfilled`,
        });
      }
    }
    this.conns.restore(saved.conns);
    for (const s of saved.streams) {
      const ps = this.routes.get(s.name);
      if (!ps) continue;
      const st = this.states[ps.index]!;
      restoreStream(st, s.book === null && books?.has(s.name) ? { ...s, book: books.get(s.name)! } : s);
      this.universe.restoreRetired(st);
    }
  }

  // ---- admission ----

  private admit(st: StreamState, conn: number, localUs: number, p: Payload): void {
    if (st.book) return this.depth.admit(st, conn, localUs, p);
    const verdict = st.cursor.admit(conn, orderingKey(st.ps.kind, p), localUs, p);
    const prevKey = st.cursor.prevKey;
    const prevUs = st.cursor.prevLocalUs;
    this.drainReleased(st);
    this.rows.accept(st, p, localUs, verdict, prevKey, prevUs);
  }

  private drainReleased(st: StreamState): void {
    if (st.book) return this.depth.drain(st);
    for (const r of st.cursor.drain()) {
      this.rows.accept(st, r.item, r.localUs, r.admit, r.prevKey, r.prevLocalUs);
    }
  }

  /** Open backfills (recovery asks for them again after a restart). */
  pendingBackfills(): BackfillRequest[] {
    return this.gaps.pending();
  }
}

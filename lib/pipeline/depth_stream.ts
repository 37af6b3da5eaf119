/**
 * Depth streams of one market: REST snapshots and diffs into each symbol's {@link BookSync}, and its verdicts
 * into rows: `depth_updates` (snapshot levels, then every applied diff's levels), `book_snapshots` (the top
 * levels after each applied diff) and sequence gaps. Pure.
 * @module
 */
import { MalformedMessageError, parseDepthDiff, type Payload } from "../binance/messages.ts";
import { parseDepthSnapshot } from "../binance/rest_parse.ts";
import { isFutures } from "../binance/markets.ts";
import type { DepthDiff, DepthSnapshot, Market } from "../binance/types.ts";
import type { OrderBook } from "../book/order_book.ts";
import { diffContinues, diffFollowsSnapshot } from "../book/sequencer.ts";
import { BookSync, type SequenceGap, type SyncSink } from "../book/sync.ts";
import type { GapKeeper } from "./gap_keeper.ts";
import type { NormalizerStats, RowSink } from "./normalizer_contract.ts";
import type { JournalRecord } from "./records.ts";
import { msToUs } from "./rows.ts";
import { Admit } from "./stream_cursor.ts";
import { intField, type StreamState } from "./stream_state.ts";

/**
 * Seconds of diffs a book buffers while waiting for its snapshot. A snapshot is the book when the server answers,
 * so only the diffs from about then on bridge it; older ones are dropped by it anyway. A snapshot older than
 * every buffered diff is rejected and asked for again (the sequence rules catch it), so this costs weight at
 * worst, never data. Buffered diffs outlive young-generation collections and die in the old one: with a whole
 * market waiting for snapshots, 30 s of them made garbage-collection pauses of 100–170 ms.
 */
const BUFFER_SECONDS = 10;
/** Diff stream periods by speed parameter (`""`: 250 ms on futures, 1000 ms on spot; the faster is assumed). */
const DEPTH_SPEED_MS: Readonly<Record<string, number>> = { "100ms": 100, "500ms": 500, "": 250 };

/** What the depth streams need from the normalizer. */
export interface DepthDeps {
  market: Market;
  sink: RowSink;
  gaps: GapKeeper;
  stats: NormalizerStats;
  /** Levels per side in `book_snapshots`. */
  topLevels: number;
  /** Levels kept per book side (see {@link PriceLadder}); default all. */
  maxBookLevels?: number;
  /** Local time of the record being processed (rows written by book callbacks use it). */
  nowUs(): number;
  /** The book of a symbol needs a (new) REST snapshot. */
  needSnapshot(symbol: string): void;
  malformed(err: MalformedMessageError, text: string): void;
}

/** The depth streams of one market. */
export class DepthStreams implements SyncSink {
  readonly #bySymbol = new Map<string, StreamState>();
  readonly #topBuf: [Float64Array, Float64Array, Float64Array, Float64Array];

  constructor(private readonly d: DepthDeps) {
    const buf = () => new Float64Array(d.topLevels);
    this.#topBuf = [buf(), buf(), buf(), buf()];
  }

  /**
   * A book for a new depth stream of `symbol` with its speed `param` (register its state with {@link add}). It
   * buffers about {@link BUFFER_SECONDS} of diffs while waiting for a snapshot: the snapshot is taken when its
   * request is sent, which on a tight weight budget can be minutes after it was asked for, and only the diffs
   * since then are needed (older ones would hold a whole market's diffs in memory for nothing).
   */
  newBook(symbol: string, param: string): BookSync {
    const perSecond = 1000 / (DEPTH_SPEED_MS[param] ?? DEPTH_SPEED_MS[""]!);
    return new BookSync(this.d.market, symbol, this, {
      maxBuffered: Math.ceil(BUFFER_SECONDS * perSecond),
      maxLevels: this.d.maxBookLevels,
    });
  }

  add(st: StreamState): void {
    this.#bySymbol.set(st.ps.symbol, st);
  }

  /** The depth stream state of a symbol. */
  of(symbol: string): StreamState | undefined {
    return this.#bySymbol.get(symbol);
  }

  /** A journaled REST snapshot. */
  snapshot(rec: JournalRecord): void {
    const st = this.#bySymbol.get(rec.symbol);
    if (!st) {
      this.d.stats.unknownFrames++;
      return;
    }
    let snap: DepthSnapshot;
    try {
      snap = parseDepthSnapshot(rec.text, rec.symbol, this.d.market);
    } catch (err) {
      if (!(err instanceof MalformedMessageError)) throw err;
      this.d.malformed(err, rec.text.slice(0, 200));
      this.needSnapshot(rec.symbol);
      return;
    }
    st.snapshotUs = rec.localUs;
    st.book!.onSnapshot(snap);
  }

  /**
   * A diff frame. While a book is not synced only its owner connection feeds it (the sync procedure needs one
   * ordered stream); once synced, every connection that joined the sequence may bring the next diff.
   */
  admit(st: StreamState, conn: number, localUs: number, p: Payload): void {
    const book = st.book!;
    const stats = this.d.stats;
    if (book.state !== "synced" || book.awaitingBridge) {
      st.cursor.attach(conn);
      if (st.cursor.owner !== conn) {
        stats.held++;
        return;
      }
      return this.#feed(st, p, localUs);
    }
    const u = intField(p, "u");
    const market = this.d.market;
    const continues = diffContinues(
      market,
      intField(p, "U"),
      u,
      isFutures(market) ? intField(p, "pu") : null,
      book.book.lastUpdateId,
    );
    const verdict = st.cursor.admit(conn, u, localUs, p, continues);
    this.drain(st);
    if (verdict === Admit.Duplicate) stats.duplicates++;
    else if (verdict === Admit.Held) stats.held++;
    else this.#feed(st, p, localUs);
  }

  /** Feeds the diffs a joining connection's cursor released. */
  drain(st: StreamState): void {
    for (const r of st.cursor.drain()) this.#feed(st, r.item, r.localUs);
  }

  #feed(st: StreamState, p: Payload, localUs: number): void {
    const diff = parseDepthDiff(p, this.d.market, st.ps.symbol);
    diff.localUs = localUs;
    st.book!.onDiff(diff);
  }

  // ---- book callbacks (SyncSink) ----

  /** @internal BookSync asks for a (new) snapshot. */
  needSnapshot(symbol: string): void {
    this.d.needSnapshot(symbol);
  }

  /** @internal The book was reset to a snapshot: write its levels, close the depth gap. */
  snapshotApplied(snap: DepthSnapshot, _book: OrderBook): void {
    const st = this.#bySymbol.get(snap.symbol)!;
    const now = this.d.nowUs();
    const localUs = Number.isNaN(st.snapshotUs) ? now : st.snapshotUs;
    const { market, sink } = this.d;
    const symbol = snap.symbol;
    const id = snap.lastUpdateId;
    for (let side = 0; side < 2; side++) {
      const levels = side === 0 ? snap.bids : snap.asks;
      const sideName = side === 0 ? "bid" : "ask";
      for (const [price, quantity] of levels) {
        sink.row(market, "depth_updates", symbol, localUs, {
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
    st.bookUs = localUs;
    if (st.gap) this.d.gaps.close(st, now, id);
  }

  /**
   * A depth stream found silent delivered again. Binance sends no diff while a book does not change (a quiet
   * symbol's stream can be silent for minutes), so a diff that chains on the last id before the silence proves
   * that nothing was lost: the gap is dropped without a row. Otherwise it ends here.
   */
  #resumed(st: StreamState, diff: DepthDiff, localUs: number): void {
    const lastId = st.gap!.lastId;
    const { firstUpdateId: first, finalUpdateId: final, prevFinalUpdateId: pu } = diff;
    const market = this.d.market;
    if (
      lastId !== null &&
      (diffContinues(market, first, final, pu, lastId) ||
        diffFollowsSnapshot(market, first, final, pu, lastId))
    ) {
      this.d.gaps.dismiss(st);
    } else {
      this.d.gaps.close(st, localUs, first);
    }
  }

  /** @internal A diff was applied: write its levels and the book's top levels after it. */
  diffApplied(diff: DepthDiff, book: OrderBook): void {
    const st = this.#bySymbol.get(diff.symbol)!;
    const { market, sink } = this.d;
    const symbol = diff.symbol;
    const localUs = diff.localUs;
    if (localUs === undefined) {
      throw new TypeError(
        `Cannot write ${market} diff ${symbol} u=${diff.finalUpdateId}: its arrival time is lost`,
      );
    }
    st.cursor.lastKey = diff.finalUpdateId;
    st.cursor.lastLocalUs = localUs;
    st.bookUs = localUs;
    if (st.gap?.kind === "stale") this.#resumed(st, diff, localUs);
    const exchangeTime = diff.eventTime * 1000;
    const transactionTime = msToUs(diff.transactionTime);
    for (let side = 0; side < 2; side++) {
      const levels = side === 0 ? diff.bids : diff.asks;
      const sideName = side === 0 ? "bid" : "ask";
      for (const [price, quantity] of levels) {
        sink.row(market, "depth_updates", symbol, localUs, {
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
    const [bp, bq, ap, aq] = this.#topBuf;
    const top = this.d.topLevels;
    const bids = book.top("bid", top, bp, bq);
    const asks = book.top("ask", top, ap, aq);
    sink.row(market, "book_snapshots", symbol, localUs, {
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
    const st = this.#bySymbol.get(g.symbol)!;
    // Not the cursor's last time: that is the arrival of the diff that did not chain, after the lost ones.
    const since = Number.isNaN(st.bookUs) ? this.d.nowUs() : st.bookUs;
    this.d.gaps.open(st, "sequence", since, g.reason, g.lastUpdateId);
  }
}

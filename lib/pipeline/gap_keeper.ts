/**
 * Gaps of one market: opening and closing each stream's interval of possibly missing data, writing `gaps`
 * rows, and sending the holes that REST can fill (agg trade ids, closed candles) to the backfill
 * (backfill.ts) before their rows are written. Pure: rows go to the sink, requests to the events.
 * @module
 */
import type { MalformedMessageError } from "../binance/messages.ts";
import { klineIntervalMs } from "../binance/stream_plan.ts";
import type { Market } from "../binance/types.ts";
import type { Row, TableName } from "../storage/tables.ts";
import { type BackfillRequest, Backfills } from "./backfill.ts";
import type { NormalizerEvents, NormalizerStats, RowSink } from "./normalizer_contract.ts";
import type { JournalRecord } from "./records.ts";
import { boundedById, type OpenGap, type StreamState } from "./stream_state.ts";

/** Keeps the gaps and pending backfills of one market. */
export class GapKeeper {
  /** Holes waiting for their REST backfill. */
  readonly backfills = new Backfills();

  constructor(
    private readonly market: Market,
    private readonly sink: RowSink,
    private readonly events: NormalizerEvents,
    private readonly stats: NormalizerStats,
    private readonly malformed: (err: MalformedMessageError, text: string) => void,
  ) {}

  /** Opens a gap on `st` unless one is open (it already covers this); `lastId` bounds it by id. */
  open(st: StreamState, kind: OpenGap["kind"], startUs: number, reason: string, lastId?: number): void {
    if (st.gap) return;
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
  close(st: StreamState, endUs: number, resumeId: number | null, resumeOpenMs?: number): void {
    const row = this.#row(st, endUs, resumeId);
    const request = this.#backfillFor(st, row, resumeOpenMs);
    if (request === null) return this.#write(st, row);
    if (request === "none") {
      return this.#write(st, { ...row, kind: "backfilled", reason: `${row.reason}; nothing was missed` });
    }
    // The backfill owns these candles now: a socket candle or a later hole must not claim them again.
    if (request.kind === "klines") st.lastClosedOpen = Math.max(st.lastClosedOpen, request.toOpenMs);
    this.events.needBackfill?.(this.market, this.backfills.open(st.ps.name, request, row));
  }

  /** Drops the open gap of `st` without a row: it turned out to hold nothing (see depth_stream.ts). */
  dismiss(st: StreamState): void {
    st.gap = null;
  }

  /** Writes a gap row not tied to a stream state (a restored hole, a flush's pending ones). */
  writeRow(row: Row<"gaps">): void {
    this.stats.gaps++;
    this.sink.row(this.market, "gaps", row.symbol, row.start_time, row);
    this.events.gap?.(this.market, row);
  }

  /** Open backfills (recovery asks for them again after a restart). */
  pending(): BackfillRequest[] {
    return this.backfills.requests();
  }

  /** Holes still waiting for REST at a flush or a stop get their gap rows now (see backfill.ts). */
  markPending(when: string): void {
    for (const row of this.backfills.markWritten(when)) this.writeRow(row);
  }

  /** A REST answer for a pending backfill: rows in the hole are written; the hole's gap row once it is done. */
  answer(rec: JournalRecord): void {
    const outcome = this.backfills.answer(rec, klineIntervalMs, {
      row: <N extends TableName>(table: N, symbol: string, partitionUs: number, row: Row<N>) => {
        this.stats.backfilled++;
        this.sink.row(this.market, table, symbol, partitionUs, row);
      },
      gap: (row) => this.writeRow(row),
      recovered: (earlier) => this.events.gapRecovered?.(this.market, earlier),
      malformed: (err, body) => this.malformed(err, body),
    });
    if (outcome === null) return; // already completed (a duplicate answer after a restart)
    if ("next" in outcome) this.events.needBackfill?.(this.market, outcome.next); // a full page: ask for the rest
    else this.events.backfillDone?.(this.market, outcome.done);
  }

  /** The REST request that recovers a hole, "none" when the hole turned out empty, null when not backfillable. */
  #backfillFor(
    st: StreamState,
    row: Row<"gaps">,
    resumeOpenMs?: number,
  ): Parameters<Backfills["open"]>[1] | "none" | null {
    if (st.ps.kind === "aggTrade" && row.last_update_id !== null && row.resume_update_id !== null) {
      const fromId = row.last_update_id + 1;
      const toId = row.resume_update_id - 1;
      return fromId > toId ? "none" : { kind: "trades", symbol: st.ps.symbol, fromId, toId };
    }
    const step = klineIntervalMs(st.ps.param);
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

  #row(st: StreamState, endUs: number, resumeId: number | null): Row<"gaps"> {
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

  #write(st: StreamState, row: Row<"gaps">): void {
    st.totals.gaps++;
    this.writeRow(row);
  }
}

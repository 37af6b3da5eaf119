/**
 * REST backfill of holes: agg trade ids missed on the socket and closed candles missed during an outage. Each
 * hole gets an id, a gap row and a REST request; the answers come back as journal records (so a replay
 * reproduces them), their rows are written, and the hole ends in exactly one of:
 * - every row recovered: a `backfilled` gap row;
 * - REST failed or returned less: the hole's own gap row (with what was recovered in its reason);
 * - still pending at a flush or at a stop: the hole's gap row is written then ("backfill still pending"), so
 *   committed files never miss rows outside a gap row. The hole stays pending (in the saved state too); when it
 *   is recovered in full, later or by a later run, the rows and a `backfilled` row for the same interval follow
 *   (and the earlier row is marked recovered in the ledger).
 *
 * Pure: rows go to a writer, requests are returned to the caller.
 * @module
 */
import { MalformedMessageError } from "../binance/messages.ts";
import { parseAggTrades, parseKlines } from "../binance/rest_parse.ts";
import type { Row, TableName } from "../storage/tables.ts";
import { type JournalRecord, RecordKind } from "./records.ts";
import { klineRow, tradeRow } from "./rows.ts";

/** What to fetch from REST to fill a hole; `id` ties the journaled answer to its hole. */
export type BackfillRequest =
  | { id: number; kind: "trades"; symbol: string; fromId: number; toId: number }
  | { id: number; kind: "klines"; symbol: string; interval: string; fromOpenMs: number; toOpenMs: number };

/** A hole waiting for its REST backfill. */
export interface PendingBackfill {
  /** The plan's stream name (`btcusdt@aggTrade`). */
  stream: string;
  request: BackfillRequest;
  row: Row<"gaps">;
  recovered: number;
  /** Kind of the gap row written already for the hole (the collector stopped while it was pending), or null. */
  written: Row<"gaps">["kind"] | null;
}

/** How a backfill ended, for alerts. */
export interface BackfillResult {
  symbol: string;
  stream: string;
  ok: boolean;
  rows: number;
  detail: string;
}

/** Where backfilled rows and gap rows go. */
export interface BackfillWriter {
  row<N extends TableName>(table: N, symbol: string, partitionUs: number, row: Row<N>): void;
  gap(row: Row<"gaps">): void;
  /** `earlier`, a gap row written while its backfill was pending, turned out recovered in full. */
  recovered(earlier: Row<"gaps">): void;
  /** A malformed REST body (counted and reported by the caller). */
  malformed(err: MalformedMessageError, body: string): void;
}

/** The journal record that carries the answer to `req`. */
export function backfillRecordKind(req: BackfillRequest): RecordKind {
  return req.kind === "trades" ? RecordKind.BackfillTrades : RecordKind.BackfillKlines;
}

/**
 * First line of a journaled answer: `<fromId> <toId> #<id>` or `<interval> <fromOpenMs> <toOpenMs> #<id>`;
 * a failed request adds ` failed`. Journals written before 0.4 have no `#<id>`.
 *
 * @example
 * ```ts
 * backfillHead({ id: 3, kind: "trades", symbol: "BTCUSDT", fromId: 10, toId: 12 }, false); // "10 12 #3"
 * ```
 */
export function backfillHead(req: BackfillRequest, failed: boolean): string {
  const range = req.kind === "trades"
    ? `${req.fromId} ${req.toId}`
    : `${req.interval} ${req.fromOpenMs} ${req.toOpenMs}`;
  return `${range} #${req.id}${failed ? " failed" : ""}`;
}

/** The saved form (see {@link Backfills.export}). */
export interface SavedBackfills {
  nextId: number;
  pending: PendingBackfill[];
}

/** The pending holes of one market. */
export class Backfills {
  #pending: PendingBackfill[] = [];
  #nextId = 1;

  /** Requests of the open holes (asked again after a restart). */
  requests(): BackfillRequest[] {
    return this.#pending.map((p) => p.request);
  }

  /** Open holes. */
  get size(): number {
    return this.#pending.length;
  }

  /** Registers a hole and returns the request that fills it. */
  open(
    stream: string,
    request: DistributiveOmit<BackfillRequest, "id">,
    row: Row<"gaps">,
  ): BackfillRequest {
    const req = { ...request, id: this.#nextId++ } as BackfillRequest;
    this.#pending.push({ stream, request: req, row, recovered: 0, written: null });
    return req;
  }

  /**
   * Consumes a journaled REST answer. Returns the request for the next page when one is needed, the result when
   * the hole ended, or null when the answer matches no open hole (a duplicate after a restart).
   */
  answer(
    rec: JournalRecord,
    step: (interval: string) => number | null,
    w: BackfillWriter,
  ): { next: BackfillRequest } | { done: BackfillResult } | null {
    const nl = rec.text.indexOf("\n");
    const head = (nl < 0 ? rec.text : rec.text.slice(0, nl)).split(" ");
    const body = nl < 0 ? "" : rec.text.slice(nl + 1);
    const trades = rec.kind === RecordKind.BackfillTrades;
    const from = Number(trades ? head[0] : head[1]);
    const idToken = head.find((t) => t.startsWith("#"));
    const id = idToken === undefined ? null : Number(idToken.slice(1));
    const i = this.#pending.findIndex((b) =>
      b.request.symbol === rec.symbol && (id === null || b.request.id === id) &&
      (b.request.kind === "trades"
        ? trades && b.request.fromId === from
        : !trades && b.request.fromOpenMs === from)
    );
    if (i < 0) return null;
    const p = this.#pending[i]!;
    const failed = head.includes("failed");
    let next: BackfillRequest | null = null;
    if (!failed) {
      try {
        next = p.request.kind === "trades"
          ? this.#trades(p, p.request, body, rec.localUs, w)
          : this.#klines(p, p.request, step(p.request.interval)!, body, rec.localUs, w);
      } catch (err) {
        if (!(err instanceof MalformedMessageError)) throw err;
        w.malformed(err, body);
      }
    }
    if (next) {
      p.request = next;
      return { next };
    }
    this.#pending.splice(i, 1);
    if (failed) p.row.reason += `; backfill failed: ${body.slice(0, 200)}`;
    const ok = p.row.kind === "backfilled";
    if (p.written === null) w.gap(p.row);
    else if (ok) {
      // The interval's row written at the stop stays; this one says it was recovered after all.
      w.gap(p.row);
      w.recovered({ ...p.row, kind: p.written });
    }
    return {
      done: { symbol: p.request.symbol, stream: p.stream, ok, rows: p.recovered, detail: p.row.reason },
    };
  }

  /**
   * A flush or a stop: every hole still waiting for REST gets its gap row now, so that no committed file misses
   * rows outside a gap row (the hole stays pending, to be recovered later). Returns the rows to write.
   */
  markWritten(when: string): Row<"gaps">[] {
    const out: Row<"gaps">[] = [];
    for (const p of this.#pending) {
      if (p.written !== null) continue;
      p.written = p.row.kind;
      out.push({ ...p.row, reason: `${p.row.reason}; the REST backfill was still pending ${when}` });
    }
    return out;
  }

  /** The saved form, journaled in checkpoints. */
  export(): SavedBackfills {
    return { nextId: this.#nextId, pending: this.#pending };
  }

  /**
   * Restores a saved form; holes of streams `keep` rejects are returned (their gap rows must be written unless
   * they were already). Accepts the form saved before 0.4 (a plain list without ids).
   */
  restore(saved: SavedBackfills | PendingBackfill[], keep: (stream: string) => boolean): PendingBackfill[] {
    const list = Array.isArray(saved) ? saved : saved.pending;
    let nextId = Array.isArray(saved) ? 1 : saved.nextId;
    const restored: PendingBackfill[] = list.map((p) => ({
      ...p,
      request: { ...p.request, id: p.request.id ?? nextId++ },
      written: p.written ?? null,
    }));
    for (const p of restored) nextId = Math.max(nextId, p.request.id + 1);
    this.#nextId = nextId;
    this.#pending = restored.filter((p) => keep(p.stream));
    return restored.filter((p) => !keep(p.stream));
  }

  /** Writes the trades of one REST page that fall in the hole; the request for the next page, if any. */
  #trades(
    p: PendingBackfill,
    req: Extract<BackfillRequest, { kind: "trades" }>,
    body: string,
    localUs: number,
    w: BackfillWriter,
  ): BackfillRequest | null {
    const symbol = req.symbol;
    let nextId = req.fromId;
    for (const t of parseAggTrades(body)) {
      if (t.aggTradeId < nextId || t.aggTradeId > req.toId) continue;
      if (t.aggTradeId !== nextId) break; // ids must stay contiguous: what is left remains a gap
      w.row("trades", symbol, localUs, tradeRow(symbol, t, null, localUs, "rest"));
      nextId++;
      p.recovered++;
    }
    return progress(p, nextId > req.toId, nextId > req.fromId, "trades", () => {
      p.row.last_update_id = nextId - 1;
      return { ...req, fromId: nextId };
    });
  }

  /** Writes the closed candles of one REST page that fall in the hole; the next page's request, if any. */
  #klines(
    p: PendingBackfill,
    req: Extract<BackfillRequest, { kind: "klines" }>,
    stepMs: number,
    body: string,
    localUs: number,
    w: BackfillWriter,
  ): BackfillRequest | null {
    const symbol = req.symbol;
    let nextOpen = req.fromOpenMs;
    for (const k of parseKlines(body)) {
      if (k.openTime < nextOpen || k.openTime > req.toOpenMs) continue;
      w.row("klines", symbol, localUs, klineRow(symbol, req.interval, k, null, localUs));
      nextOpen = k.openTime + stepMs;
      p.recovered++;
    }
    return progress(p, nextOpen > req.toOpenMs, nextOpen > req.fromOpenMs, "candles", () => ({
      ...req,
      fromOpenMs: nextOpen,
    }));
  }
}

/** After a page: done (row becomes `backfilled`), stuck (row keeps its kind), or the next page's request. */
function progress(
  p: PendingBackfill,
  done: boolean,
  advanced: boolean,
  what: string,
  next: () => BackfillRequest,
): BackfillRequest | null {
  if (done) {
    p.row = {
      ...p.row,
      kind: "backfilled",
      reason: `${p.row.reason}; recovered ${p.recovered} ${what} from REST`,
    };
    return null;
  }
  if (!advanced) {
    p.row.reason += `; REST returned ${p.recovered} ${what}, the rest stays missing`;
    return null;
  }
  return next();
}

/** `Omit` applied to each member of a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

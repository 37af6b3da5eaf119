/**
 * The REST requests the normalizer asks for, for one market: depth snapshots (a book to sync) and backfill
 * pages (rows missed on the socket). Every answer, or failure, is journaled as a record for the normalizer, so a
 * replay sees exactly what the live run saw. Requests go through the weight-aware client: snapshots first,
 * backfill behind them.
 * @module
 */
import type { RestClient } from "../binance/rest.ts";
import type { Market } from "../binance/types.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { nextTurn } from "../loop_lag.ts";
import { backfillHead, backfillRecordKind, type BackfillRequest } from "./backfill.ts";
import { type JournalRecord, RecordKind } from "./records.ts";

/** What the fetcher needs from the collector. */
export interface FetcherDeps {
  market: Market;
  rest: RestClient;
  /** REST depth snapshot limit valid for the market. */
  depthLimit: number;
  record(rec: JournalRecord): void;
  /** True once the collector stops: answers are then dropped (the stop's gap rows cover the holes). */
  stopping(): boolean;
  /** Whether a symbol's book is synced (a failed snapshot is retried only while it is not). */
  synced(symbol: string): boolean;
  log: Logger;
  clock: Clock;
  /** Delay before a failed snapshot request is retried. @default 2000 */
  snapshotRetryMs?: number;
}

/** Snapshot and backfill requests of one market. */
export class RestFetcher {
  /** Symbols with a snapshot request in flight. */
  readonly #fetching = new Set<string>();
  readonly #retries = new Set<ReturnType<typeof setTimeout>>();
  #snapshots = 0;
  #firstSnapshotMs: number | null = null;
  /** Snapshot answers waiting to be journaled, one per event-loop turn (see {@link RestFetcher.snapshot}). */
  readonly #answers: JournalRecord[] = [];
  #draining = false;

  constructor(private readonly d: FetcherDeps) {}

  /** Snapshot requests made so far, and when the first was (epoch ms), for the start-up sync report. */
  get snapshotRequests(): { count: number; firstMs: number | null } {
    return { count: this.#snapshots, firstMs: this.#firstSnapshotMs };
  }

  /**
   * Fetches a depth snapshot for `symbol` (one at a time per symbol), retrying a failure until synced. Answers
   * are journaled one per event-loop turn, stamped with their arrival: a weight window's worth of snapshots
   * comes back at once (over 200 at the whole market, ~2,000 rows each), which in one turn would stall the feed.
   */
  snapshot(symbol: string): void {
    const { market, rest, clock } = this.d;
    if (this.d.stopping() || this.#fetching.has(symbol)) return;
    this.#fetching.add(symbol);
    if (this.#snapshots++ === 0) this.#firstSnapshotMs = clock.nowMs();
    rest.depth(symbol, this.d.depthLimit).then(
      ({ text }) => {
        if (this.d.stopping()) return;
        this.#answers.push({
          localUs: clock.nowUs(),
          market,
          conn: 0,
          kind: RecordKind.Snapshot,
          symbol,
          text,
        });
        if (!this.#draining) void this.#drain();
      },
      (err) => {
        this.#fetching.delete(symbol);
        if (this.d.stopping()) return;
        this.d.log("warn", "snapshot request failed", { market, symbol, error: String(err) });
        const retry = setTimeout(() => {
          this.#retries.delete(retry);
          if (!this.d.synced(symbol)) this.snapshot(symbol);
        }, this.d.snapshotRetryMs ?? 2000);
        this.#retries.add(retry);
      },
    );
  }

  /**
   * Fetches one page of rows missed on the socket and journals the answer, or the failure, for the normalizer
   * (which asks for the next page).
   */
  backfill(req: BackfillRequest): void {
    const { market, rest, record, clock } = this.d;
    if (this.d.stopping()) return;
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
      record({
        localUs: clock.nowUs(),
        market,
        conn: 0,
        kind: backfillRecordKind(req),
        symbol: req.symbol,
        text: `${backfillHead(req, failed)}\n${text}`,
      });
    call.then(
      ({ text }) => {
        if (!this.d.stopping()) journal(false, text);
      },
      (err) => {
        if (this.d.stopping()) return;
        this.d.log("warn", "backfill failed", {
          market,
          symbol: req.symbol,
          kind: req.kind,
          error: String(err),
        });
        journal(true, String(err));
      },
    );
  }

  /** Cancels pending retries and drops answers not yet journaled (the REST client is closed by its owner). */
  close(): void {
    for (const t of this.#retries) clearTimeout(t);
    this.#retries.clear();
    this.#answers.length = 0;
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      for (let rec = this.#answers.shift(); rec !== undefined; rec = this.#answers.shift()) {
        // Still in flight until journaled: a new request for the symbol would only cost weight.
        this.#fetching.delete(rec.symbol);
        if (this.d.stopping()) continue;
        this.d.record(rec);
        await nextTurn(); // also after the last: answers arriving in this turn wait for the next
      }
    } finally {
      this.#draining = false;
    }
  }
}

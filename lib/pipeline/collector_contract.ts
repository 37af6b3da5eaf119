/**
 * The collector's contract with whoever runs it (collector.ts): its settings, the markets it records and the
 * alerts it raises. The market runtime (market_runtime.ts) depends on this, not on the collector itself;
 * collector.ts re-exports it for the collector's users.
 * @module
 */
import type { WebSocketConstructor } from "../binance/connection.ts";
import type { ReconnectPolicy } from "../binance/reconnect_policy.ts";
import type { RestClient } from "../binance/rest.ts";
import type { Market } from "../binance/types.ts";
import type { SymbolFilter } from "../binance/universe.ts";
import type { Clock } from "../clock.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { Logger } from "../log.ts";
import type { Shard } from "../shard.ts";
import type { JournalWriter } from "../storage/journal.ts";
import type { Manifest } from "../storage/manifest.ts";
import type { Row } from "../storage/tables.ts";
import type { ConnectionAlert } from "./connections.ts";
import type { TableStore } from "./table_store.ts";

/** One market as the collector needs it (resolved from the config). */
export interface MarketSetup {
  market: Market;
  wsUrl: string;
  /** The symbols to record (ignored with `all`). */
  symbols: readonly string[];
  /** `symbols: all`: the filter; the symbols then come from exchangeInfo (see universe_watch.ts). */
  all?: SymbolFilter | null;
  streams: readonly string[];
  /** REST depth snapshot limit valid for the market. */
  depthLimit: number;
  rest: RestClient;
}

/** Collector settings. */
export interface CollectorOptions {
  markets: readonly MarketSetup[];
  /** With several collectors: records only the symbols assigned to this shard. */
  shard?: Shard | null;
  journal: JournalWriter;
  /** Opens a new journal segment after a write or fsync failure (see journal_keeper.ts). */
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
  /**
   * The most a turn of the event loop spends copying the state at a flush, records held meanwhile (default
   * 4 ms; 0 takes one stream per turn, which tests use to let frames in between).
   */
  captureSliceMs?: number;
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
  /** Where time is read. @default systemClock */
  clock?: Clock;
  /** Operational events for alerts (Telegram). */
  onAlert?: (alert: CollectorAlert) => void;
  /** Notified of every gap written (alerts, tests). */
  onGap?: (market: Market, gap: Row<"gaps">) => void;
}

/** Something the operator should hear about, in the shape the Telegram alerts take. */
export type CollectorAlert =
  | ConnectionAlert
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
  | { kind: "journal_failed"; error: string }
  /** `symbols: all`: listings joined, or symbols stopped trading (delisted, halted). */
  | { kind: "universe"; market: Market; added: readonly string[]; removed: readonly string[] };

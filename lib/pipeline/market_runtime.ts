/**
 * One market's moving parts in the collector, wired together: its stream plan, normalizer, sockets, REST
 * fetcher, liveness, first-sync report and universe watch. The collector (collector.ts) builds one per
 * configured market and drives them; what a market reports goes back through {@link MarketHost}.
 * @module
 */

import { StreamLiveness } from "../binance/liveness.ts";
import { ConnectBudget } from "../binance/reconnect_policy.ts";
import { planStreams, type StreamPlan } from "../binance/stream_plan.ts";
import type { Market } from "../binance/types.ts";
import type { Clock } from "../clock.ts";
import type { RateLimitedLog } from "../log.ts";
import type { Row } from "../storage/tables.ts";
import type { CollectorOptions, MarketSetup } from "./collector_contract.ts";
import type { ObservedMarket } from "./collector_status.ts";
import { MarketConnections } from "./connections.ts";
import { FirstSyncReport } from "./first_sync.ts";
import { MarketNormalizer } from "./normalizer.ts";
import type { JournalRecord } from "./records.ts";
import { RestFetcher } from "./rest_fetcher.ts";
import { UniverseWatch } from "./universe_watch.ts";
import { recordsSymbol } from "../shard.ts";

/** A market's parts. */
export interface MarketRuntime extends ObservedMarket {
  setup: MarketSetup;
  fetcher: RestFetcher;
  firstSync: FirstSyncReport;
  /** `symbols: all` only. */
  universe: UniverseWatch;
}

/** What a market's parts need of the collector that runs them. */
export interface MarketHost {
  options: CollectorOptions;
  clock: Clock;
  badFrames: RateLimitedLog;
  /** Journals a record, then normalizes it. */
  record(rec: JournalRecord): void;
  nextConnId(): number;
  /** Recovery is replaying the journal: what the normalizer asks for is answered in it already. */
  replaying(): boolean;
  stopping(): boolean;
  /** Connections are open (after recovery). */
  started(): boolean;
  /** A gap row was written: the flush that commits it records it in the ledger. */
  gapWritten(market: Market, gap: Row<"gaps">): void;
  /** A gap row written earlier was recovered in full by a backfill. */
  gapRecovered(market: Market, earlier: Row<"gaps">): void;
}

/** Plans `setup`'s streams (the host's shard's symbols only) and wires its parts. */
export function marketRuntime(setup: MarketSetup, host: MarketHost): MarketRuntime {
  const { options, clock } = host;
  const market = setup.market;
  const all = setup.all ?? null;
  const mine = (symbol: string) => recordsSymbol(options.shard ?? null, market, symbol);
  const listed = setup.symbols.filter(mine);
  const plan: StreamPlan = planStreams(
    { market, wsUrl: setup.wsUrl, symbols: all ? [] : listed, streams: setup.streams },
    { maxStreamsPerConnection: options.maxStreamsPerConnection },
  );
  const liveness = StreamLiveness.forStreams(plan.streams);
  const record = (rec: JournalRecord) => host.record(rec);
  const stopping = () => host.stopping();
  const normalizer = new MarketNormalizer(plan, options.store, {
    needSnapshot: (_m, symbol) => {
      if (!host.replaying()) fetcher.snapshot(symbol);
    },
    needBackfill: (_m, request) => {
      if (!host.replaying()) fetcher.backfill(request);
    },
    backfillDone: (m, r) => options.onAlert?.({ kind: "backfill", market: m, ...r }),
    gapRecovered: (m, gap) => host.gapRecovered(m, gap),
    gap: (m, gap) => {
      if (!host.replaying()) options.onAlert?.({ kind: "gap", market: m, gap });
      // Recorded in the ledger by the flush that commits the row, so ledger and Parquet agree.
      host.gapWritten(m, gap);
      options.log("warn", "gap", {
        market: m,
        symbol: gap.symbol,
        stream: gap.stream,
        kind: gap.kind,
        reason: gap.reason,
      });
      options.onGap?.(m, gap);
    },
    planGrew: (streams) => {
      liveness.add(streams, clock.nowUs());
      if (host.started() && !host.stopping()) connections.open();
    },
    retired: (streams) => {
      for (const ps of streams) liveness.retire(ps.index);
    },
    revived: (streams) => {
      for (const ps of streams) liveness.revive(ps.index, clock.nowUs());
    },
  }, {
    topLevels: options.topLevels,
    // Twice the snapshot's depth: beyond what the snapshot covers the local book is partial anyway.
    maxBookLevels: Math.max(2 * setup.depthLimit, 2 * options.topLevels),
    dynamicUniverse: all !== null,
    liveness,
    onBadFrame: (reason, text) =>
      host.badFrames.write("warn", "frame not normalized", { market, reason, frame: text.slice(0, 120) }),
  });
  const connections = new MarketConnections({
    market,
    plan,
    normalizer,
    liveness,
    budget: new ConnectBudget(),
    record,
    nextConnId: () => host.nextConnId(),
    stopping,
    log: options.log,
    badFrames: host.badFrames,
    clock,
    onAlert: options.onAlert,
    onStale: () => {
      if (!host.stopping()) universe.nudge();
    },
    webSocket: options.webSocket,
    reconnect: options.reconnect,
    lifetimeMs: options.connectionLifetimeMs,
    rotateLeadMs: options.rotateLeadMs ?? 600_000,
  });
  const fetcher = new RestFetcher({
    market,
    rest: setup.rest,
    depthLimit: setup.depthLimit,
    record,
    stopping,
    synced: (symbol) => normalizer.bookOf(symbol)?.state === "synced",
    log: options.log,
    clock,
    snapshotRetryMs: options.snapshotRetryMs,
  });
  const universe = new UniverseWatch({
    market,
    rest: setup.rest,
    filter: all,
    listed,
    mine,
    current: () => normalizer.symbols(),
    record,
    log: options.log,
    clock,
    dataDir: options.dataDir,
    onChange: (c) => options.onAlert?.({ kind: "universe", ...c }),
  });
  return {
    market,
    get symbols() {
      return all === null ? listed : normalizer.symbols();
    },
    setup,
    plan,
    normalizer,
    liveness,
    connections,
    fetcher,
    firstSync: new FirstSyncReport({
      market,
      books: () => normalizer.bookCounts(),
      snapshotRequests: () => fetcher.snapshotRequests,
      log: options.log,
      clock,
    }),
    universe,
    rest: setup.rest,
  };
}

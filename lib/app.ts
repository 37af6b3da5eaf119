/**
 * Builds a running collector from a resolved config: journal, manifest, table store, one REST client per
 * market, and the collector shell. Shared by `main.ts`, the demo, the benchmark and the integration tests so
 * they all run the same assembly.
 */
import { RestClient } from "./binance/rest.ts";
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";
import { Collector, type CollectorOptions } from "./pipeline/collector.ts";
import { TableStore } from "./pipeline/table_store.ts";
import { removeTempFiles } from "./storage/atomic_file.ts";
import { JournalWriter } from "./storage/journal.ts";
import { journalDir } from "./storage/layout.ts";
import { Manifest } from "./storage/manifest.ts";
import { reconcileManifest } from "./storage/manifest_reconcile.ts";

/** Overrides for tests and benchmarks. */
export interface AppOverrides
  extends Partial<Pick<CollectorOptions, "webSocket" | "rotateLeadMs" | "onGap">> {
  /** Journal writer options (e.g. a smaller segment size). */
  journal?: Parameters<typeof JournalWriter.open>[1];
}

/** Opens storage, initialises the REST clients (rate limits from exchangeInfo) and starts collecting. */
export async function startApp(
  config: Config,
  log: Logger,
  overrides: AppOverrides = {},
): Promise<Collector> {
  await Deno.mkdir(config.dataDir, { recursive: true });
  // A crash can leave temp files behind; they were never renamed into place, so no reader ever saw them.
  const removed = await removeTempFiles(config.dataDir);
  if (removed.length > 0) {
    log("info", "removed temp files left by an earlier crash", { count: removed.length });
  }
  const manifest = await Manifest.load(config.dataDir);
  // A crash between a Parquet rename and the manifest save leaves a file without an entry: list it now.
  const reconciled = await reconcileManifest(manifest);
  if (reconciled.added.length + reconciled.updated.length + reconciled.removed.length > 0) {
    log("info", "manifest reconciled with the files on disk", {
      added: reconciled.added.length,
      updated: reconciled.updated.length,
      removed: reconciled.removed.length,
    });
  }
  // fsync twice a second, so a record is durable within about a second of its arrival even when an fsync is slow.
  const journal = await JournalWriter.open(journalDir(config.dataDir), {
    syncIntervalMs: 500,
    ...overrides.journal,
  });
  const markets: CollectorOptions["markets"][number][] = [];
  for (const m of Object.values(config.markets)) {
    if (!m.enabled) continue;
    const rest = new RestClient({ market: m.market, baseUrl: m.restUrl });
    try {
      await rest.init();
    } catch (err) {
      // Not fatal: the documented limit applies until exchangeInfo answers; snapshots retry on their own.
      log("warn", "exchangeInfo failed: using the documented weight limit", {
        market: m.market,
        error: String(err),
      });
    }
    markets.push({
      market: m.market,
      wsUrl: m.wsUrl,
      symbols: m.symbols,
      streams: m.streams,
      depthLimit: m.depthLimit,
      rest,
    });
  }
  const { journal: _journalOptions, ...collectorOverrides } = overrides;
  const collector = new Collector({
    markets,
    journal,
    store: new TableStore(config.dataDir, manifest),
    log,
    topLevels: config.orderbookTopLevels,
    flushIntervalMs: config.flushIntervalSec * 1000,
    maxBufferBytes: config.maxBufferMb * 1024 * 1024,
    connectionLifetimeMs: config.connectionLifetimeSec * 1000,
    pruneJournal: true,
    ...collectorOverrides,
  });
  collector.start();
  return collector;
}

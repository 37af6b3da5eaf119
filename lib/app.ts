/**
 * Builds a running collector from a resolved config: ledger, journal, table store, one REST client per market,
 * recovery of an interrupted run, and the collector shell. Shared by `main.ts`, the demo, the benchmark and the
 * integration tests so they all run the same assembly.
 */
import { RestClient } from "./binance/rest.ts";
import { deletesFiles } from "./cloud/cleanup.ts";
import type { Config } from "./config.ts";
import type { Ledger } from "./ledger/ledger.ts";
import { openLedger } from "./ledger/open.ts";
import type { Logger } from "./log.ts";
import { Collector, type CollectorOptions } from "./pipeline/collector.ts";
import type { RecoveryReport } from "./pipeline/recovery.ts";
import { TableStore } from "./pipeline/table_store.ts";
import { removeTempFiles } from "./storage/atomic_file.ts";
import { JournalWriter } from "./storage/journal.ts";
import { journalDir } from "./storage/layout.ts";
import { Manifest, type ManifestEntry } from "./storage/manifest.ts";
import { type SealPolicy, sealSettledDays } from "./storage/sealed_dirs.ts";
import { ParquetEncoder } from "./storage/parquet_encoder.ts";
import type { ParquetJobs } from "./storage/parquet_jobs.ts";
import { MergeProcesses } from "./storage/merge_process.ts";

/**
 * Days of files the collector keeps in its manifest's memory without a remote: more than the funding job looks
 * back for a symbol's last rate (7 days), the fleet view (3) and a late compaction of a day's hours.
 */
export const SEAL_AFTER_DAYS = 10;

/** Overrides for tests and benchmarks. */
export interface AppOverrides
  extends
    Partial<Pick<CollectorOptions, "webSocket" | "rotateLeadMs" | "captureSliceMs" | "onGap" | "onAlert">> {
  /** Journal writer options (e.g. a smaller segment size). */
  journal?: Parameters<typeof JournalWriter.open>[1];
  /** Environment for the ledger (a remote KV needs `DENO_KV_ACCESS_TOKEN`). */
  env?: { get(name: string): string | undefined };
  /** Per-attempt REST timeout (default 10 s). */
  restTimeoutMs?: number;
}

/** A running collector and what it owns. */
export interface App {
  collector: Collector;
  ledger: Ledger;
  /** The committed files, kept current by the collector (compaction and cloud sync work on it). */
  manifest: Manifest;
  recovery: RecoveryReport;
  rest: RestClient[];
  /**
   * The hourly compaction's Parquet jobs: each merge in a child process of its own, whose memory goes back to
   * the system when it exits (lib/storage/merge_process.ts); in the collector's Parquet worker where no child
   * can run.
   */
  jobs: ParquetJobs;
  /**
   * With a remote and `cleanup_days: 0`, lets the manifest seal a settled day once `isUploaded` (the cloud
   * sync's) holds for each of its entries; until then, nothing is sealed. Without a remote it seals anyway.
   */
  sealUploaded(isUploaded: (entry: ManifestEntry) => boolean): void;
  /** Stops the collector (clean shutdown, final flush) and closes the ledger. */
  stop(): Promise<void>;
}

/**
 * Opens storage and the ledger, recovers what an
 * interrupted run left in the journal, and starts collecting.
 */
export async function startApp(config: Config, log: Logger, overrides: AppOverrides = {}): Promise<App> {
  await Deno.mkdir(config.dataDir, { recursive: true });
  // A crash can leave temp files behind; they were never renamed into place, so no reader ever saw them.
  const removed = await removeTempFiles(config.dataDir);
  if (removed.length > 0) {
    log("info", "removed temp files left by an earlier crash", { count: removed.length });
  }
  const ledger = await openLedger(config.kvPath, overrides.env ?? { get: () => undefined }, {
    shard: config.shard?.name ?? null,
  });
  try {
    // The ledger is the authority on committed files. Files recorded before it existed are in the manifest.
    if (await ledger.getCheckpoint() === null) {
      const previous = await Manifest.load(config.dataDir);
      if (previous.size > 0) await ledger.addFiles(previous.entries());
    }
    // checksums.json mirrors the ledger; the in-memory copy is shared with compaction and cloud sync. A settled
    // day's entries stay in the file only once nothing reads them again: without a remote, SEAL_AFTER_DAYS days
    // after the day; with one and no cleanup (`cleanup_days: 0`), once the sync has also confirmed each of its
    // files uploaded (it no longer sees them then; main.ts saves once a sync run confirmed files uploaded by an
    // earlier process). With cleanup, `cleanup_days` bounds what is held.
    const settled = sealSettledDays(SEAL_AFTER_DAYS);
    let uploaded: (entry: ManifestEntry) => boolean = () => false;
    const seal: SealPolicy | undefined = config.cloudRemote === ""
      ? settled
      : deletesFiles({ root: config.cloudRemote, cleanupDays: config.cleanupDays })
      ? undefined
      : (dir, entries) => settled(dir, entries) && entries.every((e) => uploaded(e));
    const manifest = await ledger.mirrorManifest(config.dataDir, {
      seal,
      onSeal: (counts) => log("info", "manifest sealed settled days", counts),
    });
    log("info", "manifest mirrored", { held: manifest.size, sealed: manifest.sealed });
    // fsync twice a second: a record is durable within about a second of its arrival even when one is slow.
    const journalOptions = { syncIntervalMs: 500, ...overrides.journal };
    const openJournal = () => JournalWriter.open(journalDir(config.dataDir), journalOptions);
    const journal = await openJournal();
    const markets: CollectorOptions["markets"][number][] = [];
    for (const m of Object.values(config.markets)) {
      if (!m.enabled) continue;
      const rest = new RestClient({
        market: m.market,
        baseUrl: m.restUrl,
        timeoutMs: overrides.restTimeoutMs,
      });
      // The collector reads exchangeInfo in the background as it starts (the recorded symbols, and the IP's
      // weight limit): a REST outage must not hold up recording, and snapshots retry on their own.
      markets.push({
        market: m.market,
        wsUrl: m.wsUrl,
        symbols: m.symbols,
        all: m.all,
        streams: m.streams,
        depthLimit: m.depthLimit,
        rest,
      });
    }
    const { journal: _journalOptions, env: _env, restTimeoutMs: _timeout, ...collectorOverrides } = overrides;
    // Sorting, encoding, hashing and file writes run in a worker so a flush never stalls socket reads or
    // journal fsyncs.
    const encoder = new ParquetEncoder();
    const collector = new Collector({
      markets,
      journal,
      reopenJournal: openJournal,
      store: new TableStore(config.dataDir, { jobs: encoder, shard: config.shard?.name ?? null }),
      shard: config.shard,
      ledger,
      manifest,
      dataDir: config.dataDir,
      keepRaw: config.keepRaw,
      log,
      topLevels: config.orderbookTopLevels,
      flushIntervalMs: config.flushIntervalSec * 1000,
      maxBufferBytes: config.maxBufferMb * 1024 * 1024,
      connectionLifetimeMs: config.connectionLifetimeSec * 1000,
      ...collectorOverrides,
    });
    const merges = new MergeProcesses({ dataDir: config.dataDir, worker: encoder, log });
    const recovery = await collector.recover();
    collector.start();
    return {
      collector,
      ledger,
      manifest,
      recovery,
      rest: markets.map((m) => m.rest),
      jobs: merges,
      sealUploaded(isUploaded) {
        uploaded = isUploaded;
      },
      async stop() {
        try {
          await collector.stop();
        } finally {
          merges.close();
          encoder.close();
          ledger.close();
        }
      },
    };
  } catch (err) {
    ledger.close();
    throw err;
  }
}

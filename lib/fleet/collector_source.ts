/**
 * The running collector as the fleet heartbeat sees it (publisher.ts's {@linkcode FleetSource}), and this
 * process's {@linkcode FleetIdentity} from its shard config.
 * @module
 */

import type { Market } from "../binance/types.ts";
import type { Collector } from "../pipeline/collector.ts";
import type { Shard } from "../shard.ts";
import type { ManifestEntry } from "../storage/manifest.ts";
import { type FleetIdentity, UNSHARDED } from "./files.ts";
import type { FleetSource } from "./publisher.ts";

/** The collector's parts the heartbeat reads. */
export type FleetCollector = Pick<
  Collector,
  "symbolsOf" | "status" | "streams" | "lastFlushMs" | "flushCount"
>;

/**
 * The heartbeat's source over a collector, its markets, the live manifest and the last confirmed upload.
 * Each read is one pass over the collector's streams or books, once a minute.
 */
export function collectorFleetSource(
  collector: FleetCollector,
  markets: readonly Market[],
  manifest: { entries(): readonly ManifestEntry[] },
  lastUploadMs: () => number | null,
): FleetSource {
  return {
    symbols: () => Object.fromEntries(markets.map((m) => [m, collector.symbolsOf(m)])),
    books: () => {
      const books = collector.status().flatMap((m) => m.books);
      return { synced: books.filter((b) => b.state === "synced").length, total: books.length };
    },
    messages: () => collector.streams().reduce((n, s) => n + s.messages, 0),
    lastFlushMs: () => collector.flushCount > 0 ? collector.lastFlushMs : null,
    files: () => manifest.entries(),
    lastUploadMs,
  };
}

/** This process in the fleet: its shard (`main` without one), host and version, started at `startedAtMs`. */
export function fleetIdentity(shard: Shard | null, version: string, startedAtMs: number): FleetIdentity {
  let host = "unknown";
  try {
    host = Deno.hostname();
  } catch {
    // Without --allow-sys the heartbeat still names the shard.
  }
  return {
    shard: shard?.name ?? UNSHARDED,
    index: shard?.index ?? null,
    count: shard?.count ?? null,
    replicas: shard?.replicas ?? null,
    host,
    version,
    startedAtMs,
  };
}

/**
 * Publishes this shard's fleet files (files.ts) to the shared remote: the heartbeat at every call, the manifest
 * of the last few UTC days' files when it changed. Each file is written under `{data_dir}/_fleet/` first
 * (atomically) and copied with `rclone copyto`, so the remote only ever holds whole files, and the local copy
 * tells the next start the last upload time it knew.
 * @module
 */

import { join } from "node:path";
import type { Market } from "../binance/types.ts";
import { type Rclone, remoteFile } from "../cloud/rclone.ts";
import { type Logger, silentLogger } from "../log.ts";
import { writeFileAtomic } from "../storage/atomic_file.ts";
import { parseParquetPath, utcDate } from "../storage/layout.ts";
import type { ManifestEntry } from "../storage/manifest.ts";
import {
  FLEET_FORMAT,
  type FleetIdentity,
  type Heartbeat,
  heartbeatFile,
  manifestFile,
  parseHeartbeat,
  type ShardManifest,
} from "./files.ts";

/** What the heartbeat reports, read at each publish. */
export interface FleetSource {
  /** Symbols recorded now, per enabled market. */
  symbols(): Partial<Record<Market, readonly string[]>>;
  books(): { synced: number; total: number };
  /** Messages received since the start (a growing counter). */
  messages(): number;
  lastFlushMs(): number | null;
  /** The finished files (the live manifest). */
  files(): readonly ManifestEntry[];
  /** When the last data file upload was confirmed in this run; null if none yet. */
  lastUploadMs(): number | null;
}

/** Options of {@linkcode FleetPublisher}. */
export interface FleetPublisherOptions {
  rclone: Rclone;
  /** The rclone root all shards share (`remoteRoot(cloud_remote, cloud_path)`). */
  root: string;
  /** `data_dir`: the files are staged in its `_fleet/`. */
  dataDir: string;
  identity: FleetIdentity;
  source: FleetSource;
  /** UTC days (today and the ones before) whose files the manifest lists. @default 3 */
  manifestDays?: number;
  log?: Logger;
}

/** What one publish uploaded. */
export interface PublishResult {
  heartbeat: Heartbeat;
  /** Whether the manifest changed and was uploaded. */
  manifest: boolean;
}

const DAY_MS = 86_400_000;

/**
 * The UTC day of `nowMs` and the `days - 1` days before it, latest first.
 *
 * @example
 * ```ts
 * recentDays(Date.UTC(2024, 0, 4, 12), 2); // ["2024-01-04", "2024-01-03"]
 * ```
 */
export function recentDays(nowMs: number, days: number): string[] {
  return Array.from({ length: days }, (_, i) => utcDate((nowMs - i * DAY_MS) * 1000));
}

/**
 * The entries of files whose partition (`date=` segment) is one of `days`.
 *
 * @example
 * ```ts
 * const e = {
 *   path: "spot/trades/date=2024-01-02/part-07-1704178800000000-000001.s0.parquet", sha256: "0".repeat(64),
 *   rows: 1, bytes: 1, first_local_time: "2024-01-02T07:00:00.000000Z",
 *   last_local_time: "2024-01-02T07:00:01.000000Z", market: "spot" as const, table: "trades" as const,
 * };
 * entriesOfDays([e], ["2024-01-02"]).length; // 1
 * entriesOfDays([e], ["2024-01-03"]).length; // 0
 * ```
 */
export function entriesOfDays(entries: readonly ManifestEntry[], days: readonly string[]): ManifestEntry[] {
  const wanted = new Set(days);
  return entries.filter((e) => wanted.has(parseParquetPath(e.path)?.date ?? ""));
}

/**
 * Publishes the fleet files; calls run one after another, and none after {@linkcode FleetPublisher.stop}.
 *
 * @example
 * ```ts
 * import { Rclone } from "../cloud/rclone.ts";
 *
 * const dataDir = await Deno.makeTempDir();
 * const remote = await Deno.makeTempDir(); // e.g. remoteRoot("s3", "bucket/binance")
 * const publisher = await FleetPublisher.create({
 *   rclone: new Rclone(),
 *   root: remote,
 *   dataDir,
 *   identity: {
 *     shard: "s0", index: 0, count: 2, replicas: 1, host: "vm-a", version: "0.4.0", startedAtMs: Date.now(),
 *   },
 *   source: {
 *     symbols: () => ({ spot: ["BTCUSDT"] }),
 *     books: () => ({ synced: 1, total: 1 }),
 *     messages: () => 1200,
 *     lastFlushMs: () => null,
 *     files: () => [],
 *     lastUploadMs: () => null,
 *   },
 * });
 * await publisher.publish(Date.now());
 * JSON.parse(await Deno.readTextFile(`${remote}/_fleet/s0.json`)).symbols; // { spot: ["BTCUSDT"] }
 * for (const d of [dataDir, remote]) await Deno.remove(d, { recursive: true });
 * ```
 */
export class FleetPublisher {
  readonly #o: FleetPublisherOptions;
  readonly #log: Logger;
  #chain: Promise<unknown> = Promise.resolve();
  #stopped = false;
  #lastManifest: string | null = null;
  #previous: { atMs: number; messages: number } | null = null;
  #knownUploadMs: number | null;

  private constructor(options: FleetPublisherOptions, knownUploadMs: number | null) {
    this.#o = options;
    this.#log = options.log ?? silentLogger;
    this.#knownUploadMs = knownUploadMs;
  }

  /** A publisher that remembers the last upload time of the previous run from its staged heartbeat. */
  static async create(options: FleetPublisherOptions): Promise<FleetPublisher> {
    const days = options.manifestDays ?? 3;
    if (!Number.isInteger(days) || days < 1) {
      throw new RangeError(`Cannot publish fleet files: 'manifestDays' must be a positive integer: ${days}`);
    }
    const staged = join(options.dataDir, heartbeatFile(options.identity.shard));
    let known: number | null = null;
    try {
      known = parseHeartbeat(await Deno.readTextFile(staged), staged).lastUploadMs;
    } catch (err) {
      // First run, or a file another version wrote: the next upload sets it.
      if (!(err instanceof Deno.errors.NotFound)) {
        options.log?.("warn", "previous fleet heartbeat not read", { path: staged, error: String(err) });
      }
    }
    return new FleetPublisher(options, known);
  }

  /** Uploads the heartbeat (and the manifest when it changed); null after `stop`. */
  publish(nowMs: number): Promise<PublishResult | null> {
    return this.#serial(() => this.#stopped ? Promise.resolve(null) : this.#publish(nowMs, null));
  }

  /** Uploads the last heartbeat, marked stopped, after any publish in progress; later publishes do nothing. */
  stop(nowMs: number): Promise<PublishResult | null> {
    return this.#serial(() => {
      if (this.#stopped) return Promise.resolve(null);
      this.#stopped = true;
      return this.#publish(nowMs, nowMs);
    });
  }

  #serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#chain.then(run, run);
    this.#chain = next.catch(() => {});
    return next;
  }

  async #publish(nowMs: number, stoppedAtMs: number | null): Promise<PublishResult> {
    const { identity, source } = this.#o;
    const days = recentDays(nowMs, this.#o.manifestDays ?? 3);
    const files = entriesOfDays(source.files(), days);
    const listing = JSON.stringify({ days, files });
    let manifest = false;
    if (listing !== this.#lastManifest) {
      const doc: ShardManifest = { format: FLEET_FORMAT, shard: identity.shard, atMs: nowMs, days, files };
      await this.#upload(manifestFile(identity.shard), doc);
      this.#lastManifest = listing;
      manifest = true;
    }
    const heartbeat = this.#heartbeat(nowMs, stoppedAtMs);
    await this.#upload(heartbeatFile(identity.shard), heartbeat);
    return { heartbeat, manifest };
  }

  #heartbeat(nowMs: number, stoppedAtMs: number | null): Heartbeat {
    const { identity: id, source } = this.#o;
    const messages = source.messages();
    const since = this.#previous ?? { atMs: id.startedAtMs, messages: 0 };
    const seconds = (nowMs - since.atMs) / 1000;
    this.#previous = { atMs: nowMs, messages };
    const uploaded = source.lastUploadMs();
    if (uploaded !== null) this.#knownUploadMs = Math.max(uploaded, this.#knownUploadMs ?? 0);
    const symbols: Partial<Record<Market, string[]>> = {};
    for (const [market, list] of Object.entries(source.symbols())) symbols[market as Market] = [...list];
    return {
      format: FLEET_FORMAT,
      shard: id.shard,
      index: id.index,
      count: id.count,
      replicas: id.replicas,
      host: id.host,
      version: id.version,
      startedAtMs: id.startedAtMs,
      atMs: nowMs,
      stoppedAtMs,
      lastFlushMs: source.lastFlushMs(),
      lastUploadMs: this.#knownUploadMs,
      symbols,
      books: source.books(),
      messagesPerSec: seconds > 0 ? Math.round((messages - since.messages) / seconds * 10) / 10 : 0,
    };
  }

  async #upload(relPath: string, doc: unknown): Promise<void> {
    const local = join(this.#o.dataDir, relPath);
    await writeFileAtomic(local, new TextEncoder().encode(JSON.stringify(doc) + "\n"));
    await this.#o.rclone.copyFile(local, remoteFile(this.#o.root, relPath));
    this.#log("debug", "fleet file published", { path: relPath });
  }
}

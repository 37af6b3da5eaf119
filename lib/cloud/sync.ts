/**
 * Uploading finished Parquet files to the rclone remote through Deno KV's queue.
 *
 * {@linkcode CloudSync.enqueuePending} finds the work in state, never in the time of a last run: the finished
 * files (plan.ts) that are not synced in their current form, with no job queued. Each gets one job, enqueued
 * atomically with its `queued` marker (sync_state.ts). The queue handler copies the file (`rclone copyto`),
 * confirms the remote copy's size and sha256 against the manifest entry, and only then marks it synced. A failed
 * attempt raises an alert and throws, so KV retries it on the job's backoff schedule; jobs live in the KV store,
 * so they survive restarts and run once a process listens again. A job whose retries ran out is queued afresh by
 * the next enqueue run. Delivery is at least once, and the handler is idempotent.
 *
 * After syncing a compacted file, the handler deletes the remote copies it replaces (plan.ts `supersededBy`),
 * so the remote keeps at most one file per (partition, hour) like the local tree.
 * @module
 */

import { join } from "node:path";
import { type Logger, silentLogger } from "../log.ts";
import type { ManifestEntry } from "../storage/manifest.ts";
import type { FileIndex } from "./file_index.ts";
import { Limiter } from "./limiter.ts";
import { finishedFilesPaced, isSynced, needsUpload, supersededBy } from "./plan.ts";
import { type Rclone, remoteFile } from "./rclone.ts";
import { isUploadMessage, type SyncedRecord, SyncState } from "./sync_state.ts";

/** An upload attempt failed (it will be retried). */
export interface SyncAlert {
  kind: "sync";
  /** Path relative to `data_dir`. */
  path: string;
  /** The rclone destination. */
  remote: string;
  error: string;
  atUs: number;
}

/** Options of {@linkcode CloudSync}. */
export interface CloudSyncOptions {
  /** The ledger's KV handle: state and queue live there. */
  kv: Deno.Kv;
  rclone: Rclone;
  /** The finished local files (the live manifest, through `manifestIndex`). */
  files: FileIndex;
  /** `data_dir`; manifest paths are relative to it. */
  dataDir: string;
  /** rclone root from `remoteRoot(cloud_remote, cloud_path)`. */
  root: string;
  /** See plan.ts `FinishTiming.graceUs`. @default {900000} (15 min) */
  graceMs?: number;
  /** See plan.ts `FinishTiming.stuckUs`. @default {10800000} (3 h) */
  stuckMs?: number;
  /** Age of a queued marker after which its job is queued again. @default {21600000} (6 h) */
  requeueAfterMs?: number;
  /** Retry delays of a job (KV allows at most 5). @default {[60000, 300000, 900000, 1800000, 3600000]} */
  backoffSchedule?: readonly number[];
  /** Uploads run at once. @default {2} */
  concurrency?: number;
  onAlert?: (alert: SyncAlert) => void;
  /** Called after each upload is confirmed (the fleet heartbeat's last upload time). */
  onSynced?: (record: SyncedRecord) => void;
  log?: Logger;
  /** Wall clock (ms) for the synced records' times. @default {Date.now} */
  clockMs?: () => number;
}

/** Finished files whose KV state a run reads before it acts on them. */
const STATES_PER_CHUNK = 1024;

/** What {@linkcode CloudSync.enqueuePending} did. */
export interface EnqueueReport {
  /** Finished files seen. */
  finished: number;
  /** Paths given a new job. */
  enqueued: string[];
  /** Finished files this run newly found uploaded and verified (by an earlier run of the process, or another). */
  confirmed: number;
}

/**
 * The cloud sync over one KV handle.
 *
 * @example
 * ```ts
 * import { Manifest, sha256Hex } from "../storage/manifest.ts";
 * import { manifestIndex } from "./file_index.ts";
 * import { Rclone, remoteRoot } from "./rclone.ts";
 *
 * const dataDir = await Deno.makeTempDir();
 * const remoteDir = await Deno.makeTempDir();
 * const path = "spot/trades/date=2024-01-02/hour-07-1704178800000000-0a1b2c3d.parquet";
 * const bytes = new TextEncoder().encode("PAR1");
 * await Deno.mkdir(`${dataDir}/spot/trades/date=2024-01-02`, { recursive: true });
 * await Deno.writeFile(`${dataDir}/${path}`, bytes);
 * const manifest = await Manifest.load(dataDir);
 * manifest.add({
 *   path, sha256: await sha256Hex(bytes), rows: 10, bytes: bytes.length, market: "spot", table: "trades",
 *   first_local_time: "2024-01-02T07:00:00.000000Z", last_local_time: "2024-01-02T07:59:59.000000Z",
 * });
 * const kv = await Deno.openKv(":memory:"); // the ledger's KV handle in the collector
 * const sync = new CloudSync({
 *   kv,
 *   rclone: new Rclone(),
 *   files: manifestIndex(manifest),
 *   dataDir,
 *   root: remoteRoot(":local:", remoteDir), // e.g. remoteRoot(config.cloudRemote, config.cloudPath)
 *   onAlert: (alert) => console.warn(alert.error),
 * });
 * const listening = sync.listen(); // settles when the KV handle closes
 * (await sync.enqueuePending(Date.now())).enqueued; // [path]
 * while ((await sync.state.synced(path)) === null) await new Promise((resolve) => setTimeout(resolve, 20));
 * kv.close();
 * await listening;
 * for (const d of [dataDir, remoteDir]) await Deno.remove(d, { recursive: true });
 * ```
 */
export class CloudSync {
  readonly state: SyncState;
  /**
   * Entries known synced to the root in their current form (a rewritten file is a new entry object): a run
   * reads the KV state of the other finished files only, not of every file ever recorded (a year of a whole
   * market is 175,200 files, three KV reads each, every 5 minutes).
   */
  readonly #known = new WeakSet<ManifestEntry>();
  readonly #o: CloudSyncOptions;
  readonly #backoff: readonly number[];
  readonly #limiter: Limiter;
  readonly #log: Logger;
  readonly #clockMs: () => number;

  constructor(options: CloudSyncOptions) {
    const {
      backoffSchedule = [60_000, 300_000, 900_000, 1_800_000, 3_600_000],
      concurrency = 2,
      log = silentLogger,
      clockMs = Date.now,
    } = options;
    if (options.root === "") throw new RangeError("Cannot sync: no remote configured");
    if (backoffSchedule.length > 5 || backoffSchedule.some((ms) => !(ms >= 0 && ms <= 3_600_000))) {
      throw new RangeError(
        `Cannot sync: 'backoffSchedule' takes at most 5 delays of 0..3600000 ms: ${backoffSchedule}`,
      );
    }
    this.#o = options;
    this.#backoff = backoffSchedule;
    this.#limiter = new Limiter(concurrency);
    this.#log = log;
    this.#clockMs = clockMs;
    this.state = new SyncState(options.kv);
    // A synced record forgotten (cleanup found the remote copy gone) makes the file one to look at again.
    this.state.onForget = (path) => {
      const entry = options.files.get(path);
      if (entry) this.#known.delete(entry);
    };
  }

  /**
   * Whether `entry` (the manifest's object) is known uploaded and verified under the root in its current form,
   * as of this process's enqueue runs and uploads. The collector seals a settled day only once every file of it
   * is (lib/app.ts): the sync no longer sees a sealed day's files.
   */
  isUploaded(entry: ManifestEntry): boolean {
    return this.#known.has(entry);
  }

  /** Queues an upload job for every finished file that needs one (see the module doc). */
  async enqueuePending(nowMs: number): Promise<EnqueueReport> {
    const nowUs = nowMs * 1000;
    const finished = await finishedFilesPaced(this.#o.files.entries(), nowUs, {
      graceUs: (this.#o.graceMs ?? 900_000) * 1000,
      stuckUs: (this.#o.stuckMs ?? 10_800_000) * 1000,
    });
    const unknown = finished.filter((e) => !this.#known.has(e));
    const requeueAfterUs = (this.#o.requeueAfterMs ?? 21_600_000) * 1000;
    const enqueued: string[] = [];
    let confirmed = 0;
    // A chunk's states at a time: after a restart every file ever recorded is unknown, and a year's states
    // read at once held ~100 MiB.
    for (let at = 0; at < unknown.length; at += STATES_PER_CHUNK) {
      const chunk = unknown.slice(at, at + STATES_PER_CHUNK);
      const states = await this.state.read(chunk.map((e) => e.path));
      for (const entry of chunk) {
        const seen = states.get(entry.path)!;
        if (isSynced(entry, seen.synced, this.#o.root)) {
          this.#known.add(entry);
          confirmed++;
        }
        if (!needsUpload(entry, seen, this.#o.root, nowUs, requeueAfterUs)) continue;
        // false: another enqueuer or the handler got there first; its state stands.
        if (await this.state.enqueue(entry.path, seen, nowUs, this.#backoff)) enqueued.push(entry.path);
      }
    }
    if (enqueued.length > 0) this.#log("info", "cloud uploads queued", { count: enqueued.length });
    return { finished: finished.length, enqueued, confirmed };
  }

  /**
   * Runs one queue message: true if it was an upload job (done, or dropped as no longer needed), false if it
   * is of another kind. Throws when the upload failed, so KV retries it.
   */
  async handle(message: unknown): Promise<boolean> {
    if (!isUploadMessage(message)) return false;
    await this.#limiter.run(() => this.#upload(message.path));
    return true;
  }

  /**
   * Listens to the KV queue with {@linkcode CloudSync.handle}; settles when the KV handle is closed. KV allows one
   * listener per handle: if other modules use the queue, call `handle` from a shared listener instead (messages
   * of other kinds are acknowledged here without effect).
   */
  listen(): Promise<void> {
    return this.#o.kv.listenQueue(async (message) => {
      await this.handle(message);
    });
  }

  async #upload(path: string): Promise<void> {
    const { files, rclone, root } = this.#o;
    const entry = files.get(path);
    if (entry === undefined) {
      // Compacted into another file, or cleaned up after an earlier sync: nothing left to upload.
      await this.state.dropQueued(path);
      this.#log("info", "cloud upload dropped: file no longer listed", { path });
      return;
    }
    const remote = remoteFile(root, path);
    try {
      if (isSynced(entry, await this.state.synced(path), root)) {
        this.#known.add(entry);
        await this.state.dropQueued(path);
      } else {
        await rclone.copyFile(join(this.#o.dataDir, path), remote);
        await rclone.check(remote, entry);
        const record: SyncedRecord = {
          path,
          sha256: entry.sha256,
          bytes: entry.bytes,
          rows: entry.rows,
          first_local_time: entry.first_local_time,
          last_local_time: entry.last_local_time,
          remote: root,
          atUs: this.#clockMs() * 1000,
        };
        await this.state.markSynced(record);
        this.#known.add(entry);
        this.#o.onSynced?.(record);
        this.#log("info", "cloud upload confirmed", { path, bytes: entry.bytes });
      }
      await this.#removeSuperseded(entry);
    } catch (err) {
      this.#alert({ kind: "sync", path, remote, error: String(err), atUs: this.#clockMs() * 1000 });
      throw err;
    }
  }

  /** Deletes the remote copies a synced compacted file replaces, then forgets them. */
  async #removeSuperseded(entry: ManifestEntry): Promise<void> {
    if (!entry.path.includes("/hour-")) return;
    const { files, rclone, root } = this.#o;
    const dir = entry.path.slice(0, entry.path.lastIndexOf("/"));
    const stale = supersededBy(
      entry,
      await this.state.syncedInDir(dir),
      root,
      (p) => files.get(p) !== undefined,
    );
    for (const path of stale) {
      await rclone.deleteFile(remoteFile(root, path));
      await this.state.forget(path);
      this.#log("info", "superseded remote copy deleted", { path, by: entry.path });
    }
  }

  #alert(alert: SyncAlert): void {
    this.#log("warn", "cloud upload failed", { path: alert.path, error: alert.error });
    try {
      this.#o.onAlert?.(alert);
    } catch (err) {
      this.#log("error", "sync alert callback threw", { error: String(err) });
    }
  }
}

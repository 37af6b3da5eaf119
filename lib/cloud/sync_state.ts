/**
 * The cloud sync's state in Deno KV (keys in keys.ts): which files are queued, uploaded and verified, or out of
 * retries, and the upload jobs themselves in KV's queue. A job and its `queued` marker are written in one
 * atomic operation that checks the versionstamps read just before, so enqueueing is idempotent even with two
 * enqueuers racing.
 * @module
 */

import { failedKey, queuedKey, syncedDirRange, syncedKey } from "./keys.ts";
import { listValues } from "../ledger/paced_list.ts";

/** A file uploaded and verified: what was uploaded (from its manifest entry), where, and when. */
export interface SyncedRecord {
  path: string;
  sha256: string;
  bytes: number;
  rows: number;
  first_local_time: string;
  last_local_time: string;
  /** The rclone root (`remote:path`) it was uploaded under. */
  remote: string;
  atUs: number;
}

/** An upload job is in the queue since `atUs`. */
export interface QueuedRecord {
  atUs: number;
}

/** The queue message of one upload job. */
export interface UploadMessage {
  kind: "cloud-upload";
  path: string;
}

/** What KV holds about one path, with the versionstamps read (for {@linkcode SyncState.enqueue}). */
export interface PathState {
  synced: SyncedRecord | null;
  queued: QueuedRecord | null;
  /** The job ran out of retries (KV wrote its `keysIfUndelivered` key). */
  failed: boolean;
  readonly stamps: readonly [synced: string | null, queued: string | null, failed: string | null];
}

/** Whether a queue message is an upload job of this module (the KV queue may carry other kinds). */
export function isUploadMessage(v: unknown): v is UploadMessage {
  return typeof v === "object" && v !== null && (v as UploadMessage).kind === "cloud-upload" &&
    typeof (v as UploadMessage).path === "string";
}

/** `kv.getMany` takes at most 10 keys; three per path. */
const PATHS_PER_READ = 3;

/**
 * The cloud sync's KV records.
 *
 * @example
 * ```ts
 * const kv = await Deno.openKv(":memory:");
 * const state = new SyncState(kv);
 * const path = "spot/trades/date=2024-01-02/hour-07-1704178800000000-0a1b2c3d.parquet";
 * const [s] = (await state.read([path])).values();
 * if (s && !s.synced) await state.enqueue(path, s, Date.now() * 1000, [60_000]); // true: queued
 * (await state.read([path])).get(path)?.queued !== null; // true
 * kv.close();
 * ```
 */
export class SyncState {
  constructor(readonly kv: Deno.Kv) {}

  /** The state of each path, in the order given. */
  async read(paths: readonly string[]): Promise<Map<string, PathState>> {
    const out = new Map<string, PathState>();
    for (let i = 0; i < paths.length; i += PATHS_PER_READ) {
      const chunk = paths.slice(i, i + PATHS_PER_READ);
      const got = await this.kv.getMany<unknown[]>(
        chunk.flatMap((p) => [syncedKey(p), queuedKey(p), failedKey(p)]),
      );
      chunk.forEach((p, j) => {
        const [s, q, f] = got.slice(3 * j, 3 * j + 3) as [
          Deno.KvEntryMaybe<SyncedRecord>,
          Deno.KvEntryMaybe<QueuedRecord>,
          Deno.KvEntryMaybe<UploadMessage>,
        ];
        out.set(p, {
          synced: s.value,
          queued: q.value,
          failed: f.versionstamp !== null,
          stamps: [s.versionstamp, q.versionstamp, f.versionstamp],
        });
      });
    }
    return out;
  }

  /** The synced record of a path, if any. */
  async synced(path: string): Promise<SyncedRecord | null> {
    return (await this.kv.get<SyncedRecord>(syncedKey(path))).value;
  }

  /** The synced records of one partition directory (`market/table/date=…`). */
  syncedInDir(dir: string): Promise<SyncedRecord[]> {
    return listValues<SyncedRecord>(this.kv, syncedDirRange(dir));
  }

  /**
   * Queues an upload job for `path` and marks it queued at `atUs` (clearing a `failed` marker), provided
   * nothing changed since `seen` was read; false (nothing written) if something did.
   */
  async enqueue(
    path: string,
    seen: PathState,
    atUs: number,
    backoffSchedule: readonly number[],
  ): Promise<boolean> {
    const message: UploadMessage = { kind: "cloud-upload", path };
    const [s, q, f] = seen.stamps;
    const res = await this.kv.atomic()
      .check({ key: syncedKey(path), versionstamp: s })
      .check({ key: queuedKey(path), versionstamp: q })
      .check({ key: failedKey(path), versionstamp: f })
      .set(queuedKey(path), { atUs } satisfies QueuedRecord)
      .delete(failedKey(path))
      .enqueue(message, { backoffSchedule: [...backoffSchedule], keysIfUndelivered: [failedKey(path)] })
      .commit();
    return res.ok;
  }

  /** Records a verified upload and clears the path's queued and failed markers, in one atomic write. */
  async markSynced(record: SyncedRecord): Promise<void> {
    await this.kv.atomic()
      .set(syncedKey(record.path), record)
      .delete(queuedKey(record.path))
      .delete(failedKey(record.path))
      .commit();
  }

  /** Clears the queued marker of a job that needs no upload. */
  async dropQueued(path: string): Promise<void> {
    await this.kv.delete(queuedKey(path));
  }

  /** Forgets a synced record (its remote copy was deleted). */
  async forget(path: string): Promise<void> {
    await this.kv.delete(syncedKey(path));
    this.onForget?.(path);
  }

  /** Called after {@linkcode forget} (the cloud sync then looks at the path's state again). */
  onForget?: (path: string) => void;
}

/**
 * Local cleanup: deletes Parquet files that are confirmed uploaded and older than `cleanup_days`, then drops
 * their entries from the file index.
 *
 * A file is deleted only if all hold: a remote is configured and `cleanup_days` > 0; its path is a Parquet file
 * of the layout or of the 0.3 layout (so never the journal or the manifest); its last row's `local_time` is more than `cleanup_days`
 * old; KV records it synced to this remote with the same sha256; and the remote still has it with that size
 * (and sha256, where the remote stores one). A synced file the remote lacks loses its synced record, so the
 * next sync run uploads it again.
 * @module
 */

import { dirname, join } from "node:path";
import { type Logger, silentLogger } from "../log.ts";
import { parseLegacyParquetPath, parseParquetPath } from "../storage/layout.ts";
import type { ManifestEntry } from "../storage/manifest.ts";
import type { FileIndex } from "./file_index.ts";
import { isSynced } from "./plan.ts";
import { type Rclone, remoteFile } from "./rclone.ts";
import { SyncState } from "./sync_state.ts";

const DAY_MS = 86_400_000;

/** When cleanup may delete anything at all. */
export interface CleanupPolicy {
  /** rclone root of the remote; `""` (no remote) deletes nothing. */
  root: string;
  /** `cleanup_days`; 0 deletes nothing. */
  cleanupDays: number;
}

/**
 * Whether cleanup may ever delete a local file under `policy`: a remote and `cleanup_days` above 0. Where it
 * never does, the collector seals uploaded settled days in its manifest instead (lib/app.ts).
 */
export function deletesFiles(policy: CleanupPolicy): boolean {
  return policy.root !== "" && policy.cleanupDays > 0;
}

/** Options of {@linkcode cleanupLocal}. */
export interface CleanupOptions extends CleanupPolicy {
  files: FileIndex;
  /** The ledger's KV handle (synced records). */
  kv: Deno.Kv;
  rclone: Rclone;
  dataDir: string;
  log?: Logger;
  /**
   * The cloud sync's state (`CloudSync.state`), so that a synced record this run forgets makes the sync look at
   * the file again. @default a state of its own on `kv`
   */
  state?: SyncState;
}

/** A file that was due for deletion but was kept. */
export class CleanupError extends Error {
  constructor(readonly path: string, message: string, options?: ErrorOptions) {
    super(`Cannot clean up ${path}: ${message}`, options);
    this.name = "CleanupError";
  }
}

/** What a cleanup run did. */
export interface CleanupReport {
  /** Paths deleted (and dropped from the index). */
  deleted: string[];
  errors: CleanupError[];
}

/**
 * The entries old enough to delete under `policy`, Parquet files of the layout only; whether they are synced
 * is checked by the caller. Pure.
 *
 * @example
 * ```ts
 * import type { ManifestEntry } from "../storage/manifest.ts";
 *
 * const entry: ManifestEntry = {
 *   path: "spot/trades/date=2024-01-02/hour-07-1704178800000000-0a1b2c3d.parquet",
 *   sha256: "0".repeat(64), rows: 10, bytes: 4, market: "spot", table: "trades",
 *   first_local_time: "2024-01-02T07:00:00.000000Z", last_local_time: "2024-01-02T07:59:59.000000Z",
 * };
 *
 * const policy = { root: "gdrive:binance-data", cleanupDays: 7 };
 * expiredFiles([entry], policy, Date.UTC(2024, 0, 5)).length; // 0: not a week old yet
 * expiredFiles([entry], policy, Date.UTC(2024, 0, 10)).length; // 1
 * expiredFiles([entry], { ...policy, root: "" }, Date.UTC(2024, 0, 10)).length; // 0: no remote, no cleanup
 * ```
 */
export function expiredFiles(
  entries: readonly ManifestEntry[],
  policy: CleanupPolicy,
  nowMs: number,
): ManifestEntry[] {
  if (!deletesFiles(policy)) return [];
  const cutoffMs = nowMs - policy.cleanupDays * DAY_MS;
  return entries.filter((e) =>
    (parseParquetPath(e.path) ?? parseLegacyParquetPath(e.path)) !== null &&
    Date.parse(e.last_local_time) < cutoffMs
  );
}

/**
 * Deletes the files that are synced and expired (see the module doc). A file that cannot be confirmed or
 * deleted is kept and reported; the others go on.
 *
 * @example
 * ```ts
 * import { Manifest } from "../storage/manifest.ts";
 * import { manifestIndex } from "./file_index.ts";
 * import { Rclone, remoteRoot } from "./rclone.ts";
 *
 * const dataDir = await Deno.makeTempDir();
 * const manifest = await Manifest.load(dataDir);
 * const kv = await Deno.openKv(":memory:");
 * const report = await cleanupLocal({
 *   files: manifestIndex(manifest),
 *   kv, // the ledger's KV handle: which files are confirmed uploaded
 *   rclone: new Rclone(),
 *   dataDir,
 *   root: remoteRoot("gdrive", "binance-data"),
 *   cleanupDays: 7,
 * }, Date.now());
 * report.deleted; // [] (nothing here was uploaded)
 * kv.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function cleanupLocal(options: CleanupOptions, nowMs: number): Promise<CleanupReport> {
  const { files, rclone, dataDir, root, log = silentLogger } = options;
  const report: CleanupReport = { deleted: [], errors: [] };
  const expired = expiredFiles(files.entries(), options, nowMs);
  if (expired.length === 0) return report;
  const state = options.state ?? new SyncState(options.kv);
  const states = await state.read(expired.map((e) => e.path));
  for (const entry of expired) {
    if (!isSynced(entry, states.get(entry.path)!.synced, root)) continue;
    try {
      const remote = await rclone.stat(remoteFile(root, entry.path));
      if (
        remote === null || remote.size !== entry.bytes || (remote.sha256 ?? entry.sha256) !== entry.sha256
      ) {
        await state.forget(entry.path);
        throw new CleanupError(
          entry.path,
          "the remote copy is missing or differs; it will be uploaded again",
        );
      }
      await removeIfPresent(join(dataDir, entry.path));
      report.deleted.push(entry.path);
    } catch (err) {
      report.errors.push(
        err instanceof CleanupError ? err : new CleanupError(entry.path, String(err), { cause: err }),
      );
    }
  }
  await files.remove(report.deleted);
  await removeEmptyPartitions(dataDir, report.deleted);
  if (report.deleted.length > 0) log("info", "local files cleaned up", { count: report.deleted.length });
  return report;
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/**
 * Removes the `date=` directories the deletions emptied (and the `symbol=` ones of 0.3-layout files); a
 * non-empty one stays.
 */
async function removeEmptyPartitions(dataDir: string, deleted: readonly string[]): Promise<void> {
  const legacy = deleted.filter((p) => parseLegacyParquetPath(p) !== null).map((p) => dirname(p));
  const dateDirs = new Set(deleted.map((p) => dirname(parseLegacyParquetPath(p) !== null ? dirname(p) : p)));
  for (const dir of [...new Set(legacy), ...dateDirs]) {
    try {
      await Deno.remove(join(dataDir, dir));
    } catch {
      // Not empty (or already gone): nothing to tidy.
    }
  }
}

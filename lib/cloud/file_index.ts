/**
 * The list of finished local files as the cloud sync sees it. The live manifest (and the ledger's mirror of it)
 * belong to the storage layer; the sync reads through this interface and cleanup removes entries through it.
 * @module
 */

import type { Manifest, ManifestEntry } from "../storage/manifest.ts";

/** The finished local files: read by the sync, shrunk by cleanup. */
export interface FileIndex {
  /** Every entry. */
  entries(): readonly ManifestEntry[];
  /** The entry for a relative path, if any. */
  get(path: string): ManifestEntry | undefined;
  /** Forgets files whose local copies were deleted. */
  remove(paths: readonly string[]): Promise<void>;
}

/** The ledger's file list (the `Ledger` fits). */
export interface FileLedger {
  removeFiles(paths: readonly string[]): Promise<void>;
}

/**
 * A {@linkcode FileIndex} over the live manifest (which must be the instance the table store saves, or one save
 * would undo the other), keeping the ledger's file list in step when given.
 *
 * @example
 * ```ts
 * import { Manifest } from "../storage/manifest.ts";
 *
 * const dataDir = await Deno.makeTempDir();
 * const manifest = await Manifest.load(dataDir);
 * const path = "spot/trades/date=2024-01-02/hour-07-1704178800000000-0a1b2c3d.parquet";
 * manifest.add({
 *   path, sha256: "0".repeat(64), rows: 10, bytes: 4, market: "spot", table: "trades",
 *   first_local_time: "2024-01-02T07:00:00.000000Z", last_local_time: "2024-01-02T07:59:59.000000Z",
 * });
 * const files = manifestIndex(manifest); // the collector passes the ledger too
 * await files.remove([path]); // and the manifest is saved
 * files.entries().length; // 0
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export function manifestIndex(manifest: Manifest, ledger?: FileLedger): FileIndex {
  return {
    entries: () => manifest.entries(),
    get: (path) => manifest.get(path),
    async remove(paths) {
      if (paths.length === 0) return;
      for (const p of paths) manifest.remove(p);
      await manifest.save();
      await ledger?.removeFiles(paths);
    },
  };
}

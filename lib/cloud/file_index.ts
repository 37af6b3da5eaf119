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
 * const files = manifestIndex(manifest, ledger);
 * await files.remove(["spot/trades/date=2024-01-02/hour-07-1704178800000000-0a1b2c3d.parquet"]);
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

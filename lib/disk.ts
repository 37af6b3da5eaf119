/**
 * Free space of the filesystem holding a directory (`statfs` from node:fs, which Deno implements), and the
 * thresholds that turn it into a level: below `disk_low_mb` an alert, below `disk_min_mb` no writing.
 * @module
 */

import { statfs } from "node:fs/promises";
import { dirname, resolve } from "node:path";

/** Space of one filesystem, bytes. */
export interface DiskSpace {
  /** Available to this (unprivileged) process: `bavail`, not `bfree`. */
  freeBytes: number;
  totalBytes: number;
}

/** One MiB: `disk_low_mb` and `disk_min_mb` count in these. */
export const MIB = 1024 * 1024;

/**
 * Space of the filesystem holding `dir`. A directory that does not exist yet (first start) is measured at its
 * nearest existing parent, where it will be created.
 *
 * @example
 * ```ts
 * const { freeBytes } = await diskSpace("data"); // measured at "." while ./data does not exist yet
 * freeBytes > 0; // true
 * ```
 */
export async function diskSpace(dir: string): Promise<DiskSpace> {
  let path = resolve(dir);
  for (;;) {
    try {
      const s = await statfs(path);
      return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
    } catch (err) {
      const parent = dirname(path);
      if ((err as { code?: string }).code !== "ENOENT" || parent === path) throw err;
      path = parent;
    }
  }
}

/** Where free space stands against the thresholds. */
export type DiskLevel = "ok" | "low" | "belowMinimum";

/**
 * The level of `freeBytes` for the thresholds in MiB.
 *
 * @example
 * ```ts
 * diskLevel(100 * MIB, 5120, 512); // "belowMinimum"
 * ```
 */
export function diskLevel(freeBytes: number, lowMb: number, minMb: number): DiskLevel {
  if (freeBytes < minMb * MIB) return "belowMinimum";
  return freeBytes < lowMb * MIB ? "low" : "ok";
}

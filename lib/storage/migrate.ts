/**
 * Migration of a data dir from the 0.3 layout (`{market}/{table}/date=…/symbol=SYMBOL/{file}`, one symbol per
 * file) to the current one (`{market}/{table}/date=…/{file}`, every symbol in a file, sorted by symbol): the
 * files of each (market, table, UTC hour) are merged into one `hour-HH-…` file through the compaction's
 * crash-safe steps (compact.ts), so a run killed at any point leaves every row listed exactly once, and the
 * next run finishes what it started. A run with nothing left to migrate changes nothing.
 * @module
 */

import { dirname, join } from "node:path";
import type { Logger } from "../log.ts";
import { CompactionError, type CompactionGroup, type CompactOptions, Compactor } from "./compact.ts";
import { fileStartUs, hourStartUs, parseLegacyParquetPath, partitionDir } from "./layout.ts";
import type { ManifestEntry } from "./manifest.ts";

/** What a migration run did. */
export interface MigrationReport {
  /** Hours (of a market and table) merged into a file of the current layout. */
  merged: number;
  /** 0.3 files replaced. */
  files: number;
  rows: number;
  /** Whether a merge an earlier run left unfinished was completed (or dropped) first. */
  resumed: boolean;
  /** Groups that failed (left as they were); the run goes on with the others. */
  errors: CompactionError[];
}

/**
 * The 0.3-layout files of `entries` grouped by (market, table, UTC date and hour), each group's files in time
 * order: one group becomes one file of the current layout. Pure.
 */
export function planMigration(entries: readonly ManifestEntry[]): CompactionGroup[] {
  const groups = new Map<string, CompactionGroup>();
  for (const entry of entries) {
    const legacy = parseLegacyParquetPath(entry.path);
    const start = legacy === null ? null : fileStartUs(legacy.file);
    if (legacy === null || start === null) continue;
    const dir = partitionDir(legacy.market, legacy.table, legacy.date);
    const hour = hourStartUs(start);
    const key = `${dir}\u0000${hour}`;
    let group = groups.get(key);
    if (!group) groups.set(key, group = { dir, hourStartUs: hour, sources: [] });
    group.sources.push(entry);
  }
  const start = (e: ManifestEntry) => fileStartUs(e.path.slice(e.path.lastIndexOf("/") + 1))!;
  const out = [...groups.values()];
  for (const g of out) g.sources.sort((a, b) => start(a) - start(b) || (a.path < b.path ? -1 : 1));
  return out.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : a.hourStartUs - b.hourStartUs));
}

/** Removes the directories of `paths` (and their parents up to `data_dir`) that are empty now. */
async function removeEmptyDirs(dataDir: string, paths: readonly string[]): Promise<void> {
  const dirs = new Set(paths.map((p) => dirname(p)));
  for (const dir of [...dirs].sort().reverse()) {
    try {
      await Deno.remove(join(dataDir, dir));
    } catch {
      // Not empty (or gone already): nothing to tidy.
    }
  }
}

/**
 * Migrates every 0.3-layout file listed in `options.manifest` (and the ledger, when given; see
 * {@link CompactOptions}), group by group, finishing first a merge an earlier run left unfinished.
 *
 * @example
 * ```ts
 * import { Ledger } from "../ledger/ledger.ts";
 * import { Manifest } from "./manifest.ts";
 *
 * const dataDir = await Deno.makeTempDir();
 * const ledger = new Ledger(await Deno.openKv(":memory:")); // `deno task migrate` opens the data_dir's ledger
 * const manifest = await Manifest.load(dataDir);
 * const report = await migrateLayout({ manifest, ledger, saveManifest: false });
 * report.files; // 0: no 0.3 files (symbol= directories) here
 * await ledger.mirrorManifest(dataDir);
 * ledger.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function migrateLayout(options: CompactOptions & { log?: Logger }): Promise<MigrationReport> {
  const compactor = new Compactor(options);
  const report: MigrationReport = {
    merged: 0,
    files: 0,
    rows: 0,
    resumed: await compactor.finishPending(),
    errors: [],
  };
  const moved: string[] = [];
  for (const group of planMigration(options.manifest.entries())) {
    try {
      const { target, sources } = await compactor.compact(group);
      report.merged++;
      report.files += sources.length;
      report.rows += target.rows;
      moved.push(...sources);
      options.log?.("info", "migrated", { target: target.path, files: sources.length, rows: target.rows });
    } catch (err) {
      report.errors.push(
        err instanceof CompactionError ? err : new CompactionError(group.dir, String(err), { cause: err }),
      );
      // An intent left behind must be finished before another merge starts (the next run does it).
      if (await compactor.hasPending()) break;
    }
  }
  await removeEmptyDirs(options.manifest.dataDir, moved);
  return report;
}

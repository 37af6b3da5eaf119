/**
 * Which files the cloud sync uploads and which remote copies a compaction made redundant. Pure: entries,
 * state and times in, decisions out.
 *
 * A file is finished when nothing will change or replace it: it is the only file of its (partition, UTC hour)
 * and the hour ended `graceUs` ago (compaction merges only hours with several files, so a lone file stays), or
 * the hour ended `stuckUs` ago whatever the count (compaction of that hour keeps failing; upload what exists).
 * A late part file can still make compaction merge an uploaded `hour-` file into a new one; the new one then
 * covers the old one's rows, which is what {@linkcode supersededBy} recognises.
 * @module
 */

import { forEachPaced, nextTurn } from "../loop_lag.ts";
import { fileStartUs, hourStartUs } from "../storage/layout.ts";
import type { ManifestEntry } from "../storage/manifest.ts";
import type { PathState, SyncedRecord } from "./sync_state.ts";
import { HOUR_US } from "../ledger/intervals.ts";

/** Timing of {@linkcode finishedFiles}, µs. */
export interface FinishTiming {
  /** After an hour's end before its lone file counts as finished; must exceed flush + compaction delays. */
  graceUs: number;
  /** After an hour's end before its files are uploaded even though compaction has not merged them. */
  stuckUs: number;
}

function splitPath(path: string): { dir: string; name: string } {
  const slash = path.lastIndexOf("/");
  return { dir: path.slice(0, slash), name: path.slice(slash + 1) };
}

/** Start of the UTC hour of a layout file (`part-` or `hour-` name); null for any other name. */
function fileHourUs(path: string): number | null {
  const start = fileStartUs(splitPath(path).name);
  return start === null ? null : hourStartUs(start);
}

/**
 * The finished entries (see the module doc), in input order; files with names outside the layout are never
 * finished.
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
 * const timing = { graceUs: 15 * 60e6, stuckUs: 3 * 3600e6 };
 * finishedFiles([entry], Date.UTC(2024, 0, 2, 8, 5) * 1000, timing).length; // 0: the hour ended 5 min ago
 * finishedFiles([entry], Date.UTC(2024, 0, 2, 8, 20) * 1000, timing).length; // 1
 * ```
 */
export function finishedFiles(
  entries: readonly ManifestEntry[],
  nowUs: number,
  timing: FinishTiming,
): ManifestEntry[] {
  const finder = new FinishedFinder(nowUs, timing);
  for (const e of entries) finder.count(e);
  return entries.filter((e) => finder.finished(e));
}

/**
 * {@linkcode finishedFiles} a slice of entries per event-loop turn: a sync run looks at every file recorded,
 * and a year of a whole market's files (175,200) took 161–357 ms in one block.
 */
export async function finishedFilesPaced(
  entries: readonly ManifestEntry[],
  nowUs: number,
  timing: FinishTiming,
  slice = 2048,
): Promise<ManifestEntry[]> {
  const finder = new FinishedFinder(nowUs, timing);
  await forEachPaced(entries, slice, (e) => finder.count(e));
  const out: ManifestEntry[] = [];
  await nextTurn();
  await forEachPaced(entries, slice, (e) => {
    if (finder.finished(e)) out.push(e);
  });
  return out;
}

/**
 * Counts the files of each (partition, hour) that ended less than `stuckUs` ago, then tells which entries are
 * finished. Older hours are finished whatever their count, so they are not counted: after a restart a run looks
 * at every file ever recorded, and a count (and its key) per hour of a year is ~50 MiB held for the run.
 */
class FinishedFinder {
  readonly #perHour = new Map<string, number>();

  constructor(private readonly nowUs: number, private readonly timing: FinishTiming) {}

  count(e: ManifestEntry): void {
    const hour = fileHourUs(e.path);
    if (hour === null || this.#endedUs(hour) >= this.timing.stuckUs) return;
    const group = hourGroup(e.path, hour);
    this.#perHour.set(group, (this.#perHour.get(group) ?? 0) + 1);
  }

  finished(e: ManifestEntry): boolean {
    const hour = fileHourUs(e.path);
    if (hour === null) return false;
    const endedUs = this.#endedUs(hour);
    return endedUs >= this.timing.stuckUs ||
      (endedUs >= this.timing.graceUs && this.#perHour.get(hourGroup(e.path, hour)) === 1);
  }

  #endedUs(hourUs: number): number {
    return this.nowUs - (hourUs + HOUR_US);
  }
}

function hourGroup(path: string, hourUs: number): string {
  return `${splitPath(path).dir}\u0000${hourUs}`;
}

/** Whether `record` confirms that this very entry (same bytes) is on the remote `root`. */
export function isSynced(entry: ManifestEntry, record: SyncedRecord | null, root: string): boolean {
  return record !== null && record.sha256 === entry.sha256 && record.bytes === entry.bytes &&
    record.remote === root;
}

/**
 * Whether a finished entry needs an upload job now: it is not synced to `root` in its current form, and no job
 * is queued for it, unless that job ran out of retries or was queued `requeueAfterUs` ago (a job is idempotent,
 * so a duplicate is harmless while a lost one would stall the file forever).
 */
export function needsUpload(
  entry: ManifestEntry,
  state: PathState,
  root: string,
  nowUs: number,
  requeueAfterUs: number,
): boolean {
  if (isSynced(entry, state.synced, root)) return false;
  return state.queued === null || state.failed || nowUs - state.queued.atUs >= requeueAfterUs;
}

/**
 * The remote copies that the just-synced `replacement` makes redundant: synced to the same `root`, in the same
 * partition and hour, gone from the local index (compaction removed them), with a time range and row count
 * inside the replacement's. Only a compacted (`hour-`) file replaces anything.
 */
export function supersededBy(
  replacement: ManifestEntry,
  synced: readonly SyncedRecord[],
  root: string,
  inIndex: (path: string) => boolean,
): string[] {
  const { dir, name } = splitPath(replacement.path);
  const hour = fileHourUs(replacement.path);
  if (!name.startsWith("hour-") || hour === null) return [];
  return synced.filter((r) =>
    r.path !== replacement.path && r.remote === root && splitPath(r.path).dir === dir &&
    fileHourUs(r.path) === hour && !inIndex(r.path) &&
    // Same fixed-width ISO format, so text order is time order.
    r.first_local_time >= replacement.first_local_time && r.last_local_time <= replacement.last_local_time &&
    r.rows <= replacement.rows
  ).map((r) => r.path);
}

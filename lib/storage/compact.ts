/**
 * Hourly compaction: the part files of a finished UTC hour of one (market, table) are merged into one file
 * sorted by symbol (hour_merge.ts), so that after compaction each (market, table, hour) has one file whatever
 * the number of symbols (output contract).
 *
 * Crash safety rests on an intent record, `{data_dir}/_manifest/compaction-pending.json`, and on this order:
 * 1. the intent (target path + source paths) is written atomically;
 * 2. the merged file is written atomically (temp file, fsync, rename), then the intent again, now with the
 *    target's entry (checksum, size, rows);
 * 3. the manifest gains the target and loses the sources, in one atomic save (then the ledger, if any);
 * 4. the source files are deleted; 5. the intent is deleted.
 * The next run finishes a pending intent before anything else: if the target exists and the intent has its
 * entry, steps 3–5 are repeated (each is idempotent, and they also undo a start-up reconcile that re-listed
 * surviving sources beside the target); otherwise no source was touched, and the target (listed nowhere) and
 * the intent are dropped. So the merged rows are never listed twice once a run has passed, and no row is
 * deleted before its copy is listed.
 *
 * The merge reads and writes in a bounded window of rows and runs where `jobs` says (in the app, a child
 * process per merge, merge_process.ts, so a merge never stalls the collector's thread nor stays in its memory). The migration from the 0.3
 * layout (migrate.ts) merges through the same steps. The manifest must be the same instance the live collector
 * updates, or one save would undo the other.
 * @module
 */

import { join } from "node:path";
import type { Logger } from "../log.ts";
import { forEachPaced } from "../loop_lag.ts";
import { pathExists, syncDir, writeFileAtomic } from "./atomic_file.ts";
import { compactedFileName, fileShard, fileStartUs, hourStartUs, parseParquetPath } from "./layout.ts";
import { type Manifest, type ManifestEntry, sha256Hex } from "./manifest.ts";
import { inlineJobs, type ParquetJobs } from "./parquet_jobs.ts";
import { HOUR_US } from "../ledger/intervals.ts";

/** Default time after an hour's end before its files are merged; must exceed the flush interval. */
export const DEFAULT_COMPACT_GRACE_MS = 10 * 60_000;

/** The ledger's file list, kept in step with the manifest when given. */
export interface FileLedger {
  addFiles(entries: ManifestEntry[]): Promise<void>;
  removeFiles(paths: string[]): Promise<void>;
}

/** Options of {@linkcode compactFinishedHours}. */
export interface CompactOptions {
  /** The manifest shared with the live table store; its `dataDir` is where the files are. */
  manifest: Manifest;
  /** @default {600000} (10 min) */
  graceMs?: number;
  ledger?: FileLedger;
  log?: Logger;
  /** Where the merges run. @default inlineJobs (the calling thread) */
  jobs?: ParquetJobs;
  /**
   * Save the manifest at every merge (it is the authority where there is no ledger), or not at all (the caller
   * mirrors it). By default: at every merge without a ledger; with one, once at the end of a
   * {@linkcode compactFinishedHours} run that changed it (a year of files is tens of MiB of manifest).
   */
  saveManifest?: boolean;
}

/** One (partition, hour) whose files are to be merged. */
export interface CompactionGroup {
  /** Directory of the merged file, relative to `data_dir`: `market/table/date=…`. */
  dir: string;
  hourStartUs: number;
  /** The files, in time order (start time in the name, then name). */
  sources: ManifestEntry[];
}

/** One merge that was completed. */
export interface Compaction {
  target: ManifestEntry;
  sources: string[];
}

/** What a run did; groups that failed are in `errors` and left untouched for the next run. */
export interface CompactionReport {
  compacted: Compaction[];
  /** Whether a merge interrupted by a crash was finished first. */
  resumed: boolean;
  errors: CompactionError[];
}

/** A group could not be merged safely (a source differs from its manifest entry, schemas differ...). */
export class CompactionError extends Error {
  constructor(readonly dir: string, message: string, options?: ErrorOptions) {
    super(`Cannot compact ${dir}: ${message}`, options);
    this.name = "CompactionError";
  }
}

interface PendingCompaction {
  version: 1;
  target: ManifestEntry;
  sources: string[];
}

function splitPath(path: string): { dir: string; name: string } {
  const slash = path.lastIndexOf("/");
  return { dir: path.slice(0, slash), name: path.slice(slash + 1) };
}

/** Groups entries by (partition, hour, shard) as {@link planCompaction} does, an entry at a time. */
class CompactionPlanner {
  readonly #groups = new Map<string, CompactionGroup & { starts: Map<ManifestEntry, number> }>();

  constructor(readonly nowUs: number, readonly graceUs: number) {}

  add(entry: ManifestEntry): void {
    if (parseParquetPath(entry.path) === null) return;
    const { dir, name } = splitPath(entry.path);
    const start = fileStartUs(name);
    if (start === null) return;
    const hour = hourStartUs(start);
    if (hour + HOUR_US + this.graceUs > this.nowUs) return;
    const key = `${dir}\u0000${hour}\u0000${fileShard(name)}`;
    let group = this.#groups.get(key);
    if (!group) this.#groups.set(key, group = { dir, hourStartUs: hour, sources: [], starts: new Map() });
    group.sources.push(entry);
    group.starts.set(entry, start);
  }

  groups(): CompactionGroup[] {
    const out: CompactionGroup[] = [];
    for (const { dir, hourStartUs, sources, starts } of this.#groups.values()) {
      if (sources.length < 2) continue;
      sources.sort((a, b) =>
        starts.get(a)! - starts.get(b)! || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
      );
      out.push({ dir, hourStartUs, sources });
    }
    return out.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : a.hourStartUs - b.hourStartUs));
  }
}

/**
 * The (partition, hour) groups with more than one file whose hour ended at least `graceUs` before `nowUs`.
 * Pure; files with names of another pattern, or outside the layout (the 0.3 `symbol=` directories, which the
 * migration merges), are left alone.
 */
export function planCompaction(
  entries: readonly ManifestEntry[],
  nowUs: number,
  graceUs: number,
): CompactionGroup[] {
  const planner = new CompactionPlanner(nowUs, graceUs);
  for (const entry of entries) planner.add(entry);
  return planner.groups();
}

/**
 * Entries planned per event-loop turn: every file recorded is looked at each hour, and a year of a whole
 * market's files (175,200) took 0.37–0.51 s in one block.
 */
const PLAN_SLICE = 1024;

/** {@link planCompaction} of the manifest's entries, a slice per event-loop turn (it runs in the collector). */
async function planManifest(manifest: Manifest, nowUs: number, graceUs: number): Promise<CompactionGroup[]> {
  const planner = new CompactionPlanner(nowUs, graceUs);
  await forEachPaced(manifest.entries(), PLAN_SLICE, (entry) => planner.add(entry));
  return planner.groups();
}

function pendingPath(dataDir: string): string {
  return join(dataDir, "_manifest", "compaction-pending.json");
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/**
 * Merges the finished hours' part files (see the module doc for the crash-safe order). Groups are merged one at a
 * time; a group that fails before its intent is recorded is reported and left as it was, and the run goes on;
 * one that fails after it ends the run, and the next run finishes it first.
 *
 * @example
 * ```ts
 * import { TableStore } from "../pipeline/table_store.ts";
 * import { Manifest } from "./manifest.ts";
 * import type { Row } from "./tables.ts";
 *
 * // Two flushes of the 07:00 UTC hour: two part files.
 * const dataDir = await Deno.makeTempDir();
 * const manifest = await Manifest.load(dataDir);
 * const store = new TableStore(dataDir, { manifest });
 * const hourUs = Date.UTC(2024, 0, 2, 7) * 1000;
 * const trade = (symbol: string, id: number): Row<"trades"> => ({
 *   symbol, exchange_time: null, trade_time: hourUs + id, local_time: hourUs + id, agg_trade_id: id,
 *   first_trade_id: id, last_trade_id: id, price: 100, quantity: 1, is_buyer_maker: false, source: "ws",
 * });
 * for (const [id, symbol] of [[1, "ETHUSDT"], [2, "BTCUSDT"]] as const) {
 *   store.row("spot", "trades", symbol, hourUs + id, trade(symbol, id));
 *   await store.flush();
 * }
 *
 * const report = await compactFinishedHours({ manifest }, Date.UTC(2024, 0, 2, 9)); // an hour after the hour
 * report.compacted[0]!.sources.length; // 2
 * manifest.entries().map((e) => e.path.split("/").at(-1)!.slice(0, 8)); // ["hour-07-"]: one file, by symbol
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function compactFinishedHours(
  options: CompactOptions,
  nowMs: number,
): Promise<CompactionReport> {
  // With a ledger (the authority) and no say from the caller, the mirror is saved once for the run.
  const onceAtEnd = options.saveManifest === undefined && options.ledger !== undefined;
  const compactor = new Compactor({ ...options, saveManifest: options.saveManifest ?? !onceAtEnd });
  const resumed = await compactor.finishPending();
  const graceUs = (options.graceMs ?? DEFAULT_COMPACT_GRACE_MS) * 1000;
  const report: CompactionReport = { compacted: [], resumed, errors: [] };
  for (const group of await planManifest(options.manifest, nowMs * 1000, graceUs)) {
    try {
      report.compacted.push(await compactor.compact(group));
    } catch (err) {
      report.errors.push(
        err instanceof CompactionError ? err : new CompactionError(group.dir, String(err), { cause: err }),
      );
      // A merge that failed after recording its intent must be finished before any other starts, or the
      // next intent would overwrite it.
      if (await compactor.hasPending()) break;
    }
  }
  if (onceAtEnd && (resumed || report.compacted.length > 0)) await options.manifest.save();
  return report;
}

/** Merges groups of files through the crash-safe steps of the module doc (compaction and migration). */
export class Compactor {
  readonly #manifest: Manifest;
  readonly #dataDir: string;
  readonly #ledger: FileLedger | undefined;
  readonly #log: Logger | undefined;
  readonly #jobs: ParquetJobs;
  readonly #saveManifest: boolean;

  constructor(options: CompactOptions) {
    this.#manifest = options.manifest;
    this.#dataDir = options.manifest.dataDir;
    this.#ledger = options.ledger;
    this.#log = options.log;
    this.#jobs = options.jobs ?? inlineJobs;
    this.#saveManifest = options.saveManifest ?? true;
    if (!this.#saveManifest && !this.#ledger) {
      throw new TypeError(
        "Cannot compact without saving the manifest: there is no ledger to record the files",
      );
    }
  }

  /** Whether an intent is recorded. */
  hasPending(): Promise<boolean> {
    return pathExists(pendingPath(this.#dataDir));
  }

  /** Completes (or drops) a merge a crash interrupted; true if one was completed. */
  async finishPending(): Promise<boolean> {
    let text: string;
    try {
      text = await Deno.readTextFile(pendingPath(this.#dataDir));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return false;
      throw err;
    }
    const pending = JSON.parse(text) as PendingCompaction;
    const done = await this.#commit(pending);
    this.#log?.("info", done ? "finished an interrupted compaction" : "dropped an unstarted compaction", {
      target: pending.target.path,
    });
    return done;
  }

  /** Merges one group into `{group.dir}/hour-HH-…` and returns what replaced what. */
  async compact(group: CompactionGroup): Promise<Compaction> {
    const sources = group.sources.map((s) => s.path);
    const tag = (await sha256Hex(new TextEncoder().encode(sources.join("\n")))).slice(0, 8);
    const firstUs = fileStartUs(splitPath(sources[0]!).name)!;
    // Each collector compacts its own files: the sources share a shard (none without shards).
    const path = `${group.dir}/${compactedFileName(firstUs, tag, fileShard(splitPath(sources[0]!).name))}`;
    if (sources.includes(path)) throw new CompactionError(group.dir, `target ${path} is one of its sources`);
    const first = group.sources[0]!;
    if (group.sources.some((s) => s.market !== first.market || s.table !== first.table)) {
      throw new CompactionError(group.dir, "its files belong to different tables");
    }
    // The intent names the target before the merge starts; its checksum is not known yet (""), and a crash
    // before the second intent below leaves a target that is dropped and merged again (see #commit).
    const planned: PendingCompaction = { version: 1, target: { ...first, path, sha256: "" }, sources };
    await writeFileAtomic(
      pendingPath(this.#dataDir),
      new TextEncoder().encode(JSON.stringify(planned) + "\n"),
    );
    let merged;
    try {
      merged = await this.#jobs.merge({
        table: first.table,
        sources: group.sources.map((s) => ({
          path: join(this.#dataDir, s.path),
          bytes: s.bytes,
          sha256: s.sha256,
          rows: s.rows,
        })),
        target: join(this.#dataDir, path),
      });
    } catch (err) {
      // Nothing was written (the merge removes its temp file): the intent is dropped and the group left alone.
      await removeIfPresent(pendingPath(this.#dataDir));
      const why = err instanceof Error ? err.message : String(err);
      throw new CompactionError(group.dir, why.replace(`${this.#dataDir}/`, ""), { cause: err });
    }
    const target: ManifestEntry = {
      path,
      sha256: merged.sha256,
      rows: merged.rows,
      bytes: merged.bytes,
      first_local_time: group.sources.map((s) => s.first_local_time).reduce((a, b) => (b < a ? b : a)),
      last_local_time: group.sources.map((s) => s.last_local_time).reduce((a, b) => (b > a ? b : a)),
      market: first.market,
      table: first.table,
    };
    const pending: PendingCompaction = { version: 1, target, sources };
    await writeFileAtomic(
      pendingPath(this.#dataDir),
      new TextEncoder().encode(JSON.stringify(pending) + "\n"),
    );
    await this.#commit(pending);
    this.#log?.("info", "compacted", { target: path, sources: sources.length, rows: target.rows });
    return { target, sources };
  }

  /** Steps 3–5 of the module doc; false (and the intent dropped) if the target was never written. */
  async #commit({ target, sources }: PendingCompaction): Promise<boolean> {
    const targetPath = join(this.#dataDir, target.path);
    let size: number | null = null;
    try {
      size = (await Deno.stat(targetPath)).size;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    if (size === null || target.sha256 === "") {
      // Not merged yet, or merged but never described: no source was touched. The target goes (a start-up
      // reconcile may have listed it: unlisted too), and the group is merged again by a later run.
      if (size !== null && this.#manifest.remove(target.path)) {
        if (this.#saveManifest) await this.#manifest.save();
        await this.#ledger?.removeFiles([target.path]);
      }
      await removeIfPresent(targetPath);
      await removeIfPresent(pendingPath(this.#dataDir));
      return false;
    }
    if (size !== target.bytes) {
      // The intent is kept: the sources stay until someone looks at why the target differs.
      throw new CompactionError(
        splitPath(target.path).dir,
        `${target.path} is ${size} bytes, expected ${target.bytes}`,
      );
    }
    this.#manifest.add(target);
    for (const s of sources) this.#manifest.remove(s);
    if (this.#saveManifest) await this.#manifest.save();
    await this.#ledger?.addFiles([target]);
    await this.#ledger?.removeFiles(sources);
    for (const s of sources) await removeIfPresent(join(this.#dataDir, s));
    await syncDir(join(this.#dataDir, splitPath(target.path).dir));
    await removeIfPresent(pendingPath(this.#dataDir));
    return true;
  }
}

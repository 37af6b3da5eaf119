/**
 * The ledger in Deno KV: gaps, coverage, the file manifest, flush statistics, the journal checkpoint and
 * clock offsets. The KV handle is passed in (tests use `Deno.openKv(":memory:")`); key layout and value sizes
 * are documented in keys.ts.
 *
 * Every write is one `kv.atomic()`. Writes that read first check the versionstamps they read and retry a few
 * times on a conflict, then throw `LedgerConflictError` (conflicts.ts).
 *
 * The class does the reading and writing; what it can leave to others lives beside it: gap bookkeeping in
 * gaps.ts, the cached coverage writes in coverage_writer.ts, coverage arithmetic in coverage.ts, value checks
 * in records.ts.
 * @module
 */

import { type Market, MARKETS } from "../binance/types.ts";
import type { JournalPosition } from "../storage/journal_format.ts";
import { Manifest, type ManifestEntry } from "../storage/manifest.ts";
import type { ManifestOptions } from "../storage/sealed_dirs.ts";
import { estimateCost, splitBatches } from "./batches.ts";
import { updateChecked } from "./conflicts.ts";
import { type CoverageEntry, coverageRowsOf } from "./coverage.ts";
import { type CoverageItem, CoverageWriter } from "./coverage_writer.ts";
import {
  compareGaps,
  gapDays,
  gapKeyOf,
  gapMatches,
  GapNotFoundError,
  gapScanPrefixes,
  MAX_GAP_DAYS,
  setGap,
} from "./gaps.ts";
import { DAY_US, utcDayStartUs } from "./intervals.ts";
import {
  CHECKPOINT_KEY,
  clockKey,
  clockRange,
  coverageRange,
  fileDateRange,
  fileDirRange,
  fileKey,
  FILES,
  flushKey,
  flushRange,
  type GapKey,
  gapKey,
  parseCoverageKey,
} from "./keys.ts";
import {
  capText,
  checkClockSample,
  checkCount,
  checkFlushStat,
  checkGapRow,
  checkMarket,
  checkNextPosition,
  type Checkpoint,
  type ClockSample,
  compareText as cmp,
  type CoverageRow,
  type CoverageSample,
  type CoverageValue,
  type FlushStat,
  type GapFilter,
  type GapRecord,
  manifestFields,
} from "./records.ts";
import { type Row, TABLE_NAMES } from "../storage/tables.ts";
import { nextTurn } from "../loop_lag.ts";
import { listPaced, listValues } from "./paced_list.ts";

/** Options of {@linkcode Ledger}. */
export interface LedgerOptions {
  /** Attempts of a read-modify-write before `LedgerConflictError`. @default 5 */
  maxAttempts?: number;
}

const fileCost = (e: ManifestEntry) => estimateCost(e.path, e);

/**
 * The collector's ledger over a KV handle.
 *
 * @example
 * ```ts
 * const ledger = new Ledger(await Deno.openKv(":memory:"));
 * const hourUs = Date.UTC(2024, 0, 2, 7) * 1000;
 * await ledger.addGap("spot", {
 *   symbol: "BTCUSDT", stream: "aggTrade", kind: "disconnect", start_time: hourUs + 60e6,
 *   end_time: hourUs + 120e6, last_update_id: null, resume_update_id: null, reason: "socket closed",
 * }); // true: a new gap
 * const rows = await ledger.coverage("2024-01-02");
 * rows.map((r) => [r.symbol, r.gaps]); // [["BTCUSDT", 1]]
 * ledger.close();
 * ```
 */
export class Ledger {
  readonly #maxAttempts: number;
  /** Holds the coverage values this ledger wrote last (see {@link addCoverageMany}). */
  readonly #coverage: CoverageWriter;

  constructor(readonly kv: Deno.Kv, options: LedgerOptions = {}) {
    const { maxAttempts = 5 } = options;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new RangeError(`Cannot create ledger: 'maxAttempts' must be a positive integer: ${maxAttempts}`);
    }
    this.#maxAttempts = maxAttempts;
    this.#coverage = new CoverageWriter(kv, maxAttempts);
  }

  /** Closes the KV handle. */
  close(): void {
    this.kv.close();
  }

  // ---- gaps ----

  /**
   * Records a gap interval. Idempotent: a gap with the same market, symbol, stream, start and kind is kept as
   * first recorded (with its recovery), and false is returned.
   */
  async addGap(market: Market, row: Row<"gaps">): Promise<boolean> {
    checkMarket("record gap", market);
    checkGapRow(row);
    const days = gapDays(row);
    if (days.length > MAX_GAP_DAYS) {
      throw new RangeError(`Cannot record gap: it spans ${days.length} days (at most ${MAX_GAP_DAYS})`);
    }
    const record: GapRecord = {
      market,
      row: { ...row, reason: capText(row.reason) },
      recoveredAtUs: null,
      recoveryNote: null,
    };
    const key = gapKeyOf(record);
    const op = this.kv.atomic().check({ key: gapKey(key), versionstamp: null });
    return (await setGap(op, key, record, days).commit()).ok;
  }

  /** Notes that a gap's data was recovered (e.g. backfilled from REST) at `atUs`. */
  async markRecovered(key: GapKey, atUs: number, note: string): Promise<void> {
    checkCount("mark gap recovered", "atUs", atUs);
    await updateChecked<GapRecord>(this.kv, gapKey(key), this.#maxAttempts, (current, op) => {
      if (current === null) throw new GapNotFoundError(key);
      const record: GapRecord = { ...current, recoveredAtUs: atUs, recoveryNote: capText(note) };
      setGap(op, key, record, gapDays(current.row));
    });
  }

  /** One gap, or null. */
  async getGap(key: GapKey): Promise<GapRecord | null> {
    return (await this.kv.get<GapRecord>(gapKey(key))).value;
  }

  /**
   * Gaps overlapping `[fromUs, toUs)` (a zero-length gap counts if it lies inside), optionally of one market,
   * symbol or stream, sorted by start time, then market, symbol, stream and kind.
   */
  async listGaps(filter: GapFilter): Promise<GapRecord[]> {
    if (filter.toUs <= filter.fromUs) return [];
    const seen = new Set<string>();
    const out: GapRecord[] = [];
    for (const prefix of gapScanPrefixes(filter)) {
      for await (const { value } of listPaced<GapRecord>(this.kv, { prefix })) {
        if (!gapMatches(filter, value)) continue;
        const id = JSON.stringify(gapKey(gapKeyOf(value)));
        if (seen.has(id)) continue;
        seen.add(id);
        out.push(value);
      }
    }
    return out.sort(compareGaps);
  }

  // ---- coverage ----

  /**
   * Adds a flush's message count and recorded span to one stream-hour (`hourUs` is the hour's start; the span
   * is clipped to it).
   */
  async addCoverage(
    market: Market,
    symbol: string,
    stream: string,
    hourUs: number,
    sample: CoverageSample,
  ): Promise<void> {
    const what = "add coverage";
    checkCount(what, "hourUs", hourUs);
    checkCount(what, "messages", sample.messages);
    checkCount(what, "spanStartUs", sample.spanStartUs);
    checkCount(what, "spanEndUs", sample.spanEndUs);
    await this.addCoverageMany([{ market, symbol, stream, hourUs, sample }]);
  }

  /**
   * {@link addCoverage} for many stream-hours at once (a flush's worth: every stream of every market). Values
   * this ledger wrote last are kept in memory for the hours still being filled, so a flush mostly writes without
   * reading (see {@linkcode CoverageWriter}).
   */
  async addCoverageMany(items: readonly CoverageItem[]): Promise<void> {
    await this.#coverage.add(items);
  }

  /**
   * Per (market, symbol, stream, UTC hour) of `dateUtc` (`YYYY-MM-DD`): messages, recorded, gap, recovered and
   * covered seconds, and the percentage covered. See {@linkcode coverageRowsOf}.
   */
  async coverage(dateUtc: string): Promise<CoverageRow[]> {
    const dayUs = utcDayStartUs(dateUtc);
    const entries: CoverageEntry[] = [];
    for await (
      const { key, value } of listPaced<CoverageValue>(this.kv, coverageRange(dayUs, dayUs + DAY_US))
    ) {
      entries.push({ ...parseCoverageKey(key), value });
    }
    const gaps = await this.listGaps({ fromUs: dayUs, toUs: dayUs + DAY_US });
    // A whole market's day is ~400k rows: the collector's event loop gets a turn every few thousand.
    const rows: CoverageRow[] = [];
    for (const row of coverageRowsOf(dayUs, entries, gaps)) {
      if (rows.push(row) % 5000 === 0) await nextTurn();
    }
    return rows;
  }

  // ---- files ----

  /** Records finished Parquet files (an entry with the same path is replaced). */
  async addFiles(entries: readonly ManifestEntry[]): Promise<void> {
    for (const batch of splitBatches(entries, fileCost)) {
      const op = this.kv.atomic();
      for (const e of batch) op.set(fileKey(e.path), manifestFields(e));
      await op.commit();
    }
  }

  /** Forgets files (e.g. part files replaced by compaction). */
  async removeFiles(paths: readonly string[]): Promise<void> {
    for (const batch of splitBatches(paths, (p) => estimateCost(p, undefined))) {
      const op = this.kv.atomic();
      for (const p of batch) op.delete(fileKey(p));
      await op.commit();
    }
  }

  /** Every file entry, in key order, as listed (a batch at a time). */
  async *#eachFile(): AsyncGenerator<ManifestEntry> {
    for await (const { value } of listPaced<ManifestEntry>(this.kv, FILES)) yield value;
  }

  /** Whether any file is recorded (without listing them: a year of a whole market is 175,200). */
  async hasFiles(): Promise<boolean> {
    for await (const _ of this.kv.list(FILES, { limit: 1 })) return true;
    return false;
  }

  /** Whether the file at `relPath` is recorded. */
  async hasFile(relPath: string): Promise<boolean> {
    return (await this.kv.get(fileKey(relPath))).versionstamp !== null;
  }

  /** Every file entry, or those of one UTC date's partitions (`YYYY-MM-DD`), sorted by path. */
  async listFiles(date?: string): Promise<ManifestEntry[]> {
    let out: ManifestEntry[];
    if (date === undefined) out = await listValues<ManifestEntry>(this.kv, FILES);
    else {
      utcDayStartUs(date); // rejects a malformed date before it reaches a key
      out = [];
      for (const market of MARKETS) {
        for (const table of TABLE_NAMES) {
          out.push(...await listValues<ManifestEntry>(this.kv, fileDateRange(market, table, date)));
        }
      }
    }
    return out.sort((a, b) => cmp(a.path, b.path));
  }

  /** The file entries of one directory (not of the directories under it), sorted by path. */
  async listDir(dir: string): Promise<ManifestEntry[]> {
    const out = await listValues<ManifestEntry>(this.kv, fileDirRange(dir));
    return out.filter((e) => e.path.lastIndexOf("/") === dir.length).sort((a, b) => cmp(a.path, b.path));
  }

  /**
   * Writes the file entries to `{dataDir}/_manifest/checksums.json` through {@linkcode Manifest} (same format,
   * atomic save), for tools without Deno, and returns that manifest. The ledger is the authority: the file is
   * replaced whole, never read (entries it lacks are dropped, an unreadable file is overwritten). With
   * `options.seal`, the manifest seals the directories it picks (see {@linkcode ManifestOptions}), rereading them
   * here if the file changes behind its back.
   */
  async mirrorManifest(dataDir: string, options: Omit<ManifestOptions, "reread"> = {}): Promise<Manifest> {
    const reread = options.seal ? (dir: string) => this.listDir(dir) : undefined;
    const manifest = await Manifest.fromAsync(dataDir, this.#eachFile(), { ...options, reread });
    await manifest.save();
    return manifest;
  }

  // ---- flushes ----

  /** Records one flush's statistics (keyed by its time). */
  async addFlush(stat: FlushStat): Promise<void> {
    checkFlushStat(stat);
    const { atUs, files, rows, bytes, ms, reason } = stat;
    await this.kv.atomic().set(flushKey(atUs), { atUs, files, rows, bytes, ms, reason: capText(reason) })
      .commit();
  }

  /** Flushes in `[fromUs, toUs)`, oldest first. */
  async listFlushes(fromUs: number, toUs: number): Promise<FlushStat[]> {
    return await listValues<FlushStat>(this.kv, flushRange(fromUs, toUs));
  }

  // ---- journal checkpoint ----

  /** The committed journal position, or null before the first commit. */
  async getCheckpoint(): Promise<Checkpoint | null> {
    const entry = await this.kv.get<Omit<Checkpoint, "versionstamp">>(CHECKPOINT_KEY);
    return entry.value === null || entry.versionstamp === null
      ? null
      : { ...entry.value, versionstamp: entry.versionstamp };
  }

  /**
   * Records "the journal up to `next` is committed to these Parquet files": the file entries and the new
   * checkpoint in one atomic operation, checked against `prev` (the checkpoint as last read, or null for the
   * first). Returns false, writing nothing, when `prev` is stale.
   *
   * More entries than one operation can hold go first, in batches guarded by the same check, and the checkpoint
   * last; so a checkpoint never names a position whose files are not all recorded.
   */
  async commitCheckpoint(
    prev: Checkpoint | null,
    next: JournalPosition,
    files: readonly ManifestEntry[],
  ): Promise<boolean> {
    checkNextPosition(prev, next);
    const check = { key: CHECKPOINT_KEY, versionstamp: prev?.versionstamp ?? null };
    const batches = splitBatches(files, fileCost, 1);
    for (const [i, batch] of batches.entries()) {
      const op = this.kv.atomic().check(check);
      for (const e of batch) op.set(fileKey(e.path), manifestFields(e));
      if (i === batches.length - 1) {
        op.set(CHECKPOINT_KEY, { segment: next.segment, offset: next.offset, files: files.length });
      }
      if (!(await op.commit()).ok) return false;
    }
    return true;
  }

  // ---- clock ----

  /** Records one clock-offset measurement. */
  async addClockSample(sample: ClockSample): Promise<void> {
    checkClockSample(sample);
    const { atUs, source, offsetMs, rttMs } = sample;
    await this.kv.atomic().set(clockKey(atUs, source), { atUs, source, offsetMs, rttMs }).commit();
  }

  /** Clock samples taken in `[fromUs, toUs)`, oldest first. */
  async listClockSamples(fromUs: number, toUs: number): Promise<ClockSample[]> {
    return await listValues<ClockSample>(this.kv, clockRange(fromUs, toUs));
  }
}

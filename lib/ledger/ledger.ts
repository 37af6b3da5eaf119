/**
 * The ledger in Deno KV: gaps, coverage, the file manifest, flush statistics, the journal checkpoint and
 * clock offsets. The KV handle is passed in (tests use `Deno.openKv(":memory:")`); key layout and value sizes
 * are documented in keys.ts.
 *
 * Every write is one `kv.atomic()`. Writes that read first check the versionstamps they read and retry a few
 * times on a conflict, then throw {@linkcode LedgerConflictError}.
 * @module
 */

import { type Market, MARKETS } from "../binance/types.ts";
import type { JournalPosition } from "../storage/journal_format.ts";
import { Manifest, type ManifestEntry } from "../storage/manifest.ts";
import { estimateCost, splitBatches } from "./batches.ts";
import { addSample, type CoverageEntry, coverageRowsOf } from "./coverage.ts";
import { DAY_US, HOUR_US, slotsTouched, utcDayStartUs } from "./intervals.ts";
import {
  CHECKPOINT_KEY,
  clockKey,
  clockRange,
  coverageKey,
  coverageRange,
  fileDateRange,
  fileKey,
  FILES,
  flushKey,
  flushRange,
  gapDayKey,
  gapDayPrefix,
  type GapKey,
  gapKey,
  gapPrefix,
  parseCoverageKey,
} from "./keys.ts";
import {
  capText,
  checkCount,
  checkFinite,
  checkGapRow,
  checkMarket,
  type Checkpoint,
  CLOCK_SOURCES,
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

/** A read-modify-write kept losing to concurrent writers. */
export class LedgerConflictError extends Error {
  constructor(readonly key: Deno.KvKey, readonly attempts: number) {
    super(
      `Cannot commit ledger write to ${JSON.stringify(key)}: still conflicting after ${attempts} attempts`,
    );
    this.name = "LedgerConflictError";
  }
}

/** {@linkcode Ledger.markRecovered} was given a gap the ledger does not hold. */
export class GapNotFoundError extends Error {
  constructor(readonly key: GapKey) {
    super(`Cannot mark gap recovered: no gap ${JSON.stringify(gapKey(key))}`);
    this.name = "GapNotFoundError";
  }
}

/** Options of {@linkcode Ledger}. */
export interface LedgerOptions {
  /** Attempts of a read-modify-write before {@linkcode LedgerConflictError}. @default 5 */
  maxAttempts?: number;
}

/**
 * Longest gap kept (days): its copy per UTC day must fit one atomic operation with room to spare.
 */
export const MAX_GAP_DAYS = 366;

/** Longest range (days) {@linkcode Ledger.listGaps} reads day by day. */
const MAX_INDEXED_DAYS = 62;

/** The key identifying a gap record. */
export function gapKeyOf(gap: GapRecord): GapKey {
  const { symbol, stream, start_time, kind } = gap.row;
  return { market: gap.market, symbol, stream, startUs: start_time, kind };
}

const fileCost = (e: ManifestEntry) => estimateCost(e.path, e);

/** Checks allowed in one atomic operation (Deno KV). */
const MAX_CHECKS = 100;

/** One stream-hour's sample for {@link Ledger.addCoverageMany}. */
export interface CoverageItem {
  market: Market;
  symbol: string;
  stream: string;
  hourUs: number;
  sample: CoverageSample;
}

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
  /** Coverage values this ledger wrote last, by stream-hour (see {@link addCoverageMany}). */
  readonly #coverageCache = new Map<string, Deno.KvEntryMaybe<CoverageValue>>();
  /** The newest hour the cache was pruned for. */
  #coverageNewest = -Infinity;

  constructor(readonly kv: Deno.Kv, options: LedgerOptions = {}) {
    const { maxAttempts = 5 } = options;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new RangeError(`Cannot create ledger: 'maxAttempts' must be a positive integer: ${maxAttempts}`);
    }
    this.#maxAttempts = maxAttempts;
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
    const days = slotsTouched(row.start_time, row.end_time, DAY_US);
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
    const op = this.kv.atomic().check({ key: gapKey(key), versionstamp: null }).set(gapKey(key), record);
    for (const day of days) op.set(gapDayKey(day, key), record);
    return (await op.commit()).ok;
  }

  /** Notes that a gap's data was recovered (e.g. backfilled from REST) at `atUs`. */
  async markRecovered(key: GapKey, atUs: number, note: string): Promise<void> {
    checkCount("mark gap recovered", "atUs", atUs);
    await this.#update<GapRecord>(gapKey(key), (current, op) => {
      if (current === null) throw new GapNotFoundError(key);
      const record: GapRecord = { ...current, recoveredAtUs: atUs, recoveryNote: capText(note) };
      op.set(gapKey(key), record);
      for (const day of slotsTouched(current.row.start_time, current.row.end_time, DAY_US)) {
        op.set(gapDayKey(day, key), record);
      }
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
    const { market, symbol, stream, fromUs, toUs } = filter;
    if (toUs <= fromUs) return [];
    // Short ranges read the per-day copies; long ones (e.g. `verify` over all history) the primary records.
    const prefixes = (toUs - fromUs) / DAY_US <= MAX_INDEXED_DAYS
      ? slotsTouched(fromUs, toUs, DAY_US).map((day) => gapDayPrefix(day, market, symbol, stream))
      : [gapPrefix(market, symbol, stream)];
    const seen = new Set<string>();
    const out: GapRecord[] = [];
    for (const prefix of prefixes) {
      for await (const { value } of this.kv.list<GapRecord>({ prefix })) {
        const r = value.row;
        if ((symbol !== undefined && r.symbol !== symbol) || (stream !== undefined && r.stream !== stream)) {
          continue;
        }
        if (r.start_time >= toUs || (r.end_time <= fromUs && r.start_time < fromUs)) continue;
        const id = JSON.stringify(gapKey(gapKeyOf(value)));
        if (seen.has(id)) continue;
        seen.add(id);
        out.push(value);
      }
    }
    return out.sort((a, b) =>
      a.row.start_time - b.row.start_time || cmp(a.market, b.market) || cmp(a.row.symbol, b.row.symbol) ||
      cmp(a.row.stream, b.row.stream) || cmp(a.row.kind, b.row.kind)
    );
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
   * reading; the rest are read 10 keys per call (Deno KV's `getMany` limit). Writes go 100 per atomic commit
   * (KV's limit of checks), each checking the versions it assumed; a commit that lost a race is read and retried.
   */
  async addCoverageMany(items: readonly CoverageItem[]): Promise<void> {
    const what = "add coverage";
    for (const it of items) {
      checkMarket(what, it.market);
      if (it.hourUs % HOUR_US !== 0) {
        throw new RangeError(`Cannot ${what}: hourUs ${it.hourUs} is not an hour start`);
      }
      if (it.sample.spanEndUs < it.sample.spanStartUs) {
        throw new RangeError(`Cannot ${what}: span ends before it starts`);
      }
    }
    const cache = this.#coverageCache;
    const keyOf = (it: CoverageItem) => coverageKey(it.hourUs, it.market, it.symbol, it.stream);
    const idOf = (it: CoverageItem) => `${it.hourUs}\u0000${it.market}\u0000${it.symbol}\u0000${it.stream}`;
    for (let at = 0; at < items.length; at += MAX_CHECKS) {
      const batch = items.slice(at, at + MAX_CHECKS);
      for (let attempt = 1;; attempt++) {
        const missing = attempt === 1 ? batch.filter((it) => !cache.has(idOf(it))) : batch;
        for (let i = 0; i < missing.length; i += 10) {
          const part = missing.slice(i, i + 10);
          const got = await this.kv.getMany<CoverageValue[]>(part.map(keyOf));
          part.forEach((it, j) => cache.set(idOf(it), got[j]!));
        }
        const op = this.kv.atomic();
        const next = batch.map((it) => {
          const entry = cache.get(idOf(it))!;
          const value = addSample(entry.value, it.hourUs, it.sample);
          op.check(entry).set(entry.key, value);
          return { it, key: entry.key, value };
        });
        const res = await op.commit();
        if (res.ok) {
          for (const n of next) {
            cache.set(idOf(n.it), { key: n.key, value: n.value, versionstamp: res.versionstamp });
          }
          break;
        }
        if (attempt >= this.#maxAttempts) throw new LedgerConflictError(keyOf(batch[0]!), this.#maxAttempts);
      }
    }
    // Only the hours still being filled are worth keeping (looked over when a newer hour comes: a flush writes
    // its coverage in slices, and a whole market's cache holds ~20,000 stream-hours).
    const newest = items.reduce((h, it) => Math.max(h, it.hourUs), -Infinity);
    if (newest > this.#coverageNewest) {
      this.#coverageNewest = newest;
      for (const [id, entry] of cache) {
        if ((entry.key[1] as number) < newest - HOUR_US) cache.delete(id);
      }
    }
  }

  /**
   * Per (market, symbol, stream, UTC hour) of `dateUtc` (`YYYY-MM-DD`): messages, recorded, gap, recovered and
   * covered seconds, and the percentage covered. See {@linkcode coverageRowsOf}.
   */
  async coverage(dateUtc: string): Promise<CoverageRow[]> {
    const dayUs = utcDayStartUs(dateUtc);
    const entries: CoverageEntry[] = [];
    for await (const { key, value } of this.kv.list<CoverageValue>(coverageRange(dayUs, dayUs + DAY_US))) {
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

  /** Every file entry, or those of one UTC date's partitions (`YYYY-MM-DD`), sorted by path. */
  async listFiles(date?: string): Promise<ManifestEntry[]> {
    let out: ManifestEntry[];
    if (date === undefined) out = await values(this.kv.list<ManifestEntry>(FILES));
    else {
      utcDayStartUs(date); // rejects a malformed date before it reaches a key
      out = [];
      for (const market of MARKETS) {
        for (const table of TABLE_NAMES) {
          out.push(...await values(this.kv.list<ManifestEntry>(fileDateRange(market, table, date))));
        }
      }
    }
    return out.sort((a, b) => cmp(a.path, b.path));
  }

  /**
   * Writes the file entries to `{dataDir}/_manifest/checksums.json` through {@linkcode Manifest} (same format,
   * atomic save), for tools without Deno, and returns that manifest. The ledger is the authority: the file is
   * replaced whole, never read (entries it lacks are dropped, an unreadable file is overwritten).
   */
  async mirrorManifest(dataDir: string): Promise<Manifest> {
    const manifest = Manifest.of(dataDir, await this.listFiles());
    await manifest.save();
    return manifest;
  }

  // ---- flushes ----

  /** Records one flush's statistics (keyed by its time). */
  async addFlush(stat: FlushStat): Promise<void> {
    const what = "record flush";
    for (const name of ["atUs", "files", "rows", "bytes"] as const) checkCount(what, name, stat[name]);
    checkFinite(what, "ms", stat.ms);
    const { atUs, files, rows, bytes, ms, reason } = stat;
    await this.kv.atomic().set(flushKey(atUs), { atUs, files, rows, bytes, ms, reason: capText(reason) })
      .commit();
  }

  /** Flushes in `[fromUs, toUs)`, oldest first. */
  async listFlushes(fromUs: number, toUs: number): Promise<FlushStat[]> {
    return await values<FlushStat>(this.kv.list(flushRange(fromUs, toUs)));
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
    const what = "commit checkpoint";
    checkCount(what, "segment", next.segment);
    checkCount(what, "offset", next.offset);
    if (
      prev !== null &&
      (next.segment < prev.segment || (next.segment === prev.segment && next.offset < prev.offset))
    ) {
      throw new RangeError(
        `Cannot ${what}: ${next.segment}:${next.offset} is before the previous ${prev.segment}:${prev.offset}`,
      );
    }
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
    const what = "record clock sample";
    checkCount(what, "atUs", sample.atUs);
    checkFinite(what, "offsetMs", sample.offsetMs);
    checkFinite(what, "rttMs", sample.rttMs);
    if (!CLOCK_SOURCES.includes(sample.source)) throw new RangeError(`Cannot ${what}: unknown source`);
    const { atUs, source, offsetMs, rttMs } = sample;
    await this.kv.atomic().set(clockKey(atUs, source), { atUs, source, offsetMs, rttMs }).commit();
  }

  /** Clock samples taken in `[fromUs, toUs)`, oldest first. */
  async listClockSamples(fromUs: number, toUs: number): Promise<ClockSample[]> {
    return await values<ClockSample>(this.kv.list(clockRange(fromUs, toUs)));
  }

  // ---- internals ----

  /** Reads `key`, lets `apply` add writes to an operation checked against that read, and retries conflicts. */
  async #update<T>(
    key: Deno.KvKey,
    apply: (current: T | null, op: Deno.AtomicOperation) => void,
  ): Promise<void> {
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      const entry = await this.kv.get<T>(key);
      const op = this.kv.atomic().check(entry);
      apply(entry.value, op);
      if ((await op.commit()).ok) return;
    }
    throw new LedgerConflictError(key, this.#maxAttempts);
  }
}

async function values<T>(iter: Deno.KvListIterator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const { value } of iter) out.push(value);
  return out;
}

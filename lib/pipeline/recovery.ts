/**
 * Crash recovery: before the collector connects, the journal records not yet committed to Parquet are replayed
 * through the same normalizers the live path uses, so their rows are written exactly as they would have been.
 *
 * The ledger's checkpoint is the position of the last committed flush's first FlushMark; each market's state
 * is as of its own FlushMark, journaled after it (CheckpointBooks parts, then the Checkpoint record), and the
 * market's records in between come after that state. Everything before is in committed Parquet files (before
 * 0.4 the position was the first Checkpoint record, whose state was as of itself). Part files on disk that the
 * ledger does not list were written by a flush that never committed: their rows come back from the replay, so
 * they are removed first (otherwise those rows would exist twice).
 */
import type { Market } from "../binance/types.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { Logger } from "../log.ts";
import { isTempFile } from "../storage/atomic_file.ts";
import type { JournalEntry, JournalTail } from "../storage/journal.ts";
import { readSegments } from "../storage/journal_reader.ts";
import { parseParquetPath } from "../storage/layout.ts";
import { BookParts, samePosition } from "./book_image.ts";
import type { MarketNormalizer } from "./normalizer.ts";
import type { SavedState } from "./normalizer_state.ts";
import { type JournalRecord, RecordKind } from "./records.ts";

/** What a recovery found and did. */
export interface RecoveryReport {
  /** Journal records replayed (0 after a clean stop). */
  records: number;
  /** Whether the previous run ended without a clean shutdown. */
  crashed: boolean;
  /** Local times (µs) of the first and last replayed records, if any. */
  firstUs: number | null;
  lastUs: number | null;
  /** Uncommitted part files removed. */
  orphans: string[];
  /** Torn or corrupt journal tails that were ignored. */
  tails: JournalTail[];
}

/** Records held between a market's FlushMark and its checkpoint record are bounded (by their text). */
const MAX_HELD_BYTES = 256 << 20;

/** A market's checkpoint being read: its book parts, and its records journaled after the FlushMark. */
class PendingCheckpoint {
  readonly parts: BookParts;
  readonly held: JournalRecord[] = [];
  #bytes = 0;

  constructor(mark: JournalEntry) {
    this.parts = new BookParts({ segment: mark.segment, offset: mark.offset });
  }

  /** Holds a record; false when too much is held (the checkpoint never came). */
  hold(rec: JournalRecord): boolean {
    this.#bytes += rec.text.length;
    this.held.push(rec);
    return this.#bytes <= MAX_HELD_BYTES;
  }
}

/** Removes `part-*` Parquet files that no committed flush lists (see the module docs). */
export async function removeOrphanParts(dataDir: string, ledger: Ledger): Promise<string[]> {
  const removed: string[] = [];
  // Each part file is looked up: there are a few (the hours not compacted yet), the ledger's files are many.
  for await (const rel of walk(dataDir, "")) {
    const name = rel.slice(rel.lastIndexOf("/") + 1);
    if (!name.startsWith("part-") || isTempFile(name) || parseParquetPath(rel) === null) continue;
    if (await ledger.hasFile(rel)) continue;
    await Deno.remove(`${dataDir}/${rel}`);
    removed.push(rel);
  }
  return removed;
}

async function* walk(root: string, rel: string): AsyncGenerator<string> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(rel === "" ? root : `${root}/${rel}`));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  for (const e of entries) {
    if (rel === "" && e.name.startsWith("_")) continue; // _journal, _manifest, _state, _meta
    const path = rel === "" ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory) yield* walk(root, path);
    else if (e.isFile) yield path;
  }
}

/**
 * Replays the uncommitted journal into `normalizers`. The caller then flushes and commits, before connecting.
 * A previous run that ended without a Shutdown record crashed: a {@link RecordKind.Crashed} record per market
 * goes through `record` (which journals it and hands it to the normalizer), so every stream gets a disconnect
 * gap, closed when the new run delivers; a run killed before its next commit replays to the same state. A run
 * that stopped cleanly gets the same record with a reason saying so: the time the collector was not running is
 * a gap as well, so the files alone tell where data is missing.
 */
export async function recover(
  options: {
    dataDir: string;
    journalDir: string;
    ledger: Ledger;
    normalizers: ReadonlyMap<Market, MarketNormalizer>;
    log: Logger;
    record: (rec: JournalRecord) => void;
    nowUs: () => number;
  },
): Promise<RecoveryReport> {
  const { ledger, normalizers, log } = options;
  const checkpoint = await ledger.getCheckpoint();
  if (checkpoint === null && await ledger.hasFiles()) {
    // Files but no checkpoint: data written by a version without the ledger, whose journal was already flushed.
    log("warn", "journal predates the ledger's checkpoints: not replayed", {
      files: (await ledger.listFiles()).length,
    });
    return { records: 0, crashed: false, firstUs: null, lastUs: null, orphans: [], tails: [] };
  }
  const orphans = await removeOrphanParts(options.dataDir, ledger);
  const tails: JournalTail[] = [];
  const restored = new Set<Market>();
  const pending = new Map<Market, PendingCheckpoint>();
  let records = 0;
  let firstUs: number | null = null;
  let lastUs: number | null = null;
  // A clean stop journals Shutdown, then the final checkpoint (whose state says stopped); any other last
  // record means the run crashed.
  let clean = false;
  const process = (normalizer: MarketNormalizer, rec: JournalRecord) => {
    normalizer.process(rec);
    clean = rec.kind === RecordKind.Shutdown;
    records++;
  };
  const from = checkpoint ? { segment: checkpoint.segment, offset: checkpoint.offset } : undefined;
  for await (const rec of readSegments(options.journalDir, { from, onTail: (t) => tails.push(t) })) {
    const normalizer = normalizers.get(rec.market);
    if (!normalizer) continue;
    firstUs ??= rec.localUs;
    lastUs = rec.localUs;
    const isState = rec.kind === RecordKind.Checkpoint || rec.kind === RecordKind.CheckpointBooks;
    // Without a checkpoint (first run, or the ledger was reset) the journal is replayed from its start; a
    // restored market's later checkpoints equal its replayed state.
    if (!checkpoint || restored.has(rec.market)) {
      if (!isState) process(normalizer, rec);
      continue;
    }
    // Before its checkpoint a market's records wait: those after its FlushMark come after the saved state.
    const p = pending.get(rec.market);
    if (rec.kind === RecordKind.FlushMark) {
      pending.set(rec.market, new PendingCheckpoint(rec));
    } else if (rec.kind === RecordKind.CheckpointBooks) {
      p?.parts.add(rec.text);
    } else if (rec.kind === RecordKind.Checkpoint) {
      const saved = JSON.parse(rec.text) as SavedState;
      let after: readonly JournalRecord[] = [];
      if (saved.asOf === undefined) {
        // Saved before 0.4: the state is as of this record (records held before it are in it).
        normalizer.restoreState(saved);
      } else if (p && samePosition(p.parts.asOf, saved.asOf)) {
        normalizer.restoreState(saved, p.parts.books);
        after = p.held;
      } else continue;
      restored.add(rec.market);
      pending.delete(rec.market);
      clean = normalizer.stopped;
      for (const held of after) process(normalizer, held);
    } else if (p && !p.hold(rec)) {
      log("error", "a checkpoint never came after its FlushMark: the market is not replayed", {
        market: rec.market,
      });
      pending.delete(rec.market);
    }
  }
  const crashed = lastUs !== null && !clean;
  if (lastUs !== null) {
    // After a crash, or a clean stop: nothing was recorded until this run delivers, so every stream gets a gap
    // from its last frame (a clean stop is said so in the reason).
    const localUs = options.nowUs();
    const text = crashed ? "" : "the collector was stopped (clean shutdown) until this start";
    for (const market of normalizers.keys()) {
      options.record({ localUs, market, conn: 0, kind: RecordKind.Crashed, symbol: "", text });
    }
  }
  for (const t of tails) {
    log("warn", "journal tail ignored", {
      segment: t.segment,
      offset: t.offset,
      bytes: t.ignoredBytes,
      reason: t.reason,
    });
  }
  if (records > 0 || orphans.length > 0) {
    log("info", "recovered from the journal", { records, crashed, orphans: orphans.length });
  }
  return { records, crashed, firstUs, lastUs, orphans, tails };
}

/**
 * Keeps the write-ahead journal usable across I/O failures (a full disk, a failing device). A `JournalWriter`
 * that failed once refuses every later call; the keeper then reports the failure once, lets the collector go on
 * in memory, and opens a new segment with backoff until writes work again.
 *
 * What the failed writer lost (records not yet written out, and every record while the journal was down) is
 * missing from the journal only: the live output has it. A replay after a crash must not pretend otherwise, so
 * the first records of a reopened journal are the `onReopening` markers (the collector journals a Crashed record
 * per market), and the first checkpoint after them makes the loss moot.
 */
import { Backoff } from "../binance/backoff.ts";
import { type JournalWriter, listSegments, type RecordText, segmentPath } from "../storage/journal.ts";
import { archiveSegment } from "../storage/raw_archive.ts";
import type { JournalRecord } from "./records.ts";

/** Options of {@link JournalKeeper}. */
export interface JournalKeeperOptions {
  /** Opens a writer on a new segment; without it a failed journal stays down. */
  reopen?: () => Promise<JournalWriter>;
  /** The journal failed (called once per outage). */
  onFailed: (error: unknown) => void;
  /** Appends the markers that must open a reopened journal (before any other record). */
  onReopening: (writer: JournalWriter) => void;
  /** The journal works again after `downMs`. */
  onReopened: (writer: JournalWriter, downMs: number) => void;
  /** Reopen attempts: 1 s, doubling to 30 s, with jitter. */
  backoff?: Backoff;
}

/** The collector's journal, reopened after failures. */
export class JournalKeeper {
  #writer: JournalWriter;
  #downSinceMs: number | null = null;
  #nextAttemptMs = 0;
  #attempting: Promise<boolean> | null = null;
  readonly #backoff: Backoff;
  /** Records that could not be journaled (the journal was down or failed on them). */
  errors = 0;

  constructor(writer: JournalWriter, private readonly options: JournalKeeperOptions) {
    this.#writer = writer;
    this.#backoff = options.backoff ?? new Backoff({ initialMs: 1000, maxMs: 30_000 });
  }

  /** The current writer (status, checkpoint positions). */
  get writer(): JournalWriter {
    return this.#writer;
  }

  /** True while the journal is down: records are not journaled and no checkpoint can be taken. */
  get down(): boolean {
    return this.#downSinceMs !== null;
  }

  /**
   * Appends a record (a large `text` may come as its UTF-8 bytes: see {@link JournalWriter.append}); false
   * (counted) when the journal is down or fails now. Never throws an I/O error.
   */
  append(rec: Omit<JournalRecord, "text"> & { text: RecordText }): boolean {
    if (this.#downSinceMs !== null) {
      this.errors++;
      return false;
    }
    try {
      this.#writer.append(rec.localUs, rec.market, rec.conn, rec.kind, rec.symbol, rec.text);
      return true;
    } catch (err) {
      if (err instanceof RangeError) throw err; // a bad record, not a bad disk
      this.errors++;
      this.#failed(err);
      return false;
    }
  }

  /** Drives the writer's write/fsync cadence, or a reopen attempt when one is due. */
  tick(nowMs: number): void {
    if (this.#downSinceMs === null) {
      try {
        this.#writer.tick(nowMs);
      } catch (err) {
        this.#failed(err);
      }
    } else if (this.#attempting === null && nowMs >= this.#nextAttemptMs) {
      void this.reopen();
    }
  }

  /** Writes out and fsyncs everything appended; false when the journal is (or just went) down. */
  async sync(): Promise<boolean> {
    if (this.#downSinceMs !== null) return false;
    try {
      await this.#writer.sync();
      return true;
    } catch (err) {
      this.#failed(err);
      return false;
    }
  }

  /** Tries to open a new segment now (one attempt at a time); true when the journal is up afterwards. */
  reopen(): Promise<boolean> {
    if (this.#downSinceMs === null) return Promise.resolve(true);
    this.#attempting ??= this.#attempt().finally(() => {
      this.#attempting = null;
    });
    return this.#attempting;
  }

  /**
   * Deletes the segments before segment `before` (a committed checkpoint's: they are in Parquet), or moves them
   * into `archiveDir` as gzip archives (`keep_raw`). A segment that cannot be deleted is left for the next time.
   */
  async prune(before: number, archiveDir: string | null): Promise<void> {
    const dir = this.#writer.dir;
    for (const id of await listSegments(dir)) {
      if (id >= before) continue;
      const path = segmentPath(dir, id);
      if (archiveDir !== null) await archiveSegment(path, archiveDir);
      await Deno.remove(path).catch(() => {});
    }
  }

  /** Closes the writer (an error of a failed writer is not repeated). */
  async close(): Promise<void> {
    await this.#attempting;
    if (this.#downSinceMs !== null) {
      await this.#writer.close().catch(() => {});
      return;
    }
    await this.#writer.close();
  }

  async #attempt(): Promise<boolean> {
    const { reopen } = this.options;
    if (!reopen) return false;
    let next: JournalWriter | null = null;
    try {
      next = await reopen();
      this.options.onReopening(next);
      await next.sync();
    } catch {
      await next?.close().catch(() => {});
      this.#nextAttemptMs = Date.now() + this.#backoff.next();
      return false;
    }
    await this.#writer.close().catch(() => {}); // the failed writer: its error was reported
    this.#writer = next;
    const downMs = Date.now() - this.#downSinceMs!;
    this.#downSinceMs = null;
    this.#backoff.reset();
    this.options.onReopened(next, downMs);
    return true;
  }

  #failed(error: unknown): void {
    if (this.#downSinceMs !== null) return;
    this.#downSinceMs = Date.now();
    this.#nextAttemptMs = this.#downSinceMs + this.#backoff.next();
    this.options.onFailed(error);
  }
}

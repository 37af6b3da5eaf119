/**
 * The write-ahead journal: segment files `{dir}/{id:010}.wal` in the format of journal_format.ts, holding every
 * record the collector journals (WebSocket frames, REST bodies, connection events, checkpoints; the kinds are
 * lib/pipeline/records.ts's) before anything is parsed.
 *
 * Write path: `append` encodes into one preallocated buffer (no per-record allocation beyond TextEncoder's
 * views); the buffer goes to the OS when it passes `flushBytes`, on rotation, and on `tick` at least every
 * `writeIntervalMs`; `tick` also starts an fsync at least every `syncIntervalMs` (the app asks for 500 ms). The
 * collector calls `tick` from a timer; tests call it with a fake clock. Writes are synchronous (page-cache
 * copies, in order); fsyncs are asynchronous and never stack. A failed write or fsync makes the writer unusable
 * ({@linkcode JournalError}); lib/pipeline/journal_keeper.ts then opens a new writer, on a new segment, with
 * backoff.
 *
 * A writer never appends to an existing segment (its tail may be torn); it starts a new one after the highest.
 * Recovery reads the segments back (journal_reader.ts); once a checkpoint is committed, the flush
 * deletes the segments before it (or archives them as `_raw/*.wal.gz` with `keep_raw`).
 * @module
 */

import { join } from "node:path";
import type { Market } from "../binance/types.ts";
import { syncDir } from "./atomic_file.ts";
import {
  encodeRecord,
  type JournalPosition,
  maxRecordBytes,
  type RecordText,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
} from "./journal_format.ts";

export type {
  JournalEntry,
  JournalPosition,
  JournalRecord,
  JournalTail,
  RecordText,
} from "./journal_format.ts";

/** The file operations the writer needs; `Deno.FsFile` has them. Injectable so tests can observe the cadence. */
export interface SegmentFile {
  writeSync(p: Uint8Array): number;
  sync(): Promise<void>;
  close(): void;
}

/** Options of {@linkcode JournalWriter.open}. */
export interface JournalWriterOptions {
  /** Size of the preallocated append buffer; grows only for a record larger than it. @default 4 MiB */
  bufferBytes?: number;
  /** Buffered bytes that trigger a write to the OS from `append`. @default 1 MiB */
  flushBytes?: number;
  /** `tick` writes buffered bytes when at least this long passed since its last write. @default 100 */
  writeIntervalMs?: number;
  /** `tick` starts an fsync of written bytes when at least this long passed since the last one. @default 1000 */
  syncIntervalMs?: number;
  /** A segment is rotated once it reaches this size. @default 64 MiB */
  maxSegmentBytes?: number;
  /** Creates a new segment file (must fail if it exists). @default `Deno.openSync(path, {write, createNew})` */
  openSegment?: (path: string) => SegmentFile;
}

/** The journal can no longer guarantee durability (a write or fsync failed, or it was closed). */
export class JournalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "JournalError";
  }
}

export const SEGMENT_NAME = /^(\d{10})\.wal$/;

/** Path of segment `id`: `{dir}/{id:010}.wal`. */
export function segmentPath(dir: string, id: number): string {
  return join(dir, `${String(id).padStart(10, "0")}.wal`);
}

/** Segment ids present in `dir`, ascending (empty if `dir` does not exist). */
export async function listSegments(dir: string): Promise<number[]> {
  const ids: number[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const m = entry.isFile ? SEGMENT_NAME.exec(entry.name) : null;
      if (m) ids.push(Number(m[1]));
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return ids.sort((a, b) => a - b);
}

/**
 * Appends records to the journal.
 *
 * @example
 * ```ts
 * import { nowUs } from "../clock.ts";
 * import { RecordKind } from "../pipeline/records.ts";
 *
 * const dir = await Deno.makeTempDir(); // data/_journal in the collector
 * const journal = await JournalWriter.open(dir);
 * const timer = setInterval(() => journal.tick(Date.now()), 50);
 * const frameText = '{"stream":"btcusdt@aggTrade","data":{}}'; // a WebSocket frame as received
 * journal.append(nowUs(), "spot", 3, RecordKind.Frame, "", frameText);
 * // ... at shutdown:
 * clearInterval(timer);
 * await journal.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class JournalWriter {
  readonly dir: string;
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;
  #file: SegmentFile;
  #segment: number;
  #segmentBytes = 0;
  #lastSegment = -1;
  #lastOffset = -1;
  #dirty = false;
  #lastWriteMs = -Infinity;
  #lastSyncMs = -Infinity;
  #syncing: Promise<void> | null = null;
  /** Background fsync+close of rotated segments and directory fsyncs; each removes itself when done. */
  readonly #pending = new Set<Promise<void>>();
  #failure: JournalError | null = null;
  #closed = false;
  readonly #flushBytes: number;
  readonly #writeIntervalMs: number;
  readonly #syncIntervalMs: number;
  readonly #maxSegmentBytes: number;
  readonly #openSegment: (path: string) => SegmentFile;

  private constructor(dir: string, segment: number, options: JournalWriterOptions) {
    const {
      bufferBytes = 4 << 20,
      flushBytes = 1 << 20,
      writeIntervalMs = 100,
      syncIntervalMs = 1000,
      maxSegmentBytes = 64 << 20,
      openSegment = (path: string) => Deno.openSync(path, { write: true, createNew: true }),
    } = options;
    for (const [name, v] of Object.entries({ bufferBytes, flushBytes, maxSegmentBytes })) {
      if (!Number.isInteger(v) || v < 64) {
        throw new RangeError(
          `Cannot open journal: '${name}' must be an integer >= 64: current value is ${v}`,
        );
      }
    }
    this.dir = dir;
    this.#buf = new Uint8Array(bufferBytes);
    this.#view = new DataView(this.#buf.buffer);
    this.#flushBytes = flushBytes;
    this.#writeIntervalMs = writeIntervalMs;
    this.#syncIntervalMs = syncIntervalMs;
    this.#maxSegmentBytes = maxSegmentBytes;
    this.#openSegment = openSegment;
    this.#segment = segment;
    this.#file = this.#startSegment(segment);
  }

  /** Opens a writer on a new segment after the highest one in `dir` (created if missing). */
  static async open(dir: string, options: JournalWriterOptions = {}): Promise<JournalWriter> {
    await Deno.mkdir(dir, { recursive: true });
    const ids = await listSegments(dir);
    const writer = new JournalWriter(dir, (ids.at(-1) ?? 0) + 1, options);
    await syncDir(dir);
    return writer;
  }

  /** Id of the segment being written. */
  get segment(): number {
    return this.#segment;
  }

  /** Size of the current segment including bytes still buffered. */
  get segmentBytes(): number {
    return this.#segmentBytes;
  }

  /** Bytes appended but not yet handed to the OS (at most about `writeIntervalMs` worth). */
  get bufferedBytes(): number {
    return this.#len;
  }

  /** Clock time (as passed to `tick`) of the last fsync started; -Infinity before the first. */
  get lastSyncMs(): number {
    return this.#lastSyncMs;
  }

  /** Where the last appended record starts, or null before the first append. */
  get lastRecord(): JournalPosition | null {
    return this.#lastSegment < 0 ? null : { segment: this.#lastSegment, offset: this.#lastOffset };
  }

  /**
   * Appends one record and returns its offset in the current segment (see `segment`). `text` may be given as its
   * UTF-8 bytes, which are copied now. Throws `RangeError` on an invalid field (nothing is appended) and
   * {@linkcode JournalError} once the journal has failed.
   */
  append(
    localUs: number,
    market: Market,
    conn: number,
    kind: number,
    symbol: string,
    text: RecordText,
  ): number {
    this.#usable();
    const need = maxRecordBytes(symbol, text);
    if (this.#len + need > this.#buf.length) {
      this.#writeOut();
      if (need > this.#buf.length) this.#resize(Math.max(need, 2 * this.#buf.length));
    }
    const start = this.#len;
    this.#len = encodeRecord(this.#buf, this.#view, start, localUs, market, conn, kind, symbol, text);
    const offset = this.#segmentBytes;
    this.#segmentBytes += this.#len - start;
    this.#lastSegment = this.#segment;
    this.#lastOffset = offset;
    if (this.#segmentBytes >= this.#maxSegmentBytes) this.#rotateNow();
    else if (this.#len >= this.#flushBytes) this.#writeOut();
    return offset;
  }

  /**
   * Drives the cadence: writes buffered bytes and starts an fsync when their intervals have passed. Throws
   * {@linkcode JournalError} once a write or fsync has failed, so a timer calling it stops the process.
   */
  tick(nowMs: number): void {
    this.#usable();
    const syncDue = (this.#dirty || this.#len > 0) && this.#syncing === null &&
      nowMs - this.#lastSyncMs >= this.#syncIntervalMs;
    if (this.#len > 0 && (syncDue || nowMs - this.#lastWriteMs >= this.#writeIntervalMs)) {
      this.#writeOut();
      this.#lastWriteMs = nowMs;
    }
    if (syncDue) {
      this.#lastSyncMs = nowMs;
      this.#dirty = false;
      const syncing = this.#file.sync().then(
        () => {
          this.#syncing = null;
        },
        (err) => {
          this.#syncing = null;
          this.#fail(`Journal fsync failed in segment ${this.#segment}`, err);
        },
      );
      this.#syncing = syncing;
    }
  }

  /** Closes the current segment (written and fsynced) and starts the next; returns the closed segment's id. */
  async rotate(): Promise<number> {
    this.#usable();
    const closed = this.#rotateNow();
    await this.#settle();
    if (this.#failure) throw this.#failure;
    return closed;
  }

  /** Writes out and fsyncs everything appended so far (the current segment stays open). */
  async sync(): Promise<void> {
    this.#usable();
    this.#writeOut();
    await this.#settle();
    const started = this.#file.sync().catch((err) => this.#fail("fsync failed", err));
    this.#track(started);
    await this.#settle();
    this.#dirty = false;
    if (this.#failure) throw this.#failure;
  }

  /**
   * Writes and fsyncs everything, then closes the segment; the writer cannot be used afterwards. Throws the
   * {@linkcode JournalError} if anything failed (the file is closed either way).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.#failure === null) this.#writeOut();
      await this.#settle();
      if (this.#failure === null) {
        await this.#file.sync().catch((err) =>
          this.#fail(`Journal fsync failed in segment ${this.#segment}`, err)
        );
      }
    } finally {
      this.#file.close();
    }
    if (this.#failure) throw this.#failure;
  }

  #usable(): void {
    if (this.#failure) throw this.#failure;
    if (this.#closed) throw new JournalError("Cannot use journal: it is closed");
  }

  #fail(message: string, cause: unknown): void {
    this.#failure ??= new JournalError(message, { cause });
  }

  /** Opens segment `id` and buffers its header. */
  #startSegment(id: number): SegmentFile {
    const file = this.#openSegment(segmentPath(this.dir, id));
    this.#buf.set(SEGMENT_MAGIC, 0);
    this.#len = SEGMENT_HEADER_BYTES;
    this.#segmentBytes = SEGMENT_HEADER_BYTES;
    return file;
  }

  #writeOut(): void {
    if (this.#len === 0) return;
    try {
      let written = 0;
      while (written < this.#len) written += this.#file.writeSync(this.#buf.subarray(written, this.#len));
    } catch (err) {
      this.#fail(`Journal write failed in segment ${this.#segment}`, err);
      throw this.#failure;
    }
    this.#len = 0;
    this.#dirty = true;
  }

  #resize(size: number): void {
    this.#buf = new Uint8Array(size);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Switches to the next segment; the old one is fsynced and closed in the background (see `#settle`). */
  #rotateNow(): number {
    this.#writeOut();
    const old = this.#file;
    const oldId = this.#segment;
    const inFlight = this.#syncing ?? Promise.resolve();
    this.#track(
      inFlight.then(() => old.sync()).then(
        () => old.close(),
        (err) => {
          old.close();
          this.#fail(`Journal fsync failed in closed segment ${oldId}`, err);
        },
      ),
    );
    this.#segment = oldId + 1;
    this.#file = this.#startSegment(this.#segment);
    this.#track(syncDir(this.dir));
    this.#dirty = false;
    return oldId;
  }

  /** Keeps `work` (which never rejects; failures land in `#failure`) until it is done. */
  #track(work: Promise<void>): void {
    this.#pending.add(work);
    work.then(() => this.#pending.delete(work));
  }

  /** Waits for background fsyncs and closes. */
  async #settle(): Promise<void> {
    while (this.#pending.size > 0 || this.#syncing !== null) {
      await Promise.all([...this.#pending, this.#syncing]);
    }
  }
}

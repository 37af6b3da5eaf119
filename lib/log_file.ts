/**
 * Daily log files: every log line also goes to `<log_dir>/collector-YYYY-MM-DD.log` (UTC day), and files older
 * than the retention are deleted when a day's file is opened.
 *
 * Logging must never slow or stop collection: {@link DailyLogFile.write} only queues the line, one background
 * task appends queued lines, a full queue drops lines (counted, and the count is written once the disk keeps
 * up), and a failing disk is reported once on stderr while lines keep going to stderr alone.
 * @module
 */

import { join } from "node:path";

/** Options of {@link DailyLogFile}. */
export interface DailyLogOptions {
  /** Directory of the files (`log_dir`); created when missing. */
  dir: string;
  /** A file is deleted once its day is this many days behind today; 0 keeps files forever. */
  retentionDays: number;
  /** Where problems of the log disk are reported; stderr by default (never the logger: it writes here). */
  report?: (message: string) => void;
  /** Clock (ms), for tests. */
  nowMs?: () => number;
  /** Lines held while the disk is slow; beyond this, new lines are dropped and counted. @default 10000 */
  maxQueuedLines?: number;
}

const FILE_NAME = /^collector-(\d{4}-\d{2}-\d{2})\.log$/;
const DAY_MS = 86_400_000;

/** File name of the log of the UTC day of `ms`. */
export function logFileName(ms: number): string {
  return `collector-${new Date(ms).toISOString().slice(0, 10)}.log`;
}

/**
 * Appends lines to the day's log file in the background.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir(); // the collector's log_dir
 * const file = new DailyLogFile({ dir, retentionDays: 14 });
 * file.write("2026-01-05T00:00:00.000Z INFO  collector started");
 * await file.close(); // waits for queued lines
 * await Deno.readTextFile(`${dir}/${logFileName(Date.now())}`);
 * // "2026-01-05T00:00:00.000Z INFO  collector started\n"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class DailyLogFile {
  readonly #dir: string;
  readonly #retentionDays: number;
  readonly #report: (message: string) => void;
  readonly #nowMs: () => number;
  readonly #maxQueued: number;
  #queue: { ms: number; line: string }[] = [];
  #dropped = 0;
  #draining: Promise<void> | null = null;
  #file: Deno.FsFile | null = null;
  #fileName: string | null = null;
  #failing = false;
  #closed = false;

  constructor(options: DailyLogOptions) {
    this.#dir = options.dir;
    this.#retentionDays = options.retentionDays;
    this.#report = options.report ?? ((m) => console.error(m));
    this.#nowMs = options.nowMs ?? Date.now;
    this.#maxQueued = options.maxQueuedLines ?? 10_000;
  }

  /** Queues one line (without its newline); returns at once. Lines after {@link close} are ignored. */
  write(line: string): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.#maxQueued) {
      this.#dropped++;
      return;
    }
    this.#queue.push({ ms: this.#nowMs(), line });
    this.#draining ??= this.#drain();
  }

  /** Writes what is queued, then closes the file. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#draining;
    this.#closeFile();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0 || this.#dropped > 0) {
        const batch = this.#queue.splice(0);
        if (this.#dropped > 0) {
          const ms = batch[0]?.ms ?? this.#nowMs();
          const note = `${new Date(ms).toISOString()} WARN  ${this.#dropped} log lines were not written to ` +
            `this file (the log disk was too slow)`;
          batch.unshift({ ms, line: note });
          this.#dropped = 0;
        }
        // One append per file: a batch spans two files only across midnight.
        let start = 0;
        while (start < batch.length) {
          const name = logFileName(batch[start]!.ms);
          let end = start + 1;
          while (end < batch.length && logFileName(batch[end]!.ms) === name) end++;
          const text = batch.slice(start, end).map((e) => `${e.line}\n`).join("");
          await this.#append(name, new TextEncoder().encode(text));
          start = end;
        }
      }
    } finally {
      this.#draining = null;
    }
  }

  async #append(name: string, bytes: Uint8Array): Promise<void> {
    const path = join(this.#dir, name);
    try {
      if (this.#fileName !== name) {
        this.#closeFile();
        await Deno.mkdir(this.#dir, { recursive: true });
        this.#file = await Deno.open(path, { append: true, create: true });
        this.#fileName = name;
        await this.#prune();
      }
      for (let done = 0; done < bytes.length;) done += await this.#file!.write(bytes.subarray(done));
      if (this.#failing) {
        this.#failing = false;
        this.#report(`log file ${path} is writable again`);
      }
    } catch (err) {
      // The lines are on stderr already; the file is reopened with the next batch.
      this.#closeFile();
      if (!this.#failing) {
        this.#failing = true;
        this.#report(`cannot write log file ${path}: ${(err as Error).message}; logging to stderr only`);
      }
    }
  }

  /** Deletes the files whose day is `retentionDays` or more days before today. */
  async #prune(): Promise<void> {
    if (this.#retentionDays <= 0) return;
    const today = Date.parse(new Date(this.#nowMs()).toISOString().slice(0, 10));
    const cutoff = today - this.#retentionDays * DAY_MS;
    try {
      for await (const entry of Deno.readDir(this.#dir)) {
        const day = FILE_NAME.exec(entry.name)?.[1];
        if (entry.isFile && day !== undefined && Date.parse(day) <= cutoff) {
          await Deno.remove(join(this.#dir, entry.name)).catch((e) => {
            if (!(e instanceof Deno.errors.NotFound)) throw e;
          });
        }
      }
    } catch (err) {
      this.#report(`cannot delete old log files in ${this.#dir}: ${(err as Error).message}`);
    }
  }

  #closeFile(): void {
    try {
      this.#file?.close();
    } catch {
      // Already closed by a failed write: nothing more to release.
    }
    this.#file = null;
    this.#fileName = null;
  }
}

/**
 * The manifest of finished Parquet files: `{data_dir}/_manifest/checksums.json`, one entry per file with its
 * sha256, row count, size and time range, for tools without Deno.
 *
 * The ledger (lib/ledger/) is the authority on committed files; this file mirrors it. At start the app writes it
 * from the ledger (after adding the entries of a data directory recorded before the ledger existed) and keeps
 * the loaded copy in memory, where flushes, compaction and cloud sync add and remove entries; a flush saves it
 * at most every 5 minutes, and recovery and the stop save it too (atomically: temp file, rename). Without a
 * remote the collector seals settled days: their entries stay in the file only (manifest_file.ts copies them
 * from one save to the next), so its memory holds days of files, not months. Tools read the file when they run
 * without the ledger (`export`, the run summary, `verify` on a data directory without one).
 * @module
 */

import type { Market } from "../binance/types.ts";
import { writeFileAtomic } from "./atomic_file.ts";
import { manifestPath, parseParquetPath } from "./layout.ts";
import {
  compareDirs,
  dirOf,
  type DirUnit,
  type FileIdentity,
  identityOf,
  manifestBytes,
  sameIdentity,
  type SealedDir,
  type SealedSource,
  SealedSourceChanged,
  VERSION,
  type WrittenDir,
} from "./manifest_file.ts";
import type { TableName } from "./tables.ts";

/** One finished Parquet file (of every symbol of its market and table; see layout.ts). */
export interface ManifestEntry {
  /** Path relative to `data_dir`, `/`-separated. */
  path: string;
  /** Lower-case hex sha256 of the file's bytes. */
  sha256: string;
  rows: number;
  bytes: number;
  /**
   * Range of the rows' `local_time` (of `start_time` for gaps), ISO 8601 UTC with microseconds (see
   * {@linkcode isoMicros}).
   */
  first_local_time: string;
  last_local_time: string;
  market: Market;
  table: TableName;
}

/** The manifest file exists but cannot be used (bad JSON or shape); callers stop rather than overwrite it. */
export class ManifestError extends Error {
  constructor(readonly path: string, message: string, options?: ErrorOptions) {
    super(`Cannot load manifest ${path}: ${message}`, options);
    this.name = "ManifestError";
  }
}

/** Lower-case hex sha256 of `bytes` (Web Crypto). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // Our buffers are never shared; the cast only narrows ArrayBufferLike for the Web Crypto signature.
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * µs since the epoch as ISO 8601 UTC with six fraction digits.
 *
 * @example
 * ```ts
 * isoMicros(1_700_000_000_123_456); // "2023-11-14T22:13:20.123456Z"
 * ```
 */
export function isoMicros(us: number): string {
  const seconds = Math.floor(us / 1_000_000);
  const fraction = String(us - seconds * 1_000_000).padStart(6, "0");
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}

const STRING_FIELDS = [
  "path",
  "sha256",
  "first_local_time",
  "last_local_time",
  "market",
  "table",
] as const;

/** The fields of a {@link ManifestEntry} only (a 0.3 entry also had `symbol`, which the layout no longer has). */
export function entryFields(e: ManifestEntry): ManifestEntry {
  const { path, sha256, rows, bytes, first_local_time, last_local_time, market, table } = e;
  return { path, sha256, rows, bytes, first_local_time, last_local_time, market, table };
}

function isEntry(v: unknown): v is ManifestEntry {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return STRING_FIELDS.every((k) => typeof o[k] === "string") && Number.isSafeInteger(o.rows) &&
    Number.isSafeInteger(o.bytes);
}

/**
 * Which directories of files a save may leave on disk only: given a directory and all its entries, true to
 * seal it (see {@linkcode ManifestOptions}).
 */
export type SealPolicy = (dir: string, entries: readonly ManifestEntry[]) => boolean;

/** How a {@linkcode Manifest} bounds its memory. */
export interface ManifestOptions {
  /**
   * Directories a save seals: their entries stay in the file, copied from one save to the next, and leave
   * memory. {@linkcode Manifest.entries} and {@linkcode Manifest.get} then see only the entries held. A sealed
   * directory is asked about again only when it changes (an entry added or removed).
   */
  seal?: SealPolicy;
  /**
   * A sealed directory's entries from the authority (the ledger), when the file no longer is the one the last
   * save wrote. Without it, such a save fails with a {@linkcode ManifestError}.
   */
  reread?: (dir: string) => Promise<ManifestEntry[]>;
}

/**
 * A {@linkcode SealPolicy} for a collector: the layout's `date=` directories whose files are all compacted
 * (`hour-…`) and whose day ended more than `keepDays` days before the clock's day (UTC). Nothing writes there
 * any more; the jobs that read recent files (funding history, compaction, the fleet view) look back less.
 */
export function sealSettledDays(keepDays: number, clockMs: () => number = Date.now): SealPolicy {
  return (dir, entries) => {
    // The directory is parsed once: a save asks about every directory held, every 5 minutes.
    const parsed = parseParquetPath(`${dir}/x.parquet`);
    const cutoff = new Date(clockMs() - keepDays * 86_400_000).toISOString().slice(0, 10);
    if (parsed === null || !(parsed.date < cutoff) || entries.length === 0) return false;
    const compacted = `${dir}/hour-`;
    return entries.every((e) => e.path.startsWith(compacted) && e.path.lastIndexOf("/") === dir.length);
  };
}

/**
 * In-memory manifest keyed by relative path, saved atomically (temp file + rename). With a
 * {@linkcode ManifestOptions.seal} policy, the entries of settled directories live in the file only, so memory
 * holds the recent files plus ~100 bytes per sealed directory, not ~470 bytes per file ever recorded.
 *
 * @example
 * ```ts
 * const dataDir = await Deno.makeTempDir();
 * const bytes = new TextEncoder().encode("PAR1");
 * const [a, b] = [1_704_178_800_000_000, 1_704_182_399_000_000];
 * const manifest = await Manifest.load(dataDir); // empty: there is no _manifest/checksums.json yet
 * manifest.add({
 *   path: "spot/trades/date=2024-01-02/part-07-1704178800000000-000001.parquet", sha256: await sha256Hex(bytes),
 *   rows: 10, bytes: bytes.length, first_local_time: isoMicros(a), last_local_time: isoMicros(b),
 *   market: "spot", table: "trades",
 * });
 * await manifest.save();
 * (await Manifest.load(dataDir)).size; // 1
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export class Manifest {
  /** Every entry held, sorted by path: the file's order, kept as entries come and go rather than sorted per use. */
  readonly #sorted: ManifestEntry[];
  readonly #byPath: Map<string, ManifestEntry>;
  readonly #seal: SealPolicy | null;
  readonly #reread: ((dir: string) => Promise<ManifestEntry[]>) | null;
  /** Sealed directories, in the file's order, and by name. */
  #sealed: SealedDir[] = [];
  #sealedByDir = new Map<string, SealedDir>();
  /** Paths removed from sealed directories since the last save, by directory. */
  readonly #removed = new Map<string, Set<string>>();
  /** The file as the last save left it (sealed directories are copied from it). */
  #written: FileIdentity | null = null;
  #version = 0;
  /** The save that has not started writing yet (later calls share it), and the last one queued. */
  #nextSave: Promise<void> | null = null;
  #lastSave: Promise<void> = Promise.resolve();

  private constructor(readonly dataDir: string, entries: Iterable<ManifestEntry>, options: ManifestOptions) {
    this.#byPath = new Map();
    for (const e of entries) this.#byPath.set(e.path, entryFields(e));
    this.#sorted = [...this.#byPath.values()].sort((a, b) => comparePaths(a.path, b.path));
    this.#seal = options.seal ?? null;
    this.#reread = options.reread ?? null;
  }

  /** A manifest of `entries` for `{dataDir}` (e.g. the ledger's files), not yet saved. */
  static of(dataDir: string, entries: Iterable<ManifestEntry>, options: ManifestOptions = {}): Manifest {
    return new Manifest(dataDir, entries, options);
  }

  /** Loads `{dataDir}/_manifest/checksums.json`, every entry held; an absent file gives an empty manifest. */
  static async load(dataDir: string): Promise<Manifest> {
    const path = manifestPath(dataDir);
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return new Manifest(dataDir, [], {});
      throw err;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new ManifestError(path, "invalid JSON", { cause: err });
    }
    const { version, files } = (typeof doc === "object" && doc !== null ? doc : {}) as Record<
      string,
      unknown
    >;
    if (version !== VERSION || !Array.isArray(files)) {
      throw new ManifestError(path, `expected {"version":${VERSION},"files":[...]}`);
    }
    for (const [i, entry] of files.entries()) {
      if (!isEntry(entry)) throw new ManifestError(path, `malformed entry at index ${i}`);
    }
    return new Manifest(dataDir, files as ManifestEntry[], {});
  }

  /** Number of entries held (sealed ones are not: see {@link sealed}). */
  get size(): number {
    return this.#sorted.length;
  }

  /** Number of entries in sealed directories, as of the last save. */
  get sealed(): number {
    let n = 0;
    for (const s of this.#sealed) n += s.count;
    return n;
  }

  /** Changes with every {@link add} and {@link remove}: what was derived from the entries at one version holds. */
  get version(): number {
    return this.#version;
  }

  /** The entry held for a relative path, if any. */
  get(path: string): ManifestEntry | undefined {
    return this.#byPath.get(path);
  }

  /** The entries held, sorted by path (a copy of the list; the entries themselves are shared). */
  entries(): ManifestEntry[] {
    return this.#sorted.slice();
  }

  /** Adds an entry, replacing any entry with the same path (a file rewritten in place). */
  add(entry: ManifestEntry): void {
    this.#hold(entryFields(entry));
    this.#version++;
  }

  /**
   * Removes the entry for `path` (e.g. a part file merged by compaction); false if there was none. In a sealed
   * directory the removal is applied by the next save, and true means only that the path may have been listed.
   */
  remove(path: string): boolean {
    const held = this.#drop(path);
    const dir = dirOf(path);
    if (this.#sealedByDir.has(dir)) {
      const removed = this.#removed.get(dir) ?? new Set();
      removed.add(path);
      this.#removed.set(dir, removed);
    } else if (!held) return false;
    this.#version++;
    return true;
  }

  /**
   * Writes the manifest atomically, entries sorted by path. The entries are those of when the writing starts,
   * written a piece at a time (a year of a whole market's files is ~60 MiB of JSON: in one piece, a stall of the
   * collector's thread; sealed directories are copied from the previous file as bytes); saves run one after
   * another, and a save asked for while another waits to start is that one.
   */
  save(): Promise<void> {
    if (this.#nextSave) return this.#nextSave;
    const next = this.#lastSave.catch(() => {}).then(() => {
      this.#nextSave = null;
      return this.#write();
    });
    this.#nextSave = next;
    this.#lastSave = next;
    return next;
  }

  async #write(): Promise<void> {
    const path = manifestPath(this.dataDir);
    const units = this.#units();
    let previous: Deno.FsFile | null = null;
    let trusted = false;
    if (this.#sealed.length > 0) {
      try {
        previous = await Deno.open(path, { read: true });
        trusted = this.#written !== null && sameIdentity(identityOf(await previous.stat()), this.#written);
      } catch (err) {
        previous?.close();
        if (!(err instanceof Deno.errors.NotFound)) throw err;
        previous = null;
      }
      if (!trusted && this.#reread === null) {
        previous?.close();
        throw new ManifestError(
          path,
          "it changed since it was saved, and its sealed entries are nowhere else",
        );
      }
    }
    const opened = previous;
    const source: SealedSource = {
      trusted,
      read: (offset, length, into) =>
        opened === null ? Promise.resolve(null) : readAt(opened, offset, length, into),
      reread: (dir) => this.#reread!(dir),
    };
    const written: WrittenDir[] = [];
    const bytes = manifestBytes(units, source, this.#seal ?? (() => false), written);
    let open = opened !== null;
    const close = () => {
      if (open) opened?.close();
      open = false;
    };
    try {
      await writeFileAtomic(path, closingAfter(bytes, close));
    } catch (err) {
      // The previous file ended early: the next save rereads the sealed directories instead of copying.
      if (err instanceof SealedSourceChanged) this.#written = null;
      throw err;
    } finally {
      close(); // a write that failed before its first piece
    }
    this.#written = identityOf(await Deno.stat(path));
    this.#commit(written);
  }

  /** The file's directories, in its order: the held entries grouped by directory, and the sealed ones. */
  #units(): DirUnit[] {
    const held = this.#sorted;
    const sealed = this.#sealed;
    // Nothing to seal: one unit of every entry (grouping a year's 175,000 paths took 30 ms of the thread).
    if (this.#seal === null && sealed.length === 0) {
      return held.length === 0 ? [] : [{ dir: "", held: held.slice(), sealed: null, removed: new Set() }];
    }
    const units: DirUnit[] = [];
    let i = 0;
    let k = 0;
    while (i < held.length || k < sealed.length) {
      const dir = i < held.length ? dirOf(held[i]!.path) : null;
      const s = k < sealed.length ? sealed[k]! : null;
      const c = dir === null ? 1 : s === null ? -1 : compareDirs(dir, s.dir);
      let j = i;
      if (c <= 0) { while (j < held.length && dirOf(held[j]!.path) === dir) j++; }
      const name = c <= 0 ? dir! : s!.dir;
      units.push({
        dir: name,
        held: held.slice(i, j),
        sealed: c >= 0 ? s : null,
        removed: new Set(this.#removed.get(name)),
      });
      i = j;
      if (c >= 0) k++;
    }
    return units;
  }

  /** After a save: the sealed directories' new places, and the entries that left memory or came back. */
  #commit(written: readonly WrittenDir[]): void {
    const seen = new Map<string, number>();
    for (const w of written) seen.set(w.unit.dir, (seen.get(w.unit.dir) ?? 0) + 1);
    const sealed: SealedDir[] = [];
    // Collected, then applied in one pass each: a first save after months seals ~170,000 entries at once.
    const leaving = new Set<ManifestEntry>();
    const back: ManifestEntry[] = [];
    for (const { unit, merged, sealed: place } of written) {
      const pending = this.#removed.get(unit.dir);
      for (const p of unit.removed) pending?.delete(p);
      // Held entries of a directory split by another's files (nested directories) are not sealed: one place per
      // directory.
      if (place !== null && (unit.sealed !== null || seen.get(unit.dir) === 1)) {
        sealed.push(place);
        for (const e of unit.held) {
          const now = this.#byPath.get(e.path);
          if (now === e) leaving.add(e);
          else if (now === undefined) {
            // Removed while the save ran, after it was written: the next save drops it.
            const removed = this.#removed.get(unit.dir) ?? new Set();
            removed.add(e.path);
            this.#removed.set(unit.dir, removed);
          }
        }
      } else {
        // Held again (no longer settled, or split): what the file had comes back to memory.
        for (const e of merged ?? []) if (!this.#byPath.has(e.path) && !pending?.has(e.path)) back.push(e);
        this.#removed.delete(unit.dir);
      }
      if (pending?.size === 0) this.#removed.delete(unit.dir);
    }
    const sorted = this.#sorted;
    if (leaving.size > 0) {
      let kept = 0;
      for (const e of sorted) {
        if (leaving.has(e)) this.#byPath.delete(e.path);
        else sorted[kept++] = e;
      }
      sorted.length = kept;
    }
    if (back.length > 0) {
      for (const e of back) {
        this.#byPath.set(e.path, e);
        sorted.push(e);
      }
      sorted.sort((a, b) => comparePaths(a.path, b.path));
    }
    this.#sealed = sealed;
    this.#sealedByDir = new Map(sealed.map((s) => [s.dir, s]));
    this.#version++;
  }

  /** Holds `e` (already reduced to its fields), replacing the entry of its path. */
  #hold(e: ManifestEntry): void {
    const sorted = this.#sorted;
    const last = sorted[sorted.length - 1];
    const at = last === undefined || comparePaths(last.path, e.path) < 0
      ? sorted.length
      : this.#indexOf(e.path);
    if (this.#byPath.has(e.path)) sorted[at] = e;
    else sorted.splice(at, 0, e);
    this.#byPath.set(e.path, e);
  }

  /** Stops holding the entry of `path`; false if none was held. */
  #drop(path: string): boolean {
    if (!this.#byPath.delete(path)) return false;
    this.#sorted.splice(this.#indexOf(path), 1);
    return true;
  }

  /** Index of `path` in the sorted entries, or where it would go. */
  #indexOf(path: string): number {
    const sorted = this.#sorted;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (comparePaths(sorted[mid]!.path, path) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `pieces`, then the previous file closed (`close`): before the rename replaces it. Closing the last descriptor of a file already
 * replaced frees its pages in the call, on the collector's thread (14–18 ms for a year's 62 MiB).
 */
async function* closingAfter(
  pieces: AsyncIterable<Uint8Array>,
  close: () => void,
): AsyncGenerator<Uint8Array> {
  try {
    yield* pieces;
  } finally {
    close();
  }
}

/** `length` bytes of `file` from `offset` (in `into` if given), or null if it ends before. */
async function readAt(
  file: Deno.FsFile,
  offset: number,
  length: number,
  into?: Uint8Array,
): Promise<Uint8Array | null> {
  const out = into ? into.subarray(0, length) : new Uint8Array(length);
  await file.seek(offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < length) {
    const n = await file.read(out.subarray(got));
    if (n === null) return null;
    got += n;
  }
  return out;
}

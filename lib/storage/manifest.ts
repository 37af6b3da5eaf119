/**
 * The manifest of finished Parquet files: `{data_dir}/_manifest/checksums.json`, one entry per file with its
 * sha256, row count, size and time range, for tools without Deno.
 *
 * The ledger (lib/ledger/) is the authority on committed files; this file mirrors it. At start the app writes it
 * from the ledger (after adding the entries of a data directory recorded before the ledger existed) and keeps
 * the loaded copy in memory, where flushes, compaction and cloud sync add and remove entries; a flush saves it
 * at most every 5 minutes, and recovery and the stop save it too (atomically: temp file, rename). Without a
 * remote the collector seals settled days: their entries stay in the file only (sealed_dirs.ts keeps track of
 * them, manifest_file.ts copies them from one save to the next), so its memory holds days of files, not
 * months. Tools read the file when they run without the ledger (`export`, the run summary, `verify` on a data
 * directory without one).
 * @module
 */

import { manifestPath } from "./layout.ts";
import { comparePaths, type ManifestEntry, VERSION } from "./manifest_file.ts";
import { type ManifestOptions, SealedDirs } from "./sealed_dirs.ts";

export type { ManifestEntry };

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
 * In-memory manifest keyed by relative path, saved atomically (temp file + rename). With a
 * {@linkcode ManifestOptions.seal} policy, the entries of settled directories live in the file only, so memory
 * holds the recent files plus a small record per sealed directory, not ~470 bytes per file ever recorded
 * (`bench/manifest.ts`: 8 MiB of heap after a year of a whole market, against 84).
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
  readonly #sealed: SealedDirs;
  readonly #onSeal: ManifestOptions["onSeal"];
  #version = 0;
  /** The save that has not started writing yet (later calls share it), and the last one queued. */
  #nextSave: Promise<void> | null = null;
  #lastSave: Promise<void> = Promise.resolve();

  private constructor(
    readonly dataDir: string,
    byPath: Map<string, ManifestEntry>,
    options: ManifestOptions,
  ) {
    this.#byPath = byPath;
    this.#sorted = [...byPath.values()].sort((a, b) => comparePaths(a.path, b.path));
    this.#sealed = new SealedDirs(manifestPath(dataDir), options);
    this.#onSeal = options.onSeal;
  }

  /** A manifest of `entries` for `{dataDir}`, not yet saved. */
  static of(dataDir: string, entries: Iterable<ManifestEntry>, options: ManifestOptions = {}): Manifest {
    const byPath = new Map<string, ManifestEntry>();
    for (const e of entries) byPath.set(e.path, entryFields(e));
    return new Manifest(dataDir, byPath, options);
  }

  /**
   * {@linkcode Manifest.of} entries as they are read (the ledger's files, listed a batch at a time): each is
   * reduced to its fields as it comes, so a year's 175,200 entries are not held twice, as read and as kept.
   */
  static async fromAsync(
    dataDir: string,
    entries: AsyncIterable<ManifestEntry>,
    options: ManifestOptions = {},
  ): Promise<Manifest> {
    const byPath = new Map<string, ManifestEntry>();
    for await (const e of entries) byPath.set(e.path, entryFields(e));
    return new Manifest(dataDir, byPath, options);
  }

  /** Loads `{dataDir}/_manifest/checksums.json`, every entry held; an absent file gives an empty manifest. */
  static async load(dataDir: string): Promise<Manifest> {
    const path = manifestPath(dataDir);
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return Manifest.of(dataDir, []);
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
    return Manifest.of(dataDir, files as ManifestEntry[]);
  }

  /** Number of entries held (sealed ones are not: see {@link sealed}). */
  get size(): number {
    return this.#sorted.length;
  }

  /** Number of entries in sealed directories, as of the last save. */
  get sealed(): number {
    return this.#sealed.count;
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
    if (!this.#sealed.noteRemoved(path) && !held) return false;
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
    const written = await this.#sealed.write(this.#sealed.units(this.#sorted));
    const { leaving, back } = this.#sealed.settle(written, (path) => this.#byPath.get(path));
    // Applied in one pass each: a first save after months seals ~170,000 entries at once.
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
    if (leaving.size > 0) {
      this.#onSeal?.({ entries: leaving.size, held: sorted.length, sealed: this.#sealed.count });
    }
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

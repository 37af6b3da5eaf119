/**
 * The manifest of finished Parquet files: `{data_dir}/_manifest/checksums.json`, one entry per file with its
 * sha256, row count, size and time range, for tools without Deno.
 *
 * The ledger (lib/ledger/) is the authority on committed files; this file mirrors it. At start the app writes it
 * from the ledger (after adding the entries of a data directory recorded before the ledger existed) and keeps
 * the loaded copy in memory, where flushes, compaction and cloud sync add and remove entries; a flush saves it
 * at most every 5 minutes, and recovery and the stop save it too (atomically: temp file, rename). Tools read it
 * when they run without the ledger (`export`, the run summary, `verify` on a data directory without one).
 * @module
 */

import type { Market } from "../binance/types.ts";
import { writeFileAtomic } from "./atomic_file.ts";
import { manifestPath } from "./layout.ts";
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

const VERSION = 1;

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
 * In-memory manifest keyed by relative path, saved atomically (temp file + rename).
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
  readonly #entries: Map<string, ManifestEntry>;

  private constructor(readonly dataDir: string, entries: Map<string, ManifestEntry>) {
    this.#entries = entries;
  }

  /** Loads `{dataDir}/_manifest/checksums.json`; an absent file gives an empty manifest. */
  static async load(dataDir: string): Promise<Manifest> {
    const path = manifestPath(dataDir);
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return new Manifest(dataDir, new Map());
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
    const entries = new Map<string, ManifestEntry>();
    for (const [i, entry] of files.entries()) {
      if (!isEntry(entry)) throw new ManifestError(path, `malformed entry at index ${i}`);
      entries.set(entry.path, entryFields(entry));
    }
    return new Manifest(dataDir, entries);
  }

  /** Number of entries. */
  get size(): number {
    return this.#entries.size;
  }

  /** The entry for a relative path, if any. */
  get(path: string): ManifestEntry | undefined {
    return this.#entries.get(path);
  }

  /** All entries, sorted by path. */
  entries(): ManifestEntry[] {
    return [...this.#entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Adds an entry, replacing any entry with the same path (a file rewritten in place). */
  add(entry: ManifestEntry): void {
    this.#entries.set(entry.path, entryFields(entry));
  }

  /** Removes the entry for `path` (e.g. a part file merged by compaction); false if there was none. */
  remove(path: string): boolean {
    return this.#entries.delete(path);
  }

  /** Writes the manifest atomically, entries sorted by path. */
  async save(): Promise<void> {
    const text = JSON.stringify({ version: VERSION, files: this.entries() }, null, 1) + "\n";
    await writeFileAtomic(manifestPath(this.dataDir), new TextEncoder().encode(text));
  }
}

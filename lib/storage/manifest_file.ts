/**
 * The text of `checksums.json` (manifest.ts), written a directory of files at a time. A directory the manifest
 * has sealed (its entries no longer held in memory) is copied byte for byte from the file the previous save
 * wrote, where the save recorded its place; one whose entries changed since is read back, merged and written
 * again. So a save holds one directory's entries at a time, whatever the number of files recorded.
 *
 * The format is `JSON.stringify({ version: 1, files }, null, 1)`'s: each entry on lines of its own, indented
 * two spaces, entries separated by `,\n  `. A directory's bytes run from its first entry's `{` to its last
 * entry's `}`, so `[` + those bytes + `]` parse as its entries.
 * @module
 */

import type { Market } from "../binance/types.ts";
import type { TableName } from "./tables.ts";
import { concatBytes } from "./parquet_assembler.ts";

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
   * `isoMicros` in manifest.ts).
   */
  first_local_time: string;
  last_local_time: string;
  market: Market;
  table: TableName;
}

/** Where a sealed directory's entries are in the file the last save wrote. */
export interface SealedDir {
  /** The directory (a path's part before its last `/`). */
  dir: string;
  offset: number;
  length: number;
  /** Entries it holds. */
  count: number;
}

/** What tells the file a save wrote apart from one written since by anything else. */
export interface FileIdentity {
  ino: number | null;
  size: number;
  mtimeMs: number | null;
}

/** The identity of a file from its `stat`. */
export function identityOf(info: Deno.FileInfo): FileIdentity {
  return { ino: info.ino, size: info.size, mtimeMs: info.mtime?.getTime() ?? null };
}

/** Whether two identities are of the same file, unchanged. */
export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** Orders paths as the file lists them (by UTF-16 unit: paths of the layout are ASCII). */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A path's directory: its part before the last `/` (empty for a path without one). */
export function dirOf(path: string): string {
  const at = path.lastIndexOf("/");
  return at < 0 ? "" : path.slice(0, at);
}

/**
 * Orders directories as their files' paths are ordered: by `dir + "/"`. For directories that do not nest (the
 * layout's), every path of the first is then before every path of the second.
 */
export function compareDirs(a: string, b: string): number {
  const x = a + "/";
  const y = b + "/";
  return x < y ? -1 : x > y ? 1 : 0;
}

export const VERSION = 1;
const HEAD = `{\n "version": ${VERSION},\n "files": [`;
const TAIL = "\n ]\n}\n";
const SEPARATOR = ",\n  ";
/** The separator's bytes (ASCII). */
const SEPARATOR_BYTES = SEPARATOR.length;
/** Bytes copied from the previous file per piece. */
const COPY_BLOCK = 1 << 20;
/** Characters of rendered entries per piece: a few ms of work on the thread. */
const PIECE_CHARS = 256 << 10;

/**
 * One entry as it appears in the file (after the separator): `JSON.stringify(entry, null, 1)` one level deeper
 * (every line indented by two more spaces), written out field by field rather than stringified with indentation
 * and then re-indented.
 */
function renderEntry(e: ManifestEntry): string {
  const q = JSON.stringify;
  return `{
   "path": ${q(e.path)},
   "sha256": ${q(e.sha256)},
   "rows": ${e.rows},
   "bytes": ${e.bytes},
   "first_local_time": ${q(e.first_local_time)},
   "last_local_time": ${q(e.last_local_time)},
   "market": ${q(e.market)},
   "table": ${q(e.table)}
  }`;
}

/** The entries of a directory's bytes in the file. */
function parseDir(bytes: Uint8Array): ManifestEntry[] {
  return JSON.parse(`[${new TextDecoder().decode(bytes)}]`) as ManifestEntry[];
}

/** One directory of a save, in the file's order. */
export interface DirUnit {
  dir: string;
  /** Its entries held in memory, sorted by path (empty for a sealed directory that did not change). */
  held: readonly ManifestEntry[];
  /** Where its sealed entries are in the previous file, if it is sealed. */
  sealed: SealedDir | null;
  /** Paths removed since it was sealed. */
  removed: ReadonlySet<string>;
}

/** Where the entries of sealed directories come from. */
export interface SealedSource {
  /** Whether the previous file is the one the last save wrote (else every sealed directory is reread). */
  trusted: boolean;
  /**
   * The bytes `[offset, offset + length)` of the previous file (in `into` if given, which must hold them), or
   * null if it ends before.
   */
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array | null>;
  /** A sealed directory's entries from the authority (the ledger), when the previous file cannot be read. */
  reread(dir: string): Promise<ManifestEntry[]>;
}

/** What a save wrote for one directory. */
export interface WrittenDir {
  unit: DirUnit;
  /** The directory's entries, when they were read back and merged (a changed sealed directory). */
  merged: ManifestEntry[] | null;
  /** Its place in the new file, if it is sealed there. */
  sealed: SealedDir | null;
}

/**
 * The file's bytes for `units` (in the file's order), a piece at a time (a piece may be overwritten once the
 * next is asked for); `written` gets each directory's place in the new file. `seal` says whether a directory
 * whose entries were written may leave memory.
 */
export async function* manifestBytes(
  units: readonly DirUnit[],
  source: SealedSource,
  seal: (dir: string, entries: readonly ManifestEntry[]) => boolean,
  written: WrittenDir[],
): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  /** Bytes yielded so far. */
  let at = 0;
  /** Bytes made and not yet yielded, and text rendered and not yet encoded (after them). */
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let text = HEAD;
  let any = false;
  /** A run of unchanged sealed directories, contiguous in the previous file, copied in one go from `at`. */
  let copy: { from: number; to: number } | null = null;
  let copyBuffer: Uint8Array | null = null;
  const encodeText = () => {
    if (text === "") return;
    const bytes = encoder.encode(text);
    text = "";
    pending.push(bytes);
    pendingBytes += bytes.length;
  };
  /** Where the next byte goes in the file. */
  const position = () => (encodeText(), at + pendingBytes);
  const flush = function* (): Generator<Uint8Array> {
    encodeText();
    if (pendingBytes === 0) return;
    const bytes = pending.length === 1 ? pending[0]! : concatBytes(pending);
    pending = [];
    pendingBytes = 0;
    at += bytes.length;
    yield bytes;
  };
  const flushCopy = async function* (): AsyncGenerator<Uint8Array> {
    if (copy === null) return;
    const { from, to } = copy;
    copy = null;
    // One buffer for every block: each piece is written before the next is asked for, and a block allocated
    // each time made a year's save allocate 62 MiB that V8 collected with a full GC per save.
    copyBuffer ??= new Uint8Array(COPY_BLOCK);
    for (let p = from; p < to; p += COPY_BLOCK) {
      const bytes = await source.read(p, Math.min(COPY_BLOCK, to - p), copyBuffer);
      if (bytes === null) throw new SealedSourceChanged();
      at += bytes.length;
      yield bytes;
    }
  };
  for (const unit of units) {
    const s = unit.sealed;
    if (s !== null && source.trusted && unit.held.length === 0 && unit.removed.size === 0) {
      // Unchanged: its bytes as they are, joined to the run before it if they follow it in the previous file
      // (the separator between them comes along).
      if (copy === null || copy.to + SEPARATOR_BYTES !== s.offset) {
        yield* flushCopy();
        text += any ? SEPARATOR : "\n  ";
        yield* flush();
        copy = { from: s.offset, to: s.offset };
      }
      copy.to = s.offset + s.length;
      any = true;
      written.push({ unit, merged: null, sealed: { ...s, offset: at + (s.offset - copy.from) } });
      continue;
    }
    yield* flushCopy();
    const merged = s === null ? null : await mergeSealed(unit, s, source);
    const entries = merged ?? unit.held;
    if (entries.length === 0) {
      // Every entry of a sealed directory removed: nothing of it is written.
      written.push({ unit, merged, sealed: null });
      continue;
    }
    text += any ? SEPARATOR : "\n  ";
    any = true;
    const start = position();
    for (let i = 0; i < entries.length; i++) {
      text += (i === 0 ? "" : SEPARATOR) + renderEntry(entries[i]!);
      if (text.length >= PIECE_CHARS) encodeText();
      if (pendingBytes >= PIECE_CHARS) yield* flush();
    }
    const sealed = seal(unit.dir, entries)
      ? { dir: unit.dir, offset: start, length: position() - start, count: entries.length }
      : null;
    written.push({ unit, merged, sealed });
  }
  yield* flushCopy();
  text += any ? TAIL : "]\n}\n";
  yield* flush();
}

/** A sealed directory's entries, less those removed, with the held ones in their place (held win). */
async function mergeSealed(unit: DirUnit, s: SealedDir, source: SealedSource): Promise<ManifestEntry[]> {
  const bytes = source.trusted ? await source.read(s.offset, s.length) : null;
  const sealed = bytes === null ? await source.reread(unit.dir) : parseDir(bytes);
  const byPath = new Map<string, ManifestEntry>();
  for (const e of sealed) if (!unit.removed.has(e.path)) byPath.set(e.path, e);
  for (const e of unit.held) byPath.set(e.path, e);
  return [...byPath.values()].sort((a, b) => comparePaths(a.path, b.path));
}

/** The previous file changed while a save copied from it. */
export class SealedSourceChanged extends Error {
  constructor() {
    super("checksums.json changed while sealed entries were copied from it");
    this.name = "SealedSourceChanged";
  }
}

/**
 * The directories of files a `Manifest` no longer holds in memory: where each one's entries are in
 * the `checksums.json` the last save wrote, the paths removed from them since, and that file's identity. A save
 * (manifest_file.ts) copies them from that file, or reads them back when they changed; afterwards
 * {@linkcode SealedDirs.settle} says which held entries leave memory and which come back.
 * @module
 */

import { writeFileAtomic } from "./atomic_file.ts";
import { parseParquetPath } from "./layout.ts";
import {
  compareDirs,
  dirOf,
  type DirUnit,
  type FileIdentity,
  identityOf,
  manifestBytes,
  type ManifestEntry,
  sameIdentity,
  type SealedDir,
  type SealedSource,
  SealedSourceChanged,
  type WrittenDir,
} from "./manifest_file.ts";

/**
 * Which directories of files a save may leave on disk only: given a directory and all its entries, true to
 * seal it (see {@linkcode ManifestOptions}).
 */
export type SealPolicy = (dir: string, entries: readonly ManifestEntry[]) => boolean;

/** How a `Manifest` bounds its memory. */
export interface ManifestOptions {
  /**
   * Directories a save seals: their entries stay in the file, copied from one save to the next, and leave
   * memory. `Manifest.entries` and `Manifest.get` then see only the entries held. A sealed
   * directory is asked about again only when it changes (an entry added or removed).
   */
  seal?: SealPolicy;
  /**
   * A sealed directory's entries from the authority (the ledger), when the file no longer is the one the last
   * save wrote. Without it, such a save fails.
   */
  reread?: (dir: string) => Promise<ManifestEntry[]>;
  /** Called after a save that sealed entries: how many left memory, and the counts after (for a log line). */
  onSeal?: (counts: { entries: number; held: number; sealed: number }) => void;
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

/** The previous file cannot be trusted and nothing else holds the sealed entries. */
export class SealedEntriesLost extends Error {
  constructor(readonly path: string) {
    super(`${path} changed since it was saved, and its sealed entries are nowhere else`);
    this.name = "SealedEntriesLost";
  }
}

/** What a save leaves the holder of the entries to do. */
export interface Settled {
  /** Held entries now sealed: to drop. */
  leaving: Set<ManifestEntry>;
  /** Entries of directories no longer sealed: to hold again. */
  back: ManifestEntry[];
}

/** The removals of a directory that has none (most of them, at every save). */
const NONE_REMOVED: ReadonlySet<string> = new Set();

/** The sealed directories of one manifest file. */
export class SealedDirs {
  /** In the file's order, and by name. */
  #list: SealedDir[] = [];
  #byDir = new Map<string, SealedDir>();
  /** Paths removed from sealed directories since the last save, by directory. */
  readonly #removed = new Map<string, Set<string>>();
  /** The file as the last save left it. */
  #written: FileIdentity | null = null;
  readonly #seal: SealPolicy | null;
  readonly #reread: ((dir: string) => Promise<ManifestEntry[]>) | null;

  constructor(readonly path: string, options: ManifestOptions) {
    this.#seal = options.seal ?? null;
    this.#reread = options.reread ?? null;
  }

  /** Entries in sealed directories, as of the last save. */
  get count(): number {
    let n = 0;
    for (const s of this.#list) n += s.count;
    return n;
  }

  /** Notes that `path` was removed: true if its directory is sealed (the next save drops it there). */
  noteRemoved(path: string): boolean {
    const dir = dirOf(path);
    if (!this.#byDir.has(dir)) return false;
    this.#pendingRemoval(dir, path);
    return true;
  }

  /** The file's directories, in its order: `held` (sorted by path) grouped by directory, and the sealed ones. */
  units(held: readonly ManifestEntry[]): DirUnit[] {
    const sealed = this.#list;
    // Nothing to seal: one unit of every entry (grouping a year's 175,000 paths took 30 ms of the thread).
    if (this.#seal === null && sealed.length === 0) {
      return held.length === 0 ? [] : [{ dir: "", held: held.slice(), sealed: null, removed: NONE_REMOVED }];
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
        removed: this.#removed.has(name) ? new Set(this.#removed.get(name)) : NONE_REMOVED,
      });
      i = j;
      if (c >= 0) k++;
    }
    return units;
  }

  /** Writes the file of `units` atomically; what was written is for {@link settle}. */
  async write(units: readonly DirUnit[]): Promise<WrittenDir[]> {
    const path = this.path;
    let previous: Deno.FsFile | null = null;
    let trusted = false;
    if (this.#list.length > 0) {
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
        throw new SealedEntriesLost(path);
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
    return written;
  }

  /**
   * After a save: the sealed directories' new places, and the entries that leave memory or come back. `held`
   * gives the entry held now for a path (the save's were taken when it started).
   */
  settle(written: readonly WrittenDir[], held: (path: string) => ManifestEntry | undefined): Settled {
    const seen = new Map<string, number>();
    for (const w of written) seen.set(w.unit.dir, (seen.get(w.unit.dir) ?? 0) + 1);
    const list: SealedDir[] = [];
    const settled: Settled = { leaving: new Set(), back: [] };
    for (const { unit, merged, sealed: place } of written) {
      const pending = this.#removed.get(unit.dir);
      for (const p of unit.removed) pending?.delete(p);
      // Held entries of a directory split by another's files (nested directories) are not sealed: one place per
      // directory.
      if (place !== null && (unit.sealed !== null || seen.get(unit.dir) === 1)) {
        list.push(place);
        for (const e of unit.held) {
          const now = held(e.path);
          if (now === e) settled.leaving.add(e);
          // Removed while the save ran, after it was written: the next save drops it.
          else if (now === undefined) this.#pendingRemoval(unit.dir, e.path);
        }
      } else {
        // Held again (no longer settled, or split): what the file had comes back to memory.
        for (const e of merged ?? []) {
          if (held(e.path) === undefined && !pending?.has(e.path)) settled.back.push(e);
        }
        this.#removed.delete(unit.dir);
      }
      if (pending?.size === 0) this.#removed.delete(unit.dir);
    }
    this.#list = list;
    this.#byDir = new Map(list.map((s) => [s.dir, s]));
    return settled;
  }

  #pendingRemoval(dir: string, path: string): void {
    const removed = this.#removed.get(dir) ?? new Set();
    removed.add(path);
    this.#removed.set(dir, removed);
  }
}

/**
 * `pieces`, then the previous file closed (`close`): before the rename replaces it. Closing the last descriptor
 * of a file already replaced frees its pages in the call, on the collector's thread (14–18 ms for a year's 62
 * MiB).
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

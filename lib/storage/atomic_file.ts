/**
 * Crash-safe file replacement: readers see either the old file or the whole new one, never a partial file. Also
 * the existence test the writers' callers need.
 * @module
 */

import { dirname, join } from "node:path";

const TEMP_SUFFIX = /\.tmp-[0-9a-f]{16}$/;

/** Whether `path` exists (anything but "not found" is an error, thrown). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Whether `name` is a temp file left by {@linkcode writeFileAtomic} (e.g. after a crash). */
export function isTempFile(name: string): boolean {
  return TEMP_SUFFIX.test(name);
}

/** Writes all of `bytes` to `file` (a write may take only part of them). */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

/** A fresh `.tmp-<16 hex digits>` suffix, which {@linkcode isTempFile} recognises. */
export function tempSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return ".tmp-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Fsyncs a directory so a rename or create inside it survives power loss. Silently skipped where directories
 * cannot be opened or synced (e.g. Windows); the data itself was already fsynced.
 */
export async function syncDir(dir: string): Promise<void> {
  let handle: Deno.FsFile;
  try {
    handle = await Deno.open(dir, { read: true });
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch {
    // Directory fsync is unsupported here; nothing more can be done.
  } finally {
    handle.close();
  }
}

/**
 * Writes `bytes` to `path` atomically: parent dirs are created, the data goes to `path.tmp-<random>`, is
 * fsynced, renamed over `path`, and the directory is fsynced. On failure the temp file is removed. The bytes may
 * come in pieces made as they are written (an async iterable), so a big file is never whole in memory nor made
 * in one synchronous step.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/checksums.json`, new TextEncoder().encode("{}")); // readers see old or new
 * await Deno.readTextFile(`${dir}/checksums.json`); // "{}"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array | AsyncIterable<Uint8Array>,
): Promise<void> {
  const dir = dirname(path);
  await Deno.mkdir(dir, { recursive: true });
  const tmp = path + tempSuffix();
  try {
    const file = await Deno.open(tmp, { write: true, createNew: true });
    try {
      for await (const piece of bytes instanceof Uint8Array ? [bytes] : bytes) await writeAll(file, piece);
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  await syncDir(dir);
}

/**
 * Removes the temp files a crash left under `root` (recursively) and returns their paths. A missing `root` is
 * not an error. Run at start-up, before anything writes.
 */
export async function removeTempFiles(root: string): Promise<string[]> {
  const removed: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile && isTempFile(entry.name)) {
        await Deno.remove(path);
        removed.push(path);
      }
    }
  };
  try {
    await walk(root);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return removed;
}

/**
 * {@linkcode writeFileAtomic} for a file written piece by piece: the pieces go to a temp file beside `path`;
 * {@link commit} fsyncs it, renames it over `path` and fsyncs the directory; {@link abort} removes it.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * const pieces = [new TextEncoder().encode("PAR1"), new TextEncoder().encode("…")];
 * const out = await AtomicFileWriter.open(`${dir}/x.parquet`);
 * try {
 *   for (const piece of pieces) await out.write(piece);
 *   await out.commit();
 * } catch (err) {
 *   await out.abort();
 *   throw err;
 * }
 * (await Deno.stat(`${dir}/x.parquet`)).size; // 7
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class AtomicFileWriter {
  #done = false;

  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly file: Deno.FsFile,
  ) {}

  /** Creates the temp file (and the parent directories). */
  static async open(path: string): Promise<AtomicFileWriter> {
    await Deno.mkdir(dirname(path), { recursive: true });
    const tmp = path + tempSuffix();
    return new AtomicFileWriter(path, tmp, await Deno.open(tmp, { write: true, createNew: true }));
  }

  /** Appends `bytes`. */
  async write(bytes: Uint8Array): Promise<void> {
    await writeAll(this.file, bytes);
  }

  /** Makes the file durable and visible at its path. */
  async commit(): Promise<void> {
    try {
      await this.file.sync();
    } finally {
      this.#close();
    }
    await Deno.rename(this.tmp, this.path);
    await syncDir(dirname(this.path));
  }

  /** Drops the temp file (after a failure); never throws. */
  async abort(): Promise<void> {
    this.#close();
    await Deno.remove(this.tmp).catch(() => {});
  }

  #close(): void {
    if (this.#done) return;
    this.#done = true;
    this.file.close();
  }
}

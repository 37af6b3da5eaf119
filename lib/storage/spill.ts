/**
 * Encoded chunks parked on disk until the flush that writes their file. The Parquet jobs append each chunk's
 * Parquet bytes to the spill file of its slot (market, table, hour, flush) and the flush assembles the file
 * from them, so what the collector holds between flushes is the rows still buffering, not a flush interval of
 * encoded chunks. Spill files are temp files (atomic_file.ts): a crash leaves them to start-up's clean-up, and
 * the journal still holds their rows.
 * @module
 */

import { dirname } from "node:path";
import { tempSuffix, writeAll } from "./atomic_file.ts";

/** Where an encoded chunk (a whole Parquet file) lies inside a spill file. */
export interface SpilledSegment {
  path: string;
  offset: number;
  length: number;
}

/**
 * Appends segments to spill files, one after another per file. The files of one writer are its own: their
 * names end in its random temp suffix, so a worker started after one died never writes into the dead one's
 * files (whose late writes could land anywhere).
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * const spills = new SpillWriter();
 * const [a, b] = await Promise.all([
 *   spills.append(`${dir}/spot-trades-0`, new Uint8Array([1, 2, 3])),
 *   spills.append(`${dir}/spot-trades-0`, new Uint8Array([4, 5])),
 * ]);
 * [a.offset, b.offset, b.length]; // [0, 3, 2]
 * (await Deno.readFile(a.path)).length; // 5
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SpillWriter {
  readonly #suffix = tempSuffix();
  /** Next offset of each file (a failed append's range stays reserved: nothing refers to it). */
  readonly #ends = new Map<string, number>();
  /** The last append to each file, which the next one waits for. */
  readonly #tails = new Map<string, Promise<void>>();

  /** Appends `bytes` to the spill file named `prefix` (its directory is created when missing). */
  append(prefix: string, bytes: Uint8Array): Promise<SpilledSegment> {
    const path = prefix + this.#suffix;
    const offset = this.#ends.get(path) ?? 0;
    this.#ends.set(path, offset + bytes.length);
    const done = (this.#tails.get(path) ?? Promise.resolve()).then(() =>
      writeAt(path, offset, bytes).catch((err) => {
        throw new Error(`Cannot spill to ${path}: ${err instanceof Error ? err.message : err}`, {
          cause: err,
        });
      })
    );
    this.#tails.set(path, done.catch(() => {}));
    return done.then(() => ({ path, offset, length: bytes.length }));
  }

  /** Removes the spill file at `path` (its segments are in a committed file); never throws. */
  async remove(path: string): Promise<void> {
    this.#ends.delete(path);
    this.#tails.delete(path);
    await Deno.remove(path).catch(() => {});
  }
}

async function writeAt(path: string, offset: number, bytes: Uint8Array): Promise<void> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { write: true, create: true });
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    await Deno.mkdir(dirname(path), { recursive: true });
    file = await Deno.open(path, { write: true, create: true });
  }
  try {
    await file.seek(offset, Deno.SeekMode.Start);
    await writeAll(file, bytes);
  } finally {
    file.close();
  }
}

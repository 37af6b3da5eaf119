/**
 * The CPU-heavy Parquet work of the collector, behind one interface: encoding buffered rows (sort, Arrow,
 * Parquet) into a spill file (spill.ts), assembling a flush's spilled chunks into a file (stitch, sha256, temp
 * file, fsync, rename) and merging files (compaction). {@link inlineJobs} runs them in the calling thread (tools,
 * tests); the collector runs them in a worker (parquet_encoder.ts), so the thread that reads sockets and writes
 * the journal only hands typed arrays over.
 * @module
 */

import { createHash } from "node:crypto";
import { AtomicFileWriter } from "./atomic_file.ts";
import { encodeChunk, FLUSH_ROW_GROUPS } from "./chunk_encoder.ts";
import type { RawChunk } from "./column_buffer.ts";
import { mergeParquetFiles, type MergeRequest, type MergeResult } from "./hour_merge.ts";
import { type ByteSource, fileSource, ParquetAssembler, windowSource } from "./parquet_container.ts";
import { type SpilledSegment, SpillWriter } from "./spill.ts";

/**
 * An encoded chunk: where its Parquet bytes were spilled, its rows' count per symbol, and the chunk's arrays
 * back (for reuse).
 */
export interface EncodedChunk {
  spilled: SpilledSegment;
  /** The symbols of the rows, in file order, and how many rows each has. */
  symbols: string[];
  rows: number[];
  chunk: RawChunk;
}

/** A file written by {@link ParquetJobs.writeFile}. */
export interface WrittenFile {
  sha256: string;
  bytes: number;
}

/** Encoding failed; the rows are handed back (`chunk`), unless the worker holding them died. */
export class EncodeError extends Error {
  constructor(message: string, readonly chunk: RawChunk | null) {
    super(`Cannot encode Parquet: ${message}`);
    this.name = "EncodeError";
  }
}

/** The Parquet work a table store and the compaction need. */
export interface ParquetJobs {
  /**
   * Sorts `chunk` by symbol, encodes it with row groups cut at symbol changes and appends it to the spill file
   * named `spill` (a path without its temp suffix).
   */
  encodeChunk(chunk: RawChunk, spill: string): Promise<EncodedChunk>;
  /**
   * Stitches spilled chunks (Parquet files of one table) into one file written atomically at `path`, then
   * removes their spill files (each holds chunks of this file only).
   */
  writeFile(path: string, segments: readonly SpilledSegment[]): Promise<WrittenFile>;
  /** Merges files (hour_merge.ts). */
  merge(req: MergeRequest): Promise<MergeResult>;
}

/** This thread's spill files. */
const spills = new SpillWriter();

/** Encodes a chunk into a spill file (throws {@link EncodeError} holding the chunk). */
export async function encodeJob(chunk: RawChunk, spill: string): Promise<EncodedChunk> {
  try {
    const { segment, symbols, rows } = await encodeChunk(chunk, FLUSH_ROW_GROUPS);
    return { spilled: await spills.append(spill, segment), symbols, rows, chunk };
  } catch (err) {
    throw new EncodeError(err instanceof Error ? err.message : String(err), chunk);
  }
}

/**
 * Writes the spilled segments stitched into one file, a row group at a time, hashing the bytes as they go out;
 * the spill files are removed once the file is committed.
 */
export async function writeJob(path: string, segments: readonly SpilledSegment[]): Promise<WrittenFile> {
  if (segments.length === 0) throw new RangeError(`Cannot write ${path}: no rows`);
  const hash = createHash("sha256");
  let bytes = 0;
  const opened = new Map<string, { file: Deno.FsFile; src: ByteSource | null }>();
  const out = await AtomicFileWriter.open(path);
  const put = (piece: Uint8Array) => {
    hash.update(piece);
    bytes += piece.length;
    return out.write(piece);
  };
  try {
    const asm = new ParquetAssembler();
    await put(asm.head());
    for (const s of segments) {
      let spill = opened.get(s.path);
      if (!spill) {
        const file = await Deno.open(s.path, { read: true });
        opened.set(s.path, spill = { file, src: null });
        spill.src = await fileSource(file);
      }
      for (const piece of await asm.add(windowSource(spill.src!, s.offset, s.length))) await put(piece);
    }
    await put(asm.finish());
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  } finally {
    for (const { file } of opened.values()) file.close();
  }
  for (const p of opened.keys()) await spills.remove(p);
  return { sha256: hash.digest("hex"), bytes };
}

/** The jobs in the calling thread. */
export const inlineJobs: ParquetJobs = {
  encodeChunk: encodeJob,
  writeFile: writeJob,
  merge: mergeParquetFiles,
};

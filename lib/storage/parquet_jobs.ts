/**
 * The CPU-heavy Parquet work of the collector, behind one interface: encoding buffered rows (sort, Arrow,
 * Parquet), assembling a flush's encoded chunks into a file (stitch, sha256, temp file, fsync, rename) and
 * merging files (compaction). {@link inlineJobs} runs them in the calling thread (tools, tests); the collector
 * runs them in a worker (parquet_encoder.ts), so the thread that reads sockets and writes the journal only
 * hands typed arrays over.
 * @module
 */

import { createHash } from "node:crypto";
import { writeFileAtomic } from "./atomic_file.ts";
import { encodeChunk, type EncodedRows, FLUSH_ROW_GROUPS } from "./chunk_encoder.ts";
import type { RawChunk } from "./column_buffer.ts";
import { mergeParquetFiles, type MergeRequest, type MergeResult } from "./hour_merge.ts";
import { stitchParquet } from "./parquet_container.ts";

/** An encoded chunk: a Parquet file of its rows, their count per symbol, and the chunk's arrays back (for reuse). */
export interface EncodedChunk extends EncodedRows {
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
  /** Sorts `chunk` by symbol and encodes it with row groups cut at symbol changes. */
  encodeChunk(chunk: RawChunk): Promise<EncodedChunk>;
  /** Stitches encoded chunks (Parquet files of one table) into one file written atomically at `path`. */
  writeFile(path: string, segments: readonly Uint8Array[]): Promise<WrittenFile>;
  /** Merges files (hour_merge.ts). */
  merge(req: MergeRequest): Promise<MergeResult>;
}

/** Encodes a chunk (throws {@link EncodeError} holding the chunk). */
export async function encodeJob(chunk: RawChunk): Promise<EncodedChunk> {
  try {
    return { ...await encodeChunk(chunk, FLUSH_ROW_GROUPS), chunk };
  } catch (err) {
    throw new EncodeError(err instanceof Error ? err.message : String(err), chunk);
  }
}

/** Writes the stitched segments atomically and hashes them. */
export async function writeJob(path: string, segments: readonly Uint8Array[]): Promise<WrittenFile> {
  if (segments.length === 0) throw new RangeError(`Cannot write ${path}: no rows`);
  const bytes = segments.length === 1 ? segments[0]! : await stitchParquet(segments);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  await writeFileAtomic(path, bytes);
  return { sha256, bytes: bytes.length };
}

/** The jobs in the calling thread. */
export const inlineJobs: ParquetJobs = {
  encodeChunk: encodeJob,
  writeFile: writeJob,
  merge: mergeParquetFiles,
};

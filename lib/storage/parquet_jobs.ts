/**
 * The CPU-heavy Parquet work of the collector, behind one interface: encoding buffered rows (sort, Arrow,
 * Parquet) into a spill file (spill.ts), assembling a flush's spilled chunks into a file (stitch, sha256, temp
 * file, fsync, rename) and merging files (compaction). {@link inlineJobs} runs them in the calling thread (tools,
 * tests); the collector runs them in a worker (parquet_encoder.ts), so the thread that reads sockets and writes
 * the journal only hands typed arrays over. The work itself is in flush_jobs.ts and hour_merge.ts.
 * @module
 */

import type { EncodedRows } from "./chunk_encoder.ts";
import type { RawChunk } from "./column_buffer.ts";
import type { MergeRequest, MergeResult } from "./hour_merge.ts";
import type { SpilledSegment } from "./spill.ts";

/** An encoded chunk: where its Parquet bytes were spilled, its rows per symbol, and its arrays back (for reuse). */
export interface EncodedChunk extends Omit<EncodedRows, "segment"> {
  spilled: SpilledSegment;
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

/**
 * The jobs in the calling thread (tools, tests). Their modules (parquet-wasm, apache-arrow) are loaded on first
 * use: the collector's main thread, whose jobs run in a worker, never loads them (parquet-wasm alone adds ~23
 * MiB to a bare Deno process's RSS).
 */
export const inlineJobs: ParquetJobs = {
  encodeChunk: async (chunk, spill) => (await import("./flush_jobs.ts")).encodeJob(chunk, spill),
  writeFile: async (path, segments) => (await import("./flush_jobs.ts")).writeJob(path, segments),
  merge: async (req) => (await import("./hour_merge.ts")).mergeParquetFiles(req),
};

/**
 * The flush's Parquet work, run by the Parquet worker (parquet_worker.ts) or in the calling thread
 * (`inlineJobs`, parquet_jobs.ts): encoding a chunk of rows into its spill file, and writing a file from
 * spilled chunks.
 * @module
 */

import { createHash } from "node:crypto";
import { AtomicFileWriter } from "./atomic_file.ts";
import { encodeChunk, FLUSH_ROW_GROUPS } from "./chunk_encoder.ts";
import type { RawChunk } from "./column_buffer.ts";
import { freeBytes } from "./free_buffers.ts";
import { ParquetAssembler } from "./parquet_assembler.ts";
import { type ByteSource, fileSource, windowSource } from "./parquet_footer.ts";
import { type EncodedChunk, EncodeError, type WrittenFile } from "./parquet_jobs.ts";
import { type SpilledSegment, SpillWriter } from "./spill.ts";

/** This thread's spill files. */
const spills = new SpillWriter();

/** Encodes a chunk into a spill file (throws {@link EncodeError} holding the chunk). */
export async function encodeJob(chunk: RawChunk, spill: string): Promise<EncodedChunk> {
  try {
    const { segment, symbols, rows } = await encodeChunk(chunk, FLUSH_ROW_GROUPS);
    const spilled = await spills.append(spill, segment);
    freeBytes(segment); // on disk now (free_buffers.ts)
    return { spilled, symbols, rows, chunk };
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
  const files: Deno.FsFile[] = [];
  const sources = new Map<string, ByteSource>();
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
      let src = sources.get(s.path);
      if (!src) {
        const file = await Deno.open(s.path, { read: true });
        files.push(file);
        sources.set(s.path, src = await fileSource(file));
      }
      // Each piece is a fresh read of a row group (a file source's), dead once written.
      for (const piece of await asm.add(windowSource(src, s.offset, s.length))) {
        await put(piece);
        freeBytes(piece);
      }
    }
    await put(asm.finish());
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  } finally {
    for (const file of files) file.close();
  }
  for (const path of sources.keys()) await spills.remove(path);
  return { sha256: hash.digest("hex"), bytes };
}

/**
 * The output side of a merge (hour_merge.ts): each window's rows are sorted and appended as row groups to a
 * Parquet file assembled piece by piece (parquet_assembler.ts), written either to the target's temp file,
 * hashed on the way, or to a first pass's sorted temp file. Kept apart so that the merge passes only say which
 * rows go in which window, not how they become bytes.
 * @module
 */

import { createHash } from "node:crypto";
import { dirname } from "node:path";
import * as pq from "parquet-wasm";
import { tempSuffix, writeAll } from "./atomic_file.ts";
import { planRowGroups, type RowGroupSizes, symbolOrder, writeParts } from "./chunk_encoder.ts";
import type { RawChunk } from "./column_buffer.ts";
import { ParquetAssembler } from "./parquet_assembler.ts";
import { RawAppender } from "./raw_appender.ts";
import type { TableName } from "./tables.ts";

/** Where merged row groups are written. */
interface Sink {
  write(bytes: Uint8Array): Promise<void>;
}

/** The target's bytes, hashed and counted on their way to its temp file. */
export class HashedSink implements Sink {
  readonly hash = createHash("sha256");
  bytes = 0;

  constructor(readonly out: Sink) {}

  async write(bytes: Uint8Array): Promise<void> {
    this.hash.update(bytes);
    this.bytes += bytes.length;
    await this.out.write(bytes);
  }
}

/** The merged output: row groups appended to the sink as they are encoded. */
export class MergedFile {
  readonly asm = new ParquetAssembler();
  minTime = Infinity;
  maxTime = -Infinity;

  constructor(
    readonly out: Sink,
    readonly sizes: RowGroupSizes,
    readonly compression: pq.Compression = pq.Compression.ZSTD,
  ) {}

  write(piece: Uint8Array): Promise<void> {
    return this.out.write(piece);
  }

  /**
   * Sorts `chunk` and appends its row groups; with `keepTail`, a last group smaller than the minimum is not
   * written but handed back (as an appender holding its rows) to start the next window.
   */
  async appendSorted(chunk: RawChunk, keepTail: boolean, table: TableName): Promise<RawAppender> {
    const next = new RawAppender(table);
    if (chunk.rows === 0) return next;
    const { order, runs } = symbolOrder(chunk);
    const perRow = chunk.bytes / chunk.rows;
    const groups = planRowGroups(runs, perRow, this.sizes);
    const last = groups[groups.length - 1]!;
    if (keepTail && (last[1] - last[0]) * perRow < this.sizes.minBytes) {
      groups.pop();
      next.appendRaw(chunk, order, last[0], last[1]);
    }
    await writeParts(this.asm, chunk, order, groups, (piece) => this.write(piece), this.compression);
    this.minTime = Math.min(this.minTime, chunk.minTime);
    this.maxTime = Math.max(this.maxTime, chunk.maxTime);
    return next;
  }
}

/** Appends the rows of `acc` to `merged` ({@link MergedFile.appendSorted}); the tail's appender gets their room. */
export async function appendWindow(
  merged: MergedFile,
  acc: RawAppender,
  keepTail: boolean,
  table: TableName,
): Promise<RawAppender> {
  const chunk = acc.take();
  const next = await merged.appendSorted(chunk, keepTail, table);
  next.recycle(chunk);
  return next;
}

/** A first pass's output: a sorted temp file beside the target, read by the next pass, then removed. */
export class RunFile implements Sink {
  private constructor(readonly path: string, readonly file: Deno.FsFile) {}

  static async create(target: string): Promise<RunFile> {
    const path = target + tempSuffix();
    await Deno.mkdir(dirname(path), { recursive: true });
    return new RunFile(path, await Deno.open(path, { read: true, write: true, createNew: true }));
  }

  write(bytes: Uint8Array): Promise<void> {
    return writeAll(this.file, bytes);
  }

  /** Closes and removes the file; never throws. */
  async remove(): Promise<void> {
    try {
      this.file.close();
    } catch {
      // Closed already.
    }
    await Deno.remove(this.path).catch(() => {});
  }
}

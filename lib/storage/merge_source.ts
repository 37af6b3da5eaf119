/**
 * The input side of a merge (hour_merge.ts): each source file is checked against its manifest entry before
 * anything of it is read, its footer planned into row groups with symbol ranges (merge_plan.ts), and its row
 * groups decoded as the windows need them. Kept apart so that the merge passes deal in slices of planned
 * groups rather than in footers, statistics and checksums.
 * @module
 */

import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm";
import { compareSymbols } from "./chunk_encoder.ts";
import { fixedRowBytes } from "./column_buffer.ts";
import { freeBytes, freeTable } from "./free_buffers.ts";
import { hashOpenFile } from "./manifest_entry.ts";
import type { PlannedGroup } from "./merge_plan.ts";
import { extractRowGroups } from "./parquet_assembler.ts";
import {
  type ByteSource,
  type FileFooter,
  fileSource,
  readFileFooter,
  type RowGroupInfo,
} from "./parquet_footer.ts";
import { symbolIndices } from "./raw_appender.ts";
import { type TableName, TABLES } from "./tables.ts";

/** One file to merge, with what its manifest entry says it is (checked before anything is read). */
export interface MergeSource {
  path: string;
  bytes: number;
  sha256: string;
  rows: number;
}

/** A source does not match its manifest entry, or cannot be read as Parquet of the layout. */
export class MergeSourceError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path} ${message}`);
    this.name = "MergeSourceError";
  }
}

type Group = RowGroupInfo & PlannedGroup;

/** An open file of a merge (a source, or a first pass's run file) with its planned row groups. */
export interface OpenSource {
  file: Deno.FsFile;
  src: ByteSource;
  footer: FileFooter;
  groups: Group[];
}

/** The groups of a source that one merge reads. */
export interface Slice {
  o: OpenSource;
  groups: Group[];
}

const utf8 = new TextDecoder();

/** Rows of `groups`. */
export const rowsIn = (groups: readonly Group[]) => groups.reduce((n, g) => n + g.rows, 0);

/** Reads the footer of an open file and plans its groups (symbol ranges from statistics, decoded size). */
export async function describeFile(file: Deno.FsFile, table: TableName): Promise<OpenSource> {
  const src = await fileSource(file);
  const footer = await readFileFooter(src);
  const rowBytes = fixedRowBytes(TABLES[table]);
  const groups = footer.groups.map((g) => ({
    ...g,
    lo: g.keyStats.min ? utf8.decode(g.keyStats.min) : null,
    hi: g.keyStats.max ? utf8.decode(g.keyStats.max) : null,
    // Decoded rows take at least their fixed-width columns; lists (book levels) about their Parquet size.
    bytes: Math.max(g.rows * rowBytes, g.uncompressedBytes),
  }));
  return { file, src, footer, groups };
}

/** Hashes a file and compares it with its entry. */
async function checkSource(s: MergeSource, file: Deno.FsFile): Promise<void> {
  const { sha256, bytes } = await hashOpenFile(file);
  if (bytes !== s.bytes || sha256 !== s.sha256) {
    throw new MergeSourceError(s.path, "does not match its manifest checksum");
  }
}

/** Opens a source, checks it against its entry (size, sha256, rows) and plans its groups; closed if it fails. */
export async function openSource(s: MergeSource, table: TableName): Promise<OpenSource> {
  const file = await Deno.open(s.path, { read: true });
  try {
    await checkSource(s, file);
    const o = await describeFile(file, table);
    const rows = rowsIn(o.groups);
    if (rows !== s.rows) throw new MergeSourceError(s.path, `has ${rows} rows, manifest says ${s.rows}`);
    return o;
  } catch (err) {
    file.close();
    throw err;
  }
}

/**
 * Decodes row groups `only` of a source (all columns, or those named) as one Arrow table, which the caller owns
 * (and may free with {@link freeTable} once its rows are copied).
 */
export async function readGroups(o: OpenSource, only: number[], columns?: string[]): Promise<arrow.Table> {
  const mini = await extractRowGroups(o.src, o.footer, only);
  const rows = only.reduce((n, i) => n + o.groups[i]!.rows, 0);
  const wasm = pq.readParquet(mini, { batchSize: Math.max(rows, 1), columns });
  freeBytes(mini);
  return arrow.tableFromIPC(wasm.intoIPCStream());
}

/**
 * Gives the row groups without statistics their symbol range, read from their symbol column (a group with no
 * rows keeps none), so that every group is planned and skipped by its `lo`/`hi` alike.
 */
export async function fillRanges(sources: OpenSource[]): Promise<void> {
  for (const o of sources) {
    for (const g of o.groups) {
      if (g.lo !== null && g.hi !== null) continue;
      const decoded = await readGroups(o, [g.index], ["symbol"]);
      for (const batch of decoded.batches) {
        for (const s of symbolIndices(batch).strings) {
          if (g.lo === null || compareSymbols(s, g.lo) < 0) g.lo = s;
          if (g.hi === null || compareSymbols(s, g.hi) > 0) g.hi = s;
        }
      }
      freeTable(decoded);
    }
  }
}

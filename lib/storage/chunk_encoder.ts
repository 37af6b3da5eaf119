/**
 * Buffered rows (a {@link RawChunk}) to Parquet, in the order of the layout: sorted by symbol (a stable counting
 * sort, so each symbol's rows keep their recorded order), with a row group boundary at a symbol change once the
 * group is big enough, and a busy symbol's rows in groups of their own. Readers skip every row group whose
 * `symbol` statistics exclude the one they filter on. CPU-heavy: runs in the Parquet worker.
 * @module
 */

import type * as pq from "parquet-wasm";
import type { RawChunk } from "./column_buffer.ts";
import { freeBytes, freeTable } from "./free_buffers.ts";
import { concatBytes, ParquetAssembler } from "./parquet_assembler.ts";
import { encodeParquet } from "./parquet_file.ts";
import { memorySource } from "./parquet_footer.ts";
import { rawToArrow } from "./raw_arrow.ts";

/** Row-group sizes, in the approximate bytes of buffered rows ({@link RawChunk.bytes}). */
export interface RowGroupSizes {
  /** A group ends at the next symbol change once it holds this much. */
  minBytes: number;
  /** No group holds more: a bigger symbol's rows are split into groups of their own. */
  maxBytes: number;
}

/**
 * Row groups of the part files a flush writes: fine-grained, since a flush chunk is a few MiB: a query on one
 * symbol reads less of a part file, and the compaction, which reads the groups a window of symbols needs,
 * decodes each group about once.
 */
export const FLUSH_ROW_GROUPS: RowGroupSizes = { minBytes: 256 << 10, maxBytes: 32 << 20 };

/**
 * Row groups of the compacted hourly files: fewer, so that the footer stays small; at most 4 MiB, since each is
 * held several times over while it is encoded, and parquet-wasm's memory grows to the biggest (32 MiB groups
 * took a merge's peak from ~350 to ~470 MiB; 8 MiB groups kept 26 MiB of wasm memory, 4 MiB 17).
 */
export const HOUR_ROW_GROUPS: RowGroupSizes = { minBytes: 2 << 20, maxBytes: 4 << 20 };

/** parquet-wasm's own limit on rows per row group, which must never cut a group this module planned. */
const MAX_GROUP_ROWS = 1 << 20;

/**
 * Orders strings by code point, which is the order of their UTF-8 bytes: the order Parquet statistics and
 * readers use for strings (JS `<` compares UTF-16 units, which differs above U+FFFF).
 */
export function compareSymbols(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/** The rows of a chunk sorted by symbol: `order[runs[k]..runs[k+1])` are the rows of `symbols[k]`. */
export interface SymbolOrder {
  order: Int32Array;
  symbols: string[];
  runs: number[];
}

/** Sorts the rows of `chunk` by symbol (its first column), stably, in O(rows + symbols log symbols). */
export function symbolOrder(chunk: RawChunk): SymbolOrder {
  const col = chunk.columns[0];
  if (col?.kind !== "str") {
    throw new TypeError(`Cannot sort ${chunk.table}: its first column is not the symbol`);
  }
  const ranked = col.strings.map((s, i) => ({ s, i })).sort((a, b) => compareSymbols(a.s, b.s));
  const rank = new Int32Array(col.strings.length);
  ranked.forEach((r, k) => rank[r.i] = k);
  const counts = new Int32Array(ranked.length + 1);
  for (let i = 0; i < chunk.rows; i++) counts[rank[col.indices[i]!]! + 1]!++;
  for (let k = 1; k <= ranked.length; k++) counts[k]! += counts[k - 1]!;
  const starts = Array.from(counts);
  const order = new Int32Array(chunk.rows);
  for (let i = 0; i < chunk.rows; i++) order[counts[rank[col.indices[i]!]!]!++] = i;
  // Symbols without rows (a dictionary entry of a rejected row is taken back, but be safe) are left out.
  const symbols: string[] = [];
  const runs: number[] = [0];
  for (let k = 0; k < ranked.length; k++) {
    if (starts[k + 1]! > starts[k]!) {
      symbols.push(ranked[k]!.s);
      runs.push(starts[k + 1]!);
    }
  }
  return { order, symbols, runs };
}

/**
 * Row groups `[from, to)` over symbol runs (row boundaries, as in {@link SymbolOrder.runs}): a group closes at a
 * symbol boundary once it reaches `minBytes`; a symbol of `minBytes` or more has groups of its own; no group
 * exceeds `maxBytes` (or parquet-wasm's row limit): a run too big for one group is split evenly.
 */
export function planRowGroups(
  runs: readonly number[],
  bytesPerRow: number,
  sizes: RowGroupSizes,
): [number, number][] {
  const perRow = Math.max(bytesPerRow, 1);
  const maxRows = Math.max(1, Math.min(MAX_GROUP_ROWS, Math.floor(sizes.maxBytes / perRow)));
  const groups: [number, number][] = [];
  let start = runs[0] ?? 0;
  for (let k = 1; k < runs.length; k++) {
    const [from, to] = [runs[k - 1]!, runs[k]!];
    if (to - from > maxRows) {
      if (from > start) groups.push([start, from]);
      const pieces = Math.ceil((to - from) / maxRows);
      for (let p = 0; p < pieces; p++) {
        groups.push([
          from + Math.floor((to - from) * p / pieces),
          from + Math.floor((to - from) * (p + 1) / pieces),
        ]);
      }
      start = to;
      continue;
    }
    // A symbol big enough for a group of its own gets one, rather than joining its quiet neighbours.
    if (from > start && (to - start > maxRows || (to - from) * perRow >= sizes.minBytes)) {
      groups.push([start, from]);
      start = from;
    }
    if ((to - start) * perRow >= sizes.minBytes) {
      groups.push([start, to]);
      start = to;
    }
  }
  const end = runs[runs.length - 1] ?? 0;
  if (end > start) groups.push([start, end]);
  return groups;
}

/**
 * The rows `order[from..to)` of `chunk` as one Parquet file (a row group to stitch: parquet_assembler.ts). The
 * Arrow table built on the way is freed at once (free_buffers.ts); the bytes returned are the caller's to free.
 */
function encodePart(
  chunk: RawChunk,
  order: Int32Array,
  from: number,
  to: number,
  compression?: pq.Compression,
): Uint8Array {
  const table = rawToArrow(chunk, order, from, to);
  const part = encodeParquet(table, compression);
  freeTable(table);
  return part;
}

/**
 * Encodes the rows `order[from..to)` of `chunk` for each `[from, to)` of `groups` ({@link encodePart}) and
 * appends them to `asm` as row groups, each one's bytes handed to `write` (awaited) and then freed.
 */
export async function writeParts(
  asm: ParquetAssembler,
  chunk: RawChunk,
  order: Int32Array,
  groups: Iterable<readonly [number, number]>,
  write: (piece: Uint8Array) => Promise<void>,
  compression?: pq.Compression,
): Promise<void> {
  for (const [from, to] of groups) {
    const part = encodePart(chunk, order, from, to, compression);
    for (const piece of await asm.add(memorySource(part))) await write(piece);
    freeBytes(part); // written (the assembler keeps copies of what it needs of it)
  }
}

/** A chunk encoded as one Parquet file, and its rows per symbol. */
export interface EncodedRows {
  segment: Uint8Array;
  /** The symbols of the rows, in file order, and how many rows each has. */
  symbols: string[];
  rows: number[];
}

/**
 * Encodes the rows of `chunk` as one Parquet file (zstd, dictionaries, statistics), sorted by symbol, with
 * row groups planned by {@link planRowGroups}.
 */
export async function encodeChunk(
  chunk: RawChunk,
  sizes: RowGroupSizes = FLUSH_ROW_GROUPS,
): Promise<EncodedRows> {
  const { order, symbols, runs } = symbolOrder(chunk);
  const groups = chunk.rows === 0
    ? [[0, 0] as [number, number]]
    : planRowGroups(runs, chunk.bytes / chunk.rows, sizes);
  const asm = new ParquetAssembler();
  const pieces = [asm.head()];
  const parts: Uint8Array[] = [];
  for (const [from, to] of groups) {
    const part = encodePart(chunk, order, from, to);
    parts.push(part);
    pieces.push(...await asm.add(memorySource(part)));
  }
  pieces.push(asm.finish());
  const segment = concatBytes(pieces);
  freeBytes(...parts); // the pieces were views of them (free_buffers.ts)
  return { segment, symbols, rows: symbols.map((_, k) => runs[k + 1]! - runs[k]!) };
}

/**
 * Parquet files as a container of row groups, below the encoder: row groups encoded separately (each
 * `writeParquet` call makes one) are stitched into one file by copying their bytes and rewriting the offsets in
 * the footer and the page index; their footers are read with parquet_footer.ts. parquet-wasm cuts row groups
 * only by row count; stitching lets the writer put a row group boundary exactly where the symbol changes, keep
 * encoded row groups instead of rows until a file is assembled, and read a file's row groups one at a time
 * ({@link extractRowGroups}).
 *
 * Parquet metadata field ids written here (parquet.thrift): FileMetaData 3 num_rows, 4 row_groups; RowGroup
 * 1 columns, 3 num_rows, 5 file_offset, 7 ordinal; ColumnChunk 2 file_offset, 3 meta_data, 4/5 offset index
 * offset/length, 6/7 column index offset/length; ColumnMetaData 7 total_compressed_size, 9 data_page_offset,
 * 10 index_page_offset, 11 dictionary_page_offset, 14 bloom_filter_offset; OffsetIndex 1 page_locations;
 * PageLocation 1 offset.
 * @module
 */

import { freeBytes } from "./free_buffers.ts";
import {
  type ByteSource,
  chunkStart,
  type FileFooter,
  PARQUET_MAGIC,
  ParquetFormatError,
  readFileFooter,
  type RowGroupInfo,
  sameBytes,
} from "./parquet_footer.ts";
import { decodeStruct, EncodedStruct, encodeStruct, T, ThriftReader, TStruct } from "./thrift_compact.ts";

function shift(s: TStruct, id: number, delta: number): void {
  const v = s.num(id);
  if (v !== undefined && v > 0) s.set(id, T.I64, v + delta);
}

/** The page index of one column chunk, encoded: its column index as it was, its offset index shifted. */
interface ChunkIndex {
  columnIndex: Uint8Array | null;
  offsetIndex: Uint8Array | null;
}

/**
 * Stitches row groups of Parquet files with one schema into one file, streaming: {@link head} and each
 * {@link add} return byte pieces to write in order, {@link finish} the page index and footer after them.
 *
 * @example
 * ```ts
 * import { ColumnBuffer } from "./column_buffer.ts";
 * import { toArrowTable } from "./raw_arrow.ts";
 * import { decodeParquet, encodeParquet } from "./parquet_file.ts";
 * import { memorySource } from "./parquet_footer.ts";
 *
 * const part = (id: number) => {
 *   const buf = new ColumnBuffer("funding_rates");
 *   buf.append({ symbol: "BTCUSDT", funding_time: id, funding_rate: 1e-4, mark_price: null, local_time: id });
 *   return encodeParquet(toArrowTable(buf));
 * };
 * const encodedRowGroups = [part(1), part(2)]; // Parquet files of one schema
 * const asm = new ParquetAssembler();
 * const pieces = [asm.head()];
 * for (const file of encodedRowGroups) pieces.push(...(await asm.add(memorySource(file))));
 * pieces.push(asm.finish());
 * const stitched = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
 * pieces.reduce((at, p) => (stitched.set(p, at), at + p.length), 0);
 * decodeParquet(stitched).numRows; // 2
 * ```
 */
export class ParquetAssembler {
  #offset = 0;
  #meta: TStruct | null = null;
  #schema: Uint8Array | null = null;
  /**
   * Row groups added, encoded without their page index's place (set at {@link finish}), and that index per
   * column chunk in order: a file of thousands of row groups kept as decoded structs held tens of MiB.
   */
  #rowGroups: Uint8Array[] = [];
  #index: ChunkIndex[] = [];
  #rows = 0;

  /** Rows added so far. */
  get rows(): number {
    return this.#rows;
  }

  /** Row groups added so far. */
  get rowGroups(): number {
    return this.#rowGroups.length;
  }

  /** The leading magic bytes; call once, first. */
  head(): Uint8Array {
    this.#offset = PARQUET_MAGIC.length;
    return PARQUET_MAGIC.slice();
  }

  /**
   * Appends row groups of the Parquet file `src` (all of them, or those listed in `only`), returning their
   * bytes to write next. `withPageIndex: false` drops their page index (a reader then scans the whole chunk).
   */
  async add(
    src: ByteSource,
    options: { only?: readonly number[]; withPageIndex?: boolean; footer?: FileFooter } = {},
  ): Promise<Uint8Array[]> {
    if (this.#offset === 0) throw new TypeError("ParquetAssembler.add() before head()");
    const footer = options.footer ?? await readFileFooter(src);
    if (this.#schema === null) {
      this.#meta = footer.meta;
      this.#schema = footer.schema;
    } else if (!sameBytes(footer.schema, this.#schema)) {
      throw new ParquetFormatError("row groups of different schemas cannot share a file");
    }
    const pieces: Uint8Array[] = [];
    for (const i of options.only ?? footer.groups.map((g) => g.index)) {
      const rg = footer.rowGroup(i);
      pieces.push(await this.#addGroup(src, rg, footer.groups[i]!, options.withPageIndex ?? true));
    }
    return pieces;
  }

  /** Appends row group `rg` (a copy of its metadata, whose offsets are rewritten in place). */
  async #addGroup(
    src: ByteSource,
    rg: TStruct,
    info: RowGroupInfo,
    withIndex: boolean,
  ): Promise<Uint8Array> {
    const delta = this.#offset - info.start;
    let expected = info.start;
    for (const cc of rg.list(1) as TStruct[]) {
      const md = cc.struct(3)!;
      if (chunkStart(md) !== expected) {
        throw new ParquetFormatError("column chunks of a row group are not contiguous");
      }
      expected += md.num(7)!;
      for (const id of [9, 10, 11, 14]) shift(md, id, delta);
      shift(cc, 2, delta);
      const index: ChunkIndex = { columnIndex: null, offsetIndex: null };
      if (withIndex) {
        const [ciAt, ciLen, oiAt, oiLen] = [cc.num(6), cc.num(7), cc.num(4), cc.num(5)];
        // A copy: a read from bytes in memory is a view that would keep the whole encoded part alive.
        if (ciAt !== undefined && ciLen !== undefined) {
          index.columnIndex = (await src.read(ciAt, ciLen)).slice();
        }
        if (oiAt !== undefined && oiLen !== undefined) {
          const oi = new ThriftReader(await src.read(oiAt, oiLen)).struct();
          for (const loc of oi.list(1) as TStruct[]) shift(loc, 1, delta);
          index.offsetIndex = encodeStruct(oi);
        }
      }
      for (const id of [4, 5, 6, 7]) cc.delete(id);
      this.#index.push(index);
    }
    shift(rg, 5, delta);
    rg.set(7, T.I16, this.#rowGroups.length);
    this.#rowGroups.push(encodeStruct(rg));
    this.#rows += info.rows;
    const bytes = await src.read(info.start, info.end - info.start);
    this.#offset += bytes.length;
    return bytes;
  }

  /** The page index, footer and trailing magic: the last bytes of the file. */
  finish(): Uint8Array {
    if (this.#meta === null) throw new ParquetFormatError("no row groups to write");
    const pieces: Uint8Array[] = [];
    let at = this.#offset;
    const put = (bytes: Uint8Array): [number, number] => {
      pieces.push(bytes);
      at += bytes.length;
      return [at - bytes.length, bytes.length];
    };
    // Column indexes first, then offset indexes, as the Parquet writers lay them out.
    const columnAt = this.#index.map(({ columnIndex }) => columnIndex && put(columnIndex));
    const offsetAt = this.#index.map(({ offsetIndex }) => offsetIndex && put(offsetIndex));
    // Each row group is decoded again only to be given its chunks' page index places, one at a time.
    let chunk = 0;
    const rowGroups = this.#rowGroups.map((bytes) => {
      const rg = decodeStruct(bytes);
      for (const cc of rg.list(1) as TStruct[]) {
        const ci = columnAt[chunk];
        const oi = offsetAt[chunk++];
        if (oi) {
          cc.set(4, T.I64, oi[0]);
          cc.set(5, T.I32, oi[1]);
        }
        if (ci) {
          cc.set(6, T.I64, ci[0]);
          cc.set(7, T.I32, ci[1]);
        }
      }
      return new EncodedStruct(encodeStruct(rg));
    });
    const meta = new TStruct(this.#meta.fields.map((f) => ({ ...f })));
    meta.set(3, T.I64, this.#rows);
    meta.set(4, T.LIST, { elemType: T.STRUCT, items: rowGroups });
    const footer = encodeStruct(meta);
    pieces.push(footer);
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setUint32(0, footer.length, true);
    tail.set(PARQUET_MAGIC, 4);
    pieces.push(tail);
    return concatBytes(pieces);
  }
}

/** One array holding `pieces` back to back. */
export function concatBytes(pieces: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * A self-contained Parquet file of some row groups of `src` (no page index), for decoding them alone. The
 * pieces read from a {@link ByteSource.fresh} source are freed once copied (free_buffers.ts).
 */
export async function extractRowGroups(
  src: ByteSource,
  footer: FileFooter,
  only: readonly number[],
): Promise<Uint8Array> {
  const asm = new ParquetAssembler();
  const head = asm.head();
  const read = await asm.add(src, { only, withPageIndex: false, footer });
  const bytes = concatBytes([head, ...read, asm.finish()]);
  if (src.fresh) freeBytes(...read);
  return bytes;
}

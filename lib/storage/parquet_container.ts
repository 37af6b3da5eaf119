/**
 * Parquet files as a container of row groups, below the encoder: the footer is read with thrift_compact.ts, and
 * row groups encoded separately (each `writeParquet` call makes one) are stitched into one file by copying their
 * bytes and rewriting the offsets in the footer and the page index. parquet-wasm cuts row groups only by row
 * count; stitching lets the writer put a row group boundary exactly where the symbol changes, keep encoded row
 * groups instead of rows until a file is assembled, and read a file's row groups one at a time.
 *
 * Parquet metadata field ids used here (parquet.thrift): FileMetaData 1 version, 2 schema, 3 num_rows,
 * 4 row_groups, 5 key_value_metadata, 6 created_by, 7 column_orders; RowGroup 1 columns, 2 total_byte_size,
 * 3 num_rows, 5 file_offset, 6 total_compressed_size, 7 ordinal; ColumnChunk 2 file_offset, 3 meta_data,
 * 4/5 offset index offset/length, 6/7 column index offset/length; ColumnMetaData 7 total_compressed_size,
 * 9 data_page_offset, 10 index_page_offset, 11 dictionary_page_offset, 12 statistics, 14 bloom_filter_offset;
 * Statistics 1 max, 2 min (deprecated), 5 max_value, 6 min_value; OffsetIndex 1 page_locations; PageLocation
 * 1 offset.
 * @module
 */

import { decodeStruct, EncodedStruct, encodeStruct, T, ThriftReader, TStruct } from "./thrift_compact.ts";

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"

/** The bytes are not a Parquet file this module can take apart. */
export class ParquetFormatError extends Error {
  constructor(message: string) {
    super(`Cannot read Parquet file: ${message}`);
    this.name = "ParquetFormatError";
  }
}

/** Random access to a file's bytes (an open file, or bytes in memory). */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A {@link ByteSource} over bytes in memory. */
export function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: (offset, length) => Promise.resolve(bytes.subarray(offset, offset + length)),
  };
}

/** A {@link ByteSource} over an open file (positioned reads); the caller closes the file. */
export async function fileSource(file: Deno.FsFile): Promise<ByteSource> {
  const size = (await file.stat()).size;
  return {
    size,
    read: async (offset, length) => {
      const out = new Uint8Array(length);
      await file.seek(offset, Deno.SeekMode.Start);
      let got = 0;
      while (got < length) {
        const n = await file.read(out.subarray(got));
        if (n === null) {
          throw new ParquetFormatError(`file ends at ${offset + got}, expected ${offset + length}`);
        }
        got += n;
      }
      return out;
    },
  };
}

/** The bytes `[offset, offset + length)` of `src` as a source of their own (a Parquet file inside a spill file). */
export function windowSource(src: ByteSource, offset: number, length: number): ByteSource {
  return { size: length, read: (at, n) => src.read(offset + at, n) };
}

/** The bytes of the footer (FileMetaData) of a Parquet file. */
async function footerBytes(src: ByteSource): Promise<Uint8Array> {
  if (src.size < 12) throw new ParquetFormatError(`${src.size} bytes is too short`);
  const tail = await src.read(src.size - 8, 8);
  if (!sameBytes(tail.subarray(4), MAGIC)) throw new ParquetFormatError("no PAR1 magic at the end");
  const length = new DataView(tail.buffer, tail.byteOffset, 8).getUint32(0, true);
  if (length + 12 > src.size) throw new ParquetFormatError(`footer length ${length} exceeds the file`);
  return await src.read(src.size - 8 - length, length);
}

/** The footer (FileMetaData) of a Parquet file, decoded whole. */
export async function readFooter(src: ByteSource): Promise<TStruct> {
  return decodeStruct(await footerBytes(src));
}

/** {@link readFooter} for bytes in memory. */
export function footerOf(bytes: Uint8Array): Promise<TStruct> {
  return readFooter(memorySource(bytes));
}

/** Min and max of one column chunk's statistics, as the raw bytes Parquet stores (absent when not written). */
export interface ChunkStats {
  min: Uint8Array | undefined;
  max: Uint8Array | undefined;
}

/** What a reader needs to know about one row group. */
export interface RowGroupInfo {
  index: number;
  rows: number;
  /** Byte range `[start, end)` of its column chunks in the file (contiguous). */
  start: number;
  end: number;
  /** Uncompressed bytes of its column data. */
  uncompressedBytes: number;
  /** Statistics of its first column: the layout's `symbol`, by which files are sorted and row groups cut. */
  keyStats: ChunkStats;
}

function rowGroupStructs(meta: TStruct): TStruct[] {
  return meta.list(4) as TStruct[];
}

function chunkStart(md: TStruct): number {
  const dict = md.num(11);
  const data = md.num(9)!;
  return dict !== undefined && dict > 0 && dict < data ? dict : data;
}

/** One row group's byte range and key statistics, from its metadata. */
function groupInfo(rg: TStruct, index: number): RowGroupInfo {
  let start = Infinity;
  let end = 0;
  let keyStats: ChunkStats = { min: undefined, max: undefined };
  for (const [i, cc] of (rg.list(1) as TStruct[]).entries()) {
    const md = cc.struct(3);
    if (!md) throw new ParquetFormatError("a column chunk has no inline metadata");
    const s = chunkStart(md);
    start = Math.min(start, s);
    end = Math.max(end, s + md.num(7)!);
    const st = i === 0 ? md.struct(12) : undefined;
    if (st) keyStats = { min: st.bytes(6) ?? st.bytes(2), max: st.bytes(5) ?? st.bytes(1) };
  }
  return { index, rows: rg.num(3)!, start, end, uncompressedBytes: rg.num(2) ?? 0, keyStats };
}

/** The row groups of a footer, with byte ranges and key statistics. */
export function rowGroupsOf(meta: TStruct): RowGroupInfo[] {
  return rowGroupStructs(meta).map(groupInfo);
}

/**
 * A file's footer as its readers use it: the row groups' byte ranges and key statistics ({@link rowGroupsOf}),
 * and each row group's metadata left encoded in the footer's bytes, decoded when the group is copied. The row
 * groups are decoded one at a time, never the list whole: a footer decoded whole takes ~35 bytes of heap per
 * byte, long-lived enough to be promoted, and a compaction opening the 16 part files of one table's hour (3.2 MB
 * of footers) took a process from 71 to 245 MiB.
 */
export class FileFooter {
  private constructor(
    /** The row groups, in file order. */
    readonly groups: RowGroupInfo[],
    /** The footer without its row groups (their list is empty). */
    readonly meta: TStruct,
    /** The schema, encoded: files whose row groups may share a file have equal bytes here. */
    readonly schema: Uint8Array,
    private readonly bytes: Uint8Array,
    /** `[start, end)` of each row group's metadata in {@link bytes}. */
    private readonly spans: Uint32Array,
  ) {}

  /** Reads a footer's bytes (which it keeps, so a view into a larger buffer is copied). */
  static parse(bytes: Uint8Array): FileFooter {
    if (bytes.byteLength !== bytes.buffer.byteLength) bytes = bytes.slice();
    const r = new ThriftReader(bytes);
    const groups: RowGroupInfo[] = [];
    const spans: number[] = [];
    const meta = r.struct((id, type) => {
      if (id !== 4) return undefined;
      const { size, elemType } = type === T.LIST ? r.listHeader() : { size: -1, elemType: -1 };
      if (elemType !== T.STRUCT) {
        throw new ParquetFormatError("the footer's row groups are not a list of structs");
      }
      for (let i = 0; i < size; i++) {
        const start = r.pos;
        groups.push(groupInfo(r.struct(), i));
        spans.push(start, r.pos);
      }
      return { elemType: T.STRUCT, items: [] };
    });
    const schema = encodeStruct(new TStruct([{ id: 2, type: T.LIST, value: meta.get(2)! }]));
    return new FileFooter(groups, meta, schema, bytes, Uint32Array.from(spans));
  }

  /** Row group `i`'s metadata: a fresh copy the caller may change. */
  rowGroup(i: number): TStruct {
    if (!(i >= 0 && i < this.groups.length)) throw new ParquetFormatError(`no row group ${i}`);
    return decodeStruct(this.bytes.subarray(this.spans[2 * i], this.spans[2 * i + 1]));
  }
}

/** The footer of a Parquet file as a {@link FileFooter}. */
export async function readFileFooter(src: ByteSource): Promise<FileFooter> {
  return FileFooter.parse(await footerBytes(src));
}

/** Rows of the file, from its footer. */
export function footerRows(meta: TStruct): number {
  return meta.num(3) ?? 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

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
    this.#offset = MAGIC.length;
    return MAGIC.slice();
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
    tail.set(MAGIC, 4);
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

/** A self-contained Parquet file of some row groups of `src` (no page index), for decoding them alone. */
export async function extractRowGroups(
  src: ByteSource,
  footer: FileFooter,
  only: readonly number[],
): Promise<Uint8Array> {
  const asm = new ParquetAssembler();
  const pieces = [asm.head()];
  pieces.push(...await asm.add(src, { only, withPageIndex: false, footer }));
  pieces.push(asm.finish());
  return concatBytes(pieces);
}

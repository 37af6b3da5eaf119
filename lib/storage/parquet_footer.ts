/**
 * Reading a Parquet file's footer (with thrift_compact.ts) from a {@link ByteSource}: whole ({@link readFooter}),
 * or as a {@link FileFooter} whose row groups are decoded one at a time, with each group's byte range and
 * `symbol` statistics ({@link RowGroupInfo}). Readers use it to read a file's row groups one at a time, and the
 * assembler (parquet_assembler.ts) to copy them into another file.
 *
 * Parquet metadata field ids read here (parquet.thrift): FileMetaData 1 version, 2 schema, 3 num_rows,
 * 4 row_groups, 5 key_value_metadata, 6 created_by, 7 column_orders; RowGroup 1 columns, 2 total_byte_size,
 * 3 num_rows; ColumnChunk 3 meta_data; ColumnMetaData 7 total_compressed_size, 9 data_page_offset,
 * 11 dictionary_page_offset, 12 statistics; Statistics 1 max, 2 min (deprecated), 5 max_value, 6 min_value.
 * @module
 */

import { decodeStruct, encodeStruct, T, ThriftReader, TStruct } from "./thrift_compact.ts";

/** The magic bytes a Parquet file starts and ends with. */
export const PARQUET_MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"

/** The bytes are not a Parquet file this module can read or parquet_assembler.ts can stitch. */
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
  /** Each read returns fresh bytes the caller owns (and may free: free_buffers.ts), not a view of others. */
  readonly fresh?: boolean;
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
    fresh: true,
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
  return { size: length, fresh: src.fresh, read: (at, n) => src.read(offset + at, n) };
}

/** The bytes of the footer (FileMetaData) of a Parquet file. */
async function footerBytes(src: ByteSource): Promise<Uint8Array> {
  if (src.size < 12) throw new ParquetFormatError(`${src.size} bytes is too short`);
  const tail = await src.read(src.size - 8, 8);
  if (!sameBytes(tail.subarray(4), PARQUET_MAGIC)) throw new ParquetFormatError("no PAR1 magic at the end");
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

/** Where a column chunk's bytes start: at its dictionary page when it has one, else at its first data page. */
export function chunkStart(md: TStruct): number {
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

/** Whether `a` and `b` hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

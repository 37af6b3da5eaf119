/**
 * Builds a {@link RawChunk} from decoded Arrow record batches (rows picked by a predicate on their symbol) and
 * from rows of other chunks: how compaction and the migration gather the rows of a symbol range from many
 * files before sorting and encoding them again (chunk_encoder.ts). Reads both layouts' schemas: the `symbol`
 * column may be `large_utf8` (0.4) or dictionary-typed (0.3).
 * @module
 */

import * as arrow from "apache-arrow";
import { fixedRowBytes, type RawChunk } from "./column_buffer.ts";
import { freeBytes } from "./free_buffers.ts";
import { type ColumnSpec, type TableName, TABLES } from "./tables.ts";
import type { RawColumn } from "./typed_columns.ts";

const TWO_32 = 4294967296;

function grownTo<T extends Float64Array | Int32Array | Uint8Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as { new (n: number): T })(Math.max(need, a.length * 2, 1024));
  b.set(a);
  freeBytes(a);
  return b;
}

/**
 * `room` holding the first `keep` values of `have` when it is the bigger of the two, else `have`; the other
 * one is freed.
 */
function roomier<T extends Float64Array | Int32Array | Uint8Array>(room: T, have: T, keep: number): T {
  if (room.length <= have.length) {
    freeBytes(room);
    return have;
  }
  room.set(have.subarray(0, keep));
  freeBytes(have);
  return room;
}

function emptyColumn(spec: ColumnSpec): RawColumn {
  const valid = spec.nullable ? new Uint8Array(0) : null;
  switch (spec.type) {
    case "float64":
      return { kind: "f64", values: new Float64Array(0), valid };
    case "int64":
    case "timestamp":
      return { kind: "i64", values: new Float64Array(0), valid };
    case "bool":
      return { kind: "bool", values: new Uint8Array(0), valid };
    case "string":
    case "symbol":
      return { kind: "str", indices: new Int32Array(0), strings: [], valid };
    case "list_float64":
      return { kind: "list", offsets: new Int32Array(1), flat: new Float64Array(0), valid };
  }
}

/** Reads a string column's rows of one record batch as indices into the appender's own dictionary. */
function stringReader(data: arrow.Data, intern: (s: string) => number): (j: number) => number {
  if (arrow.DataType.isDictionary(data.type)) {
    const dict = data.dictionary!;
    const map = new Int32Array(dict.length);
    for (let k = 0; k < dict.length; k++) map[k] = intern(dict.get(k) as string);
    const keys = data.values as Int32Array;
    return (j) => map[keys[data.offset + j]!]!;
  }
  // Utf8 / LargeUtf8: the sorted layout repeats a value row after row, so compare with the previous one's bytes.
  const large = arrow.DataType.isLargeUtf8(data.type);
  const offsets = data.valueOffsets as Int32Array | BigInt64Array;
  const bytes = data.values as Uint8Array;
  const at = (k: number) => large ? Number((offsets as BigInt64Array)[k]!) : (offsets as Int32Array)[k]!;
  const decoder = new TextDecoder();
  let prevStart = -1;
  let prevEnd = -1;
  let prevIndex = 0;
  return (j) => {
    const start = at(data.offset + j);
    const end = at(data.offset + j + 1);
    if (prevStart >= 0 && end - start === prevEnd - prevStart) {
      let same = true;
      for (let k = 0; k < end - start; k++) {
        if (bytes[start + k] !== bytes[prevStart + k]) {
          same = false;
          break;
        }
      }
      if (same) return prevIndex;
    }
    prevStart = start;
    prevEnd = end;
    prevIndex = intern(decoder.decode(bytes.subarray(start, end)));
    return prevIndex;
  };
}

/** The `symbol` column of a record batch as indices into its distinct values (either layout's type). */
export function symbolIndices(batch: arrow.RecordBatch): { indices: Int32Array; strings: string[] } {
  const data = batch.getChild("symbol")?.data[0];
  if (!data) throw new TypeError("Cannot read symbols: no symbol column");
  const strings: string[] = [];
  const lookup = new Map<string, number>();
  const read = stringReader(data, (s) => lookup.get(s) ?? lookup.set(s, strings.push(s) - 1).get(s)!);
  const indices = new Int32Array(batch.numRows);
  for (let j = 0; j < batch.numRows; j++) indices[j] = read(j);
  return { indices, strings };
}

/** Accumulates rows of one table as raw columns; {@link take} hands them over. */
export class RawAppender {
  readonly #table: TableName;
  readonly #specs: readonly ColumnSpec[];
  readonly #rowBytes: number;
  readonly #timeColumn: number;
  #columns: RawColumn[] = [];
  #lookups: Map<string, number>[] = [];
  #rows = 0;
  #bytes = 0;
  #minTime = Infinity;
  #maxTime = -Infinity;

  constructor(table: TableName) {
    this.#table = table;
    this.#specs = TABLES[table].columns as readonly ColumnSpec[];
    this.#rowBytes = fixedRowBytes(TABLES[table]);
    this.#timeColumn = this.#specs.findIndex((c) => c.name === TABLES[table].timeColumn);
    this.#reset();
  }

  /** Rows held. */
  get rows(): number {
    return this.#rows;
  }

  /** Approximate bytes held (as {@link RawChunk.bytes}). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Appends the rows of `batch` (a record batch of this table, e.g. decoded from Parquet) whose symbol passes
   * `keep`, in order. Columns are matched by name.
   */
  appendBatch(batch: arrow.RecordBatch, keep: (symbol: string) => boolean = () => true): void {
    const symbolData = batch.getChild("symbol")?.data[0];
    if (!symbolData) throw new TypeError(`Cannot read ${this.#table}: no symbol column`);
    const symbols: string[] = [];
    const readSymbol = stringReader(symbolData, (s) => symbols.push(s) - 1);
    const kept: boolean[] = [];
    const picked: number[] = [];
    for (let j = 0; j < batch.numRows; j++) {
      const k = readSymbol(j);
      kept[k] ??= keep(symbols[k]!);
      if (kept[k]) picked.push(j);
    }
    if (picked.length === 0) return;
    const base = this.#rows;
    const n = picked.length;
    this.#specs.forEach((spec, c) => {
      const data = batch.getChild(spec.name)?.data[0];
      if (!data) throw new TypeError(`Cannot read ${this.#table}: no column '${spec.name}'`);
      this.#appendColumn(c, data, picked, base);
    });
    this.#rows += n;
    this.#bytes += n * this.#rowBytes;
    this.#noteTimes(base);
  }

  /** Appends the rows `order[from..to)` of `chunk` (same table). */
  appendRaw(chunk: RawChunk, order: Int32Array, from: number, to: number): void {
    const base = this.#rows;
    const n = to - from;
    chunk.columns.forEach((src, c) => {
      const dst = this.#columns[c]!;
      const need = base + n;
      if (src.valid && dst.valid) {
        dst.valid = grownTo(dst.valid, need);
        for (let k = 0; k < n; k++) dst.valid[base + k] = src.valid[order[from + k]!]!;
      }
      if (src.kind === "str" && dst.kind === "str") {
        const map = src.strings.map((s) => this.#intern(c, s));
        dst.indices = grownTo(dst.indices, need);
        for (let k = 0; k < n; k++) dst.indices[base + k] = map[src.indices[order[from + k]!]!] ?? 0;
      } else if (src.kind === "list" && dst.kind === "list") {
        dst.offsets = grownTo(dst.offsets, need + 1);
        for (let k = 0; k < n; k++) {
          const i = order[from + k]!;
          const len = src.offsets[i + 1]! - src.offsets[i]!;
          const at = dst.offsets[base + k]!;
          dst.flat = grownTo(dst.flat, at + len);
          dst.flat.set(src.flat.subarray(src.offsets[i]!, src.offsets[i + 1]!), at);
          dst.offsets[base + k + 1] = at + len;
          this.#bytes += 8 * len;
        }
      } else if ((src.kind === "f64" || src.kind === "i64") && (dst.kind === "f64" || dst.kind === "i64")) {
        dst.values = grownTo(dst.values, need);
        for (let k = 0; k < n; k++) dst.values[base + k] = src.values[order[from + k]!]!;
      } else if (src.kind === "bool" && dst.kind === "bool") {
        dst.values = grownTo(dst.values, need);
        for (let k = 0; k < n; k++) dst.values[base + k] = src.values[order[from + k]!]!;
      } else {
        throw new TypeError(`Cannot append rows of ${chunk.table}: column ${c} differs`);
      }
    });
    this.#rows += n;
    this.#bytes += n * this.#rowBytes;
    this.#noteTimes(base);
  }

  /** Hands the rows over as a chunk and starts empty. */
  take(): RawChunk {
    const chunk: RawChunk = {
      table: this.#table,
      rows: this.#rows,
      bytes: this.#bytes,
      minTime: this.#minTime,
      maxTime: this.#maxTime,
      columns: this.#columns,
    };
    this.#reset();
    return chunk;
  }

  /**
   * Takes back the arrays of `chunk`, which {@link take} handed over and nobody reads any more, as room for the
   * rows to come (the rows held now are copied into them where they are bigger): a merge gathers window after
   * window of rows, and growing fresh arrays for each allocated twice the rows it kept. The arrays it does not
   * keep (the chunk's or its own) are freed (free_buffers.ts), so `chunk` is not to be read afterwards.
   */
  recycle(chunk: RawChunk): void {
    if (chunk.table !== this.#table) {
      throw new TypeError(`Cannot recycle ${chunk.table} rows as ${this.#table}`);
    }
    const rows = this.#rows;
    chunk.columns.forEach((room, c) => {
      const dst = this.#columns[c]!;
      if (room.valid && dst.valid) dst.valid = roomier(room.valid, dst.valid, rows);
      if (room.kind === "list" && dst.kind === "list") {
        dst.flat = roomier(room.flat, dst.flat, dst.offsets[rows]!);
        dst.offsets = roomier(room.offsets, dst.offsets, rows + 1);
      } else if (room.kind === "str" && dst.kind === "str") {
        dst.indices = roomier(room.indices, dst.indices, rows);
      } else if ((room.kind === "f64" || room.kind === "i64") && (dst.kind === "f64" || dst.kind === "i64")) {
        dst.values = roomier(room.values, dst.values, rows);
      } else if (room.kind === "bool" && dst.kind === "bool") {
        dst.values = roomier(room.values, dst.values, rows);
      }
    });
  }

  #reset(): void {
    this.#columns = this.#specs.map(emptyColumn);
    this.#lookups = this.#specs.map(() => new Map());
    this.#rows = 0;
    this.#bytes = 0;
    this.#minTime = Infinity;
    this.#maxTime = -Infinity;
  }

  #intern(c: number, s: string): number {
    const lookup = this.#lookups[c]!;
    let i = lookup.get(s);
    if (i === undefined) {
      const col = this.#columns[c] as Extract<RawColumn, { kind: "str" }>;
      i = col.strings.push(s) - 1;
      lookup.set(s, i);
    }
    return i;
  }

  /** Widens the time range by the rows from `from` on (the time column is never null). */
  #noteTimes(from: number): void {
    const col = this.#columns[this.#timeColumn] as Extract<RawColumn, { kind: "i64" }>;
    for (let i = from; i < this.#rows; i++) {
      const t = col.values[i]!;
      if (t < this.#minTime) this.#minTime = t;
      if (t > this.#maxTime) this.#maxTime = t;
    }
  }

  #appendColumn(c: number, data: arrow.Data, picked: readonly number[], base: number): void {
    const dst = this.#columns[c]!;
    const n = picked.length;
    const need = base + n;
    const off = data.offset;
    if (dst.valid) {
      dst.valid = grownTo(dst.valid, need);
      const bitmap = data.nullCount > 0 ? data.nullBitmap : undefined;
      for (let k = 0; k < n; k++) {
        const j = off + picked[k]!;
        dst.valid[base + k] = bitmap ? (bitmap[j >> 3]! >> (j & 7)) & 1 : 1;
      }
    } else if (data.nullCount > 0) {
      throw new TypeError(
        `Cannot read ${this.#table}: nulls in non-nullable column '${this.#specs[c]!.name}'`,
      );
    }
    switch (dst.kind) {
      case "f64": {
        dst.values = grownTo(dst.values, need);
        const values = data.values as Float64Array;
        for (let k = 0; k < n; k++) dst.values[base + k] = values[off + picked[k]!]!;
        return;
      }
      case "i64": {
        dst.values = grownTo(dst.values, need);
        const v = data.values as BigInt64Array;
        const words = new Int32Array(v.buffer, v.byteOffset, v.length * 2);
        for (let k = 0; k < n; k++) {
          const j = off + picked[k]!;
          dst.values[base + k] = (words[2 * j]! >>> 0) + words[2 * j + 1]! * TWO_32;
        }
        return;
      }
      case "bool": {
        dst.values = grownTo(dst.values, need);
        const bits = data.values as Uint8Array;
        for (let k = 0; k < n; k++) {
          const j = off + picked[k]!;
          dst.values[base + k] = (bits[j >> 3]! >> (j & 7)) & 1;
        }
        return;
      }
      case "str": {
        dst.indices = grownTo(dst.indices, need);
        const read = stringReader(data, (s) => this.#intern(c, s));
        for (let k = 0; k < n; k++) {
          const j = picked[k]!;
          dst.indices[base + k] = dst.valid && !dst.valid[base + k] ? 0 : read(j);
        }
        return;
      }
      case "list": {
        dst.offsets = grownTo(dst.offsets, need + 1);
        const offsets = data.valueOffsets as Int32Array;
        const child = data.children[0]!;
        const flat = child.values as Float64Array;
        for (let k = 0; k < n; k++) {
          const j = off + picked[k]!;
          const [s, e] = [offsets[j]! + child.offset, offsets[j + 1]! + child.offset];
          const at = dst.offsets[base + k]!;
          dst.flat = grownTo(dst.flat, at + e - s);
          dst.flat.set(flat.subarray(s, e), at);
          dst.offsets[base + k + 1] = at + e - s;
          this.#bytes += 8 * (e - s);
        }
        return;
      }
    }
  }
}

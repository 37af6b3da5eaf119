/**
 * A growable, columnar row buffer for one table instance (the collector keeps one per market, table, symbol and
 * UTC hour), turned into an Arrow table at flush.
 *
 * Values live in typed arrays while buffering: timestamps and int64 ids as float64 (exact below 2^53, converted
 * to int64 at flush without BigInt allocations), strings as per-column dictionary indices, lists as flat values
 * plus offsets, nulls in a byte-per-row validity array. Appending a row allocates nothing except when a column
 * grows or a string is seen for the first time.
 * @module
 */

import * as arrow from "apache-arrow";
import { type ColumnSpec, type Row, type TableName, TABLES, type TableSpec } from "./tables.ts";

/** Options of {@linkcode ColumnBuffer}. */
export interface ColumnBufferOptions {
  /** Rows preallocated per column; columns double when full. @default 1024 */
  initialCapacity?: number;
}

const TWO_32 = 4294967296;

/** Packs a byte-per-row validity array into an Arrow bitmap; no bitmap when every row is valid. */
function packValidity(valid: Uint8Array, n: number): { bitmap: Uint8Array | undefined; nullCount: number } {
  let nullCount = 0;
  const bitmap = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) {
    if (valid[i]) bitmap[i >> 3]! |= 1 << (i & 7);
    else nullCount++;
  }
  return { bitmap: nullCount === 0 ? undefined : bitmap, nullCount };
}

function grown<T extends Float64Array | Int32Array | Uint8Array>(a: T, capacity: number): T {
  const b = new (a.constructor as { new (n: number): T })(capacity);
  b.set(a);
  return b;
}

/** Storage of one column; `set` writes row `i` and returns the variable bytes it added (fixed bytes are known). */
abstract class Column {
  valid: Uint8Array;
  constructor(readonly spec: ColumnSpec, readonly type: arrow.DataType, capacity: number) {
    this.valid = new Uint8Array(spec.nullable ? capacity : 0);
  }
  abstract readonly fixedBytes: number;
  abstract set(i: number, v: unknown): number;
  abstract toData(n: number): arrow.Data;
  grow(capacity: number): void {
    if (this.spec.nullable) this.valid = grown(this.valid, capacity);
  }
  reset(): void {}
  /** Takes back what `set(i, ...)` added beyond row `i`'s slots (called when a later column rejected the row). */
  undo(_i: number): void {}

  /** Records whether row `i` is null; throws if the column is not nullable. */
  protected isNull(i: number, v: unknown): boolean {
    const isNull = v === null || v === undefined;
    if (isNull && !this.spec.nullable) {
      throw new TypeError(`Cannot append row: column '${this.spec.name}' is not nullable`);
    }
    if (this.spec.nullable) this.valid[i] = isNull ? 0 : 1;
    return isNull;
  }
  protected validity(n: number): { bitmap: Uint8Array | undefined; nullCount: number } {
    return this.spec.nullable ? packValidity(this.valid, n) : { bitmap: undefined, nullCount: 0 };
  }
}

class Float64Column extends Column {
  readonly fixedBytes = 8;
  values: Float64Array;
  constructor(spec: ColumnSpec, type: arrow.DataType, capacity: number) {
    super(spec, type, capacity);
    this.values = new Float64Array(capacity);
  }
  set(i: number, v: unknown): number {
    this.values[i] = this.isNull(i, v) ? 0 : v as number;
    return 0;
  }
  override grow(capacity: number): void {
    super.grow(capacity);
    this.values = grown(this.values, capacity);
  }
  toData(n: number): arrow.Data {
    const { bitmap, nullCount } = this.validity(n);
    return arrow.makeData({
      type: this.type as arrow.Float64,
      length: n,
      nullCount,
      nullBitmap: bitmap,
      data: this.values.slice(0, n),
    });
  }
}

/** int64 and timestamp[us]: integers held as doubles, written as little-endian int64 words at flush. */
class Int64Column extends Float64Column {
  override set(i: number, v: unknown): number {
    if (this.isNull(i, v)) {
      this.values[i] = 0;
    } else if (Number.isSafeInteger(v)) {
      this.values[i] = v as number;
    } else {
      throw new RangeError(`Cannot append row: column '${this.spec.name}' needs a safe integer, got ${v}`);
    }
    return 0;
  }
  override toData(n: number): arrow.Data {
    const { bitmap, nullCount } = this.validity(n);
    const words = new Uint32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const v = this.values[i]!;
      const hi = Math.floor(v / TWO_32);
      words[2 * i] = v - hi * TWO_32;
      words[2 * i + 1] = hi >>> 0;
    }
    return arrow.makeData({
      type: this.type as arrow.Int64,
      length: n,
      nullCount,
      nullBitmap: bitmap,
      data: new BigInt64Array(words.buffer),
    });
  }
}

class BoolColumn extends Column {
  readonly fixedBytes = 1;
  values: Uint8Array;
  constructor(spec: ColumnSpec, type: arrow.DataType, capacity: number) {
    super(spec, type, capacity);
    this.values = new Uint8Array(capacity);
  }
  set(i: number, v: unknown): number {
    this.values[i] = !this.isNull(i, v) && v ? 1 : 0;
    return 0;
  }
  override grow(capacity: number): void {
    super.grow(capacity);
    this.values = grown(this.values, capacity);
  }
  toData(n: number): arrow.Data {
    const { bitmap, nullCount } = this.validity(n);
    const bits = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) if (this.values[i]) bits[i >> 3]! |= 1 << (i & 7);
    return arrow.makeData({
      type: this.type as arrow.Bool,
      length: n,
      nullCount,
      nullBitmap: bitmap,
      data: bits,
    });
  }
}

/** Dictionary-encoded strings: the dictionary is per column and per buffer fill (reset by `clear`). */
class StringColumn extends Column {
  readonly fixedBytes = 4;
  indices: Int32Array;
  readonly lookup = new Map<string, number>();
  readonly strings: string[] = [];
  /** Row whose `set` added the newest dictionary entry, so `undo` can remove it. */
  addedBy = -1;
  constructor(spec: ColumnSpec, type: arrow.DataType, capacity: number) {
    super(spec, type, capacity);
    this.indices = new Int32Array(capacity);
  }
  set(i: number, v: unknown): number {
    if (this.isNull(i, v)) {
      this.indices[i] = 0;
      return 0;
    }
    const s = v as string;
    const index = this.lookup.get(s);
    if (index !== undefined) {
      this.indices[i] = index;
      return 0;
    }
    this.indices[i] = this.strings.length;
    this.lookup.set(s, this.strings.length);
    this.strings.push(s);
    this.addedBy = i;
    return 2 * s.length + 48; // UTF-16 payload plus rough Map/array entry overhead
  }
  override undo(i: number): void {
    if (this.addedBy !== i) return;
    this.lookup.delete(this.strings.pop()!);
    this.addedBy = -1;
  }
  override grow(capacity: number): void {
    super.grow(capacity);
    this.indices = grown(this.indices, capacity);
  }
  override reset(): void {
    this.lookup.clear();
    this.strings.length = 0;
    this.addedBy = -1;
  }
  toData(n: number): arrow.Data {
    const { bitmap, nullCount } = this.validity(n);
    const type = this.type as arrow.Dictionary<arrow.Utf8, arrow.Int32>;
    return arrow.makeData({
      type,
      length: n,
      nullCount,
      nullBitmap: bitmap,
      data: this.indices.slice(0, n),
      dictionary: arrow.vectorFromArray(this.strings, type.dictionary),
    });
  }
}

/** `list<double>`: values of all rows back to back, row `i` spanning `offsets[i]..offsets[i+1]`. */
class ListFloat64Column extends Column {
  readonly fixedBytes = 4;
  offsets: Int32Array;
  flat = new Float64Array(1024);
  constructor(spec: ColumnSpec, type: arrow.DataType, capacity: number) {
    super(spec, type, capacity);
    this.offsets = new Int32Array(capacity + 1);
  }
  set(i: number, v: unknown): number {
    const start = this.offsets[i]!;
    if (this.isNull(i, v)) {
      this.offsets[i + 1] = start;
      return 0;
    }
    const list = v as ArrayLike<number>;
    const end = start + list.length;
    if (end > this.flat.length) {
      this.flat = grown(this.flat, Math.max(end, this.flat.length * 2));
    }
    for (let k = 0; k < list.length; k++) this.flat[start + k] = list[k]!;
    this.offsets[i + 1] = end;
    return 8 * list.length;
  }
  override grow(capacity: number): void {
    super.grow(capacity);
    this.offsets = grown(this.offsets, capacity + 1);
  }
  toData(n: number): arrow.Data {
    const { bitmap, nullCount } = this.validity(n);
    const type = this.type as arrow.List<arrow.Float64>;
    const total = this.offsets[n]!;
    const child = arrow.makeData({
      type: type.children[0]!.type,
      length: total,
      nullCount: 0,
      data: this.flat.slice(0, total),
    });
    return arrow.makeData({
      type,
      length: n,
      nullCount,
      nullBitmap: bitmap,
      valueOffsets: this.offsets.slice(0, n + 1),
      child,
    });
  }
}

function makeColumn(spec: ColumnSpec, type: arrow.DataType, capacity: number): Column {
  switch (spec.type) {
    case "float64":
      return new Float64Column(spec, type, capacity);
    case "int64":
    case "timestamp":
      return new Int64Column(spec, type, capacity);
    case "bool":
      return new BoolColumn(spec, type, capacity);
    case "string":
      return new StringColumn(spec, type, capacity);
    case "list_float64":
      return new ListFloat64Column(spec, type, capacity);
  }
}

/**
 * Buffers rows of one table and builds the Arrow table with that table's exact schema.
 *
 * A row that fails validation (null in a non-nullable column, a non-integer id or time) throws and is not
 * added; the rows before it are kept.
 *
 * @example
 * ```ts
 * const buf = new ColumnBuffer("funding_rates");
 * buf.append({ symbol: "BTCUSDT", funding_time: 1_700_000_000_000_000, funding_rate: 1e-4, mark_price: 37000.5,
 *   local_time: 1_700_000_000_123_456 });
 * const table = buf.toArrowTable(); // 1 row, schema TABLES.funding_rates.schema
 * buf.clear();
 * ```
 */
export class ColumnBuffer<N extends TableName> {
  /** The table's spec (columns and Arrow schema). */
  readonly spec: TableSpec<N>;
  #columns: Column[];
  #capacity: number;
  #rows = 0;
  #bytes = 0;
  readonly #rowBytes: number;
  readonly #timeColumn: string;
  #minTime = Infinity;
  #maxTime = -Infinity;

  constructor(table: N, options: ColumnBufferOptions = {}) {
    const { initialCapacity = 1024 } = options;
    if (!Number.isInteger(initialCapacity) || initialCapacity < 1) {
      throw new RangeError(
        `Cannot create buffer: 'initialCapacity' must be a positive integer: ${initialCapacity}`,
      );
    }
    this.spec = TABLES[table];
    this.#capacity = initialCapacity;
    const fields = this.spec.schema.fields;
    this.#columns = (this.spec.columns as readonly ColumnSpec[]).map((c, i) =>
      makeColumn(c, fields[i]!.type, initialCapacity)
    );
    this.#timeColumn = this.spec.timeColumn;
    this.#rowBytes = this.#columns.reduce((sum, c) => sum + c.fixedBytes + (c.spec.nullable ? 1 : 0), 0);
  }

  /** The table name. */
  get table(): N {
    return this.spec.name;
  }

  /** Rows buffered. */
  get rows(): number {
    return this.#rows;
  }

  /** Approximate bytes held by the buffered rows (compare with `max_buffer_mb`). */
  get byteSize(): number {
    return this.#bytes;
  }

  /** Smallest value (µs) of the table's time column (`local_time`; `start_time` for gaps), null when empty. */
  get minTime(): number | null {
    return this.#rows === 0 ? null : this.#minTime;
  }

  /** Largest value (µs) of the table's time column, null when empty. */
  get maxTime(): number | null {
    return this.#rows === 0 ? null : this.#maxTime;
  }

  /** Appends one row; throws `TypeError`/`RangeError` (and keeps no part of the row) if it is invalid. */
  append(row: Row<N>): void {
    const i = this.#rows;
    if (i === this.#capacity) this.#grow();
    const values = row as Record<string, unknown>;
    let bytes = this.#rowBytes;
    // Columns write at index `i`; the row only counts once every column accepted it, and dictionary entries it
    // added are taken back, so a throw leaves no trace.
    const columns = this.#columns;
    let c = 0;
    try {
      for (; c < columns.length; c++) bytes += columns[c]!.set(i, values[columns[c]!.spec.name]);
    } catch (err) {
      for (let k = 0; k < c; k++) columns[k]!.undo(i);
      throw err;
    }
    const t = values[this.#timeColumn] as number;
    if (t < this.#minTime) this.#minTime = t;
    if (t > this.#maxTime) this.#maxTime = t;
    this.#bytes += bytes;
    this.#rows = i + 1;
  }

  /** The buffered rows as an Arrow table with the schema of `TABLES[table]` (copies; the buffer stays valid). */
  toArrowTable(): arrow.Table {
    const n = this.#rows;
    const schema = this.spec.schema;
    const children = this.#columns.map((c) => c.toData(n));
    const struct = arrow.makeData({
      type: new arrow.Struct(schema.fields),
      length: n,
      nullCount: 0,
      children,
    });
    return new arrow.Table(schema, [new arrow.RecordBatch(schema, struct)]);
  }

  /** Empties the buffer, keeping its allocated capacity for reuse. */
  clear(): void {
    for (const column of this.#columns) column.reset();
    this.#rows = 0;
    this.#bytes = 0;
    this.#minTime = Infinity;
    this.#maxTime = -Infinity;
  }

  #grow(): void {
    this.#capacity *= 2;
    for (const column of this.#columns) column.grow(this.#capacity);
  }
}

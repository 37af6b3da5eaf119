/**
 * A growable, columnar row buffer for one table (the collector keeps one per market, table and UTC hour), handed
 * over as a {@link RawChunk} of typed arrays: to the Parquet worker with zero copies (the arrays are transferred),
 * which sorts, builds Arrow and encodes (raw_arrow.ts, chunk_encoder.ts).
 *
 * Values live in typed arrays while buffering: timestamps and int64 ids as float64 (exact below 2^53, converted
 * to int64 when encoded, without BigInt allocations), strings as per-column dictionary indices, lists as flat
 * values plus offsets, nulls in a byte-per-row validity array. Appending a row allocates nothing except when a
 * column grows or a string is seen for the first time.
 * @module
 */

import { type ColumnSpec, type Row, type TableName, TABLES, type TableSpec } from "./tables.ts";

/**
 * One column's values. Arrays may be longer than the chunk's rows (spare capacity); only the first `rows`
 * entries count (`offsets`: `rows + 1`). `valid` is a byte per row (1 = not null), null for non-nullable columns.
 */
export type RawColumn =
  | { kind: "f64"; values: Float64Array; valid: Uint8Array | null }
  | { kind: "i64"; values: Float64Array; valid: Uint8Array | null }
  | { kind: "bool"; values: Uint8Array; valid: Uint8Array | null }
  | { kind: "str"; indices: Int32Array; strings: string[]; valid: Uint8Array | null }
  | { kind: "list"; offsets: Int32Array; flat: Float64Array; valid: Uint8Array | null };

/** Buffered rows of one table, as typed arrays in the table's column order. */
export interface RawChunk {
  table: TableName;
  rows: number;
  /** Approximate bytes the rows take (the unit of `max_buffer_mb` and of row-group sizes). */
  bytes: number;
  /** Range of the table's time column (µs); `Infinity` / `-Infinity` when empty. */
  minTime: number;
  maxTime: number;
  columns: RawColumn[];
}

/** The array buffers of `chunk`, for a `postMessage` transfer list. */
export function transferables(chunk: RawChunk): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const c of chunk.columns) {
    if (c.valid) out.add(c.valid.buffer as ArrayBuffer);
    if (c.kind === "str") out.add(c.indices.buffer as ArrayBuffer);
    else if (c.kind === "list") {
      out.add(c.offsets.buffer as ArrayBuffer);
      out.add(c.flat.buffer as ArrayBuffer);
    } else out.add(c.values.buffer as ArrayBuffer);
  }
  return [...out];
}

/** Fixed bytes a row takes in a buffer of `spec` (its variable bytes come on top). */
export function fixedRowBytes(spec: TableSpec): number {
  return (spec.columns as readonly ColumnSpec[]).reduce(
    (sum, c) =>
      sum + (c.type === "bool" ? 1 : c.type === "string" || c.type === "symbol" ? 4 : 8) +
      (c.type === "list_float64" ? -4 : 0) + (c.nullable ? 1 : 0),
    0,
  );
}

function grown<T extends Float64Array | Int32Array | Uint8Array>(a: T, capacity: number): T {
  const b = new (a.constructor as { new (n: number): T })(capacity);
  b.set(a);
  return b;
}

/** Storage of one column; `set` writes row `i` and returns the variable bytes it added. */
abstract class Column {
  valid: Uint8Array;
  constructor(readonly spec: ColumnSpec) {
    this.valid = new Uint8Array(0);
  }
  abstract set(i: number, v: unknown): number;
  /** The column's arrays as they are (the caller takes them over). */
  abstract raw(): RawColumn;
  /** Starts over on fresh arrays of `capacity` rows, or on `reuse`'s arrays when given. */
  abstract reset(capacity: number, reuse: RawColumn | undefined): void;
  abstract grow(capacity: number): void;
  /** Takes back what `set(i, ...)` added beyond row `i`'s slots (called when a later column rejected the row). */
  undo(_i: number): void {}

  protected resetValid(capacity: number, reuse: RawColumn | undefined): void {
    if (!this.spec.nullable) return;
    this.valid = reuse?.valid && reuse.valid.length >= capacity ? reuse.valid : new Uint8Array(capacity);
  }
  protected growValid(capacity: number): void {
    if (this.spec.nullable) this.valid = grown(this.valid, capacity);
  }
  protected rawValid(): Uint8Array | null {
    return this.spec.nullable ? this.valid : null;
  }
  /** Records whether row `i` is null; throws if the column is not nullable. */
  protected isNull(i: number, v: unknown): boolean {
    const isNull = v === null || v === undefined;
    if (isNull && !this.spec.nullable) {
      throw new TypeError(`Cannot append row: column '${this.spec.name}' is not nullable`);
    }
    if (this.spec.nullable) this.valid[i] = isNull ? 0 : 1;
    return isNull;
  }
}

class Float64Column extends Column {
  values: Float64Array = new Float64Array(0);
  set(i: number, v: unknown): number {
    this.values[i] = this.isNull(i, v) ? 0 : v as number;
    return 0;
  }
  raw(): RawColumn {
    return { kind: "f64", values: this.values, valid: this.rawValid() };
  }
  reset(capacity: number, reuse: RawColumn | undefined): void {
    this.resetValid(capacity, reuse);
    const v = reuse && "values" in reuse && reuse.values instanceof Float64Array ? reuse.values : null;
    this.values = v && v.length >= capacity ? v : new Float64Array(capacity);
  }
  grow(capacity: number): void {
    this.growValid(capacity);
    this.values = grown(this.values, capacity);
  }
}

/** int64 and timestamp[us]: integers held as doubles, written as int64 when encoded. */
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
  override raw(): RawColumn {
    return { kind: "i64", values: this.values, valid: this.rawValid() };
  }
}

class BoolColumn extends Column {
  values: Uint8Array = new Uint8Array(0);
  set(i: number, v: unknown): number {
    this.values[i] = !this.isNull(i, v) && v ? 1 : 0;
    return 0;
  }
  raw(): RawColumn {
    return { kind: "bool", values: this.values, valid: this.rawValid() };
  }
  reset(capacity: number, reuse: RawColumn | undefined): void {
    this.resetValid(capacity, reuse);
    const v = reuse?.kind === "bool" ? reuse.values : null;
    this.values = v && v.length >= capacity ? v : new Uint8Array(capacity);
  }
  grow(capacity: number): void {
    this.growValid(capacity);
    this.values = grown(this.values, capacity);
  }
}

/** Strings as indices into a dictionary of their own, started afresh with every chunk. */
class StringColumn extends Column {
  indices: Int32Array = new Int32Array(0);
  lookup = new Map<string, number>();
  strings: string[] = [];
  /** Row whose `set` added the newest dictionary entry, so `undo` can remove it. */
  addedBy = -1;
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
  raw(): RawColumn {
    return { kind: "str", indices: this.indices, strings: this.strings, valid: this.rawValid() };
  }
  reset(capacity: number, reuse: RawColumn | undefined): void {
    this.resetValid(capacity, reuse);
    const v = reuse?.kind === "str" ? reuse.indices : null;
    this.indices = v && v.length >= capacity ? v : new Int32Array(capacity);
    this.lookup = new Map();
    this.strings = [];
    this.addedBy = -1;
  }
  grow(capacity: number): void {
    this.growValid(capacity);
    this.indices = grown(this.indices, capacity);
  }
}

/** `list<double>`: values of all rows back to back, row `i` spanning `offsets[i]..offsets[i+1]`. */
class ListFloat64Column extends Column {
  offsets: Int32Array = new Int32Array(1);
  flat: Float64Array = new Float64Array(0);
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
  raw(): RawColumn {
    return { kind: "list", offsets: this.offsets, flat: this.flat, valid: this.rawValid() };
  }
  reset(capacity: number, reuse: RawColumn | undefined): void {
    this.resetValid(capacity, reuse);
    const r = reuse?.kind === "list" ? reuse : null;
    this.offsets = r && r.offsets.length >= capacity + 1 ? r.offsets : new Int32Array(capacity + 1);
    this.offsets[0] = 0;
    this.flat = r ? r.flat : new Float64Array(1024);
  }
  grow(capacity: number): void {
    this.growValid(capacity);
    this.offsets = grown(this.offsets, capacity + 1);
  }
}

function makeColumn(spec: ColumnSpec): Column {
  switch (spec.type) {
    case "float64":
      return new Float64Column(spec);
    case "int64":
    case "timestamp":
      return new Int64Column(spec);
    case "bool":
      return new BoolColumn(spec);
    case "string":
    case "symbol":
      return new StringColumn(spec);
    case "list_float64":
      return new ListFloat64Column(spec);
  }
}

/** Rows (capacity) of a chunk's arrays: what a buffer reusing them can hold before it grows. */
function capacityOf(chunk: RawChunk): number {
  let n = Infinity;
  for (const c of chunk.columns) {
    const len = c.kind === "str"
      ? c.indices.length
      : c.kind === "list"
      ? c.offsets.length - 1
      : c.values.length;
    n = Math.min(n, len, c.valid ? c.valid.length : Infinity);
  }
  return Number.isFinite(n) ? n : 0;
}

/** Options of {@linkcode ColumnBuffer}. */
export interface ColumnBufferOptions {
  /** Rows preallocated per column; columns double when full. @default 1024 */
  initialCapacity?: number;
}

/**
 * Buffers rows of one table; {@link detach} hands them over as a {@link RawChunk}.
 *
 * A row that fails validation (null in a non-nullable column, a non-integer id or time) throws and is not
 * added; the rows before it are kept.
 *
 * @example
 * ```ts
 * const buf = new ColumnBuffer("funding_rates");
 * buf.append({ symbol: "BTCUSDT", funding_time: 1_700_000_000_000_000, funding_rate: 1e-4, mark_price: 37000.5,
 *   local_time: 1_700_000_000_123_456 });
 * const chunk = buf.detach(); // 1 row; the buffer is empty again
 * ```
 */
export class ColumnBuffer<N extends TableName> {
  /** The table's spec. */
  readonly spec: TableSpec<N>;
  readonly #columns: Column[];
  readonly #initialCapacity: number;
  #capacity = 0;
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
    this.#initialCapacity = initialCapacity;
    this.#columns = (this.spec.columns as readonly ColumnSpec[]).map(makeColumn);
    this.#timeColumn = this.spec.timeColumn;
    this.#rowBytes = fixedRowBytes(this.spec);
    this.#reset(undefined);
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

  /**
   * Hands the buffered rows over (their arrays are the caller's from now on) and starts empty, on the arrays of
   * `reuse` (an earlier chunk of the same table whose rows are no longer needed) when given.
   */
  detach(reuse?: RawChunk): RawChunk {
    const chunk = this.view();
    this.#reset(reuse?.table === this.spec.name ? reuse : undefined);
    return chunk;
  }

  /** Empties the buffer, keeping its allocated capacity for reuse. */
  clear(): void {
    this.#reset(this.view());
  }

  /** The buffered rows on the buffer's own arrays: read them before the next append, change nothing. */
  view(): RawChunk {
    return {
      table: this.spec.name,
      rows: this.#rows,
      bytes: this.#bytes,
      minTime: this.#minTime,
      maxTime: this.#maxTime,
      columns: this.#columns.map((c) => c.raw()),
    };
  }

  #reset(reuse: RawChunk | undefined): void {
    const capacity = reuse ? Math.max(capacityOf(reuse), 1) : this.#initialCapacity;
    this.#columns.forEach((c, i) => c.reset(capacity, reuse?.columns[i]));
    this.#capacity = capacity;
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

/**
 * A growable, columnar row buffer for one table (the collector keeps one per market, table and UTC hour), handed
 * over as a {@link RawChunk} of typed arrays: to the Parquet worker with zero copies (the arrays are transferred),
 * which sorts, builds Arrow and encodes (raw_arrow.ts, chunk_encoder.ts).
 *
 * The rows go into one typed column per table column (typed_columns.ts); appending a row allocates nothing
 * except when a column grows or a string is seen for the first time.
 * @module
 */

import { type RowWriter, rowWriter } from "./row_writer.ts";
import { type ColumnSpec, type Row, type TableName, TABLES, type TableSpec } from "./tables.ts";
import { type Column, makeColumn, type RawColumn } from "./typed_columns.ts";

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
  readonly #write: RowWriter;
  /** `[min, max]` of the time column over the buffered rows. */
  readonly #range = Float64Array.of(Infinity, -Infinity);

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
    this.#write = rowWriter(this.spec);
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
    return this.#rows === 0 ? null : this.#range[0]!;
  }

  /** Largest value (µs) of the table's time column, null when empty. */
  get maxTime(): number | null {
    return this.#rows === 0 ? null : this.#range[1]!;
  }

  /** Appends one row; throws `TypeError`/`RangeError` (and keeps no part of the row) if it is invalid. */
  append(row: Row<N>): void {
    const i = this.#rows;
    if (i === this.#capacity) this.#grow();
    // Columns write at index `i`; the row only counts once every column accepted it (see row_writer.ts).
    this.#bytes += this.#rowBytes + this.#write(this.#columns, i, row, this.#range);
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
      minTime: this.#range[0]!,
      maxTime: this.#range[1]!,
      columns: this.#columns.map((c) => c.raw()),
    };
  }

  #reset(reuse: RawChunk | undefined): void {
    const capacity = reuse ? Math.max(capacityOf(reuse), 1) : this.#initialCapacity;
    this.#columns.forEach((c, i) => c.reset(capacity, reuse?.columns[i]));
    this.#capacity = capacity;
    this.#rows = 0;
    this.#bytes = 0;
    this.#range[0] = Infinity;
    this.#range[1] = -Infinity;
  }

  #grow(): void {
    this.#capacity *= 2;
    for (const column of this.#columns) column.grow(this.#capacity);
  }
}

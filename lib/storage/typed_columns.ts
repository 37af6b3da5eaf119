/**
 * The typed columns that a `ColumnBuffer` (column_buffer.ts) writes rows into, one class per column type, and
 * the arrays they hand over ({@link RawColumn}).
 *
 * Values live in typed arrays while buffering: timestamps and int64 ids as float64 (exact below 2^53, converted
 * to int64 when encoded, without BigInt allocations), strings as per-column dictionary indices, lists as flat
 * values plus offsets, nulls in a byte-per-row validity array. Writing a row allocates nothing except when a
 * column grows or a string is seen for the first time.
 * @module
 */

import type { ColumnSpec } from "./tables.ts";

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

/** A copy of `a` with room for `capacity` entries. */
function grown<T extends Float64Array | Int32Array | Uint8Array>(a: T, capacity: number): T {
  const b = new (a.constructor as { new (n: number): T })(capacity);
  b.set(a);
  return b;
}

/** Storage of one column; `set` writes row `i` and returns the variable bytes it added. */
export abstract class Column {
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

/** The column class for `spec`'s type, empty until its first `reset`. */
export function makeColumn(spec: ColumnSpec): Column {
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

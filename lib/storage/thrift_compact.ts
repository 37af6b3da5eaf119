/**
 * A generic Thrift compact-protocol codec, just enough for Parquet metadata (the file footer and the page
 * index): a struct decodes into its fields as they were (ids, wire types, values), fields can be read and
 * changed, and it encodes back. Fields this codec never touches round-trip unchanged, so footers written by
 * any Parquet writer survive the offset rewriting in parquet_assembler.ts.
 * @module
 */

/** Compact-protocol wire types. */
export const T = {
  TRUE: 1,
  FALSE: 2,
  I8: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;

/**
 * A decoded value: integers as numbers (bigint beyond 2^53), binary and doubles as raw bytes; a struct may be
 * given encoded ({@link EncodedStruct}) to be written as it is.
 */
export type TValue = number | bigint | boolean | Uint8Array | TStruct | EncodedStruct | TList | TMap;

/**
 * A struct already encoded (its fields and stop byte, as {@link encodeStruct} returns them), written as is: a
 * long list of structs can wait for its footer in a few hundred bytes each instead of as decoded fields.
 */
export class EncodedStruct {
  constructor(readonly bytes: Uint8Array) {}
}

/** One field of a struct, with its wire type (booleans: `T.TRUE` / `T.FALSE`). */
export interface TField {
  id: number;
  type: number;
  value: TValue;
}

/** A list or set; boolean elements keep their raw byte. */
export interface TList {
  elemType: number;
  items: TValue[];
}

/** A map. */
export interface TMap {
  keyType: number;
  valueType: number;
  entries: [TValue, TValue][];
}

/** The metadata does not decode as compact Thrift. */
export class ThriftError extends Error {
  constructor(message: string) {
    super(`Cannot decode Parquet metadata: ${message}`);
    this.name = "ThriftError";
  }
}

/** A struct: its fields in wire order. */
export class TStruct {
  constructor(readonly fields: TField[] = []) {}

  /** The value of field `id`, or undefined. */
  get(id: number): TValue | undefined {
    return this.fields.find((f) => f.id === id)?.value;
  }

  /** Field `id` as a struct (throws if present with another type). */
  struct(id: number): TStruct | undefined {
    const v = this.get(id);
    if (v === undefined || v instanceof TStruct) return v;
    throw new ThriftError(`field ${id} is not a struct`);
  }

  /** Field `id` as a list's items (empty when absent). */
  list(id: number): TValue[] {
    const v = this.get(id);
    if (v === undefined) return [];
    if (typeof v === "object" && "items" in v) return v.items;
    throw new ThriftError(`field ${id} is not a list`);
  }

  /** Field `id` as a number, or undefined. */
  num(id: number): number | undefined {
    const v = this.get(id);
    if (v === undefined || typeof v === "number") return v;
    if (typeof v === "bigint") return Number(v);
    throw new ThriftError(`field ${id} is not an integer`);
  }

  /** Field `id` as bytes, or undefined. */
  bytes(id: number): Uint8Array | undefined {
    const v = this.get(id);
    if (v === undefined || v instanceof Uint8Array) return v;
    throw new ThriftError(`field ${id} is not binary`);
  }

  /** Sets (or adds, keeping ids ascending) field `id`. */
  set(id: number, type: number, value: TValue): void {
    const f = this.fields.find((x) => x.id === id);
    if (f) {
      f.type = type;
      f.value = value;
      return;
    }
    const at = this.fields.findIndex((x) => x.id > id);
    const field = { id, type, value };
    if (at < 0) this.fields.push(field);
    else this.fields.splice(at, 0, field);
  }

  /** Removes field `id` if present. */
  delete(id: number): void {
    const at = this.fields.findIndex((x) => x.id === id);
    if (at >= 0) this.fields.splice(at, 1);
  }
}

/** Reads compact-protocol values from `bytes`, starting at `pos`. */
export class ThriftReader {
  constructor(readonly bytes: Uint8Array, public pos = 0) {}

  #byte(): number {
    if (this.pos >= this.bytes.length) throw new ThriftError("unexpected end of data");
    return this.bytes[this.pos++]!;
  }

  #varint(): number | bigint {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.#byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return Number.isSafeInteger(result) ? result : this.#bigVarint(i + 1);
      scale *= 128;
    }
    throw new ThriftError("varint longer than 10 bytes");
  }

  /** Re-reads the last `n` varint bytes exactly, as a bigint. */
  #bigVarint(n: number): bigint {
    let result = 0n;
    for (let i = 0; i < n; i++) result |= BigInt(this.bytes[this.pos - n + i]! & 0x7f) << BigInt(7 * i);
    return result;
  }

  #zigzag(): number | bigint {
    const v = this.#varint();
    if (typeof v === "bigint") return (v >> 1n) ^ -(v & 1n);
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  #value(type: number): TValue {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        return this.#byte(); // only inside collections; fields carry booleans in their type
      case T.I8: {
        const b = this.#byte();
        return b > 127 ? b - 256 : b;
      }
      case T.I16:
      case T.I32:
      case T.I64:
        return this.#zigzag();
      case T.DOUBLE:
        this.pos += 8;
        if (this.pos > this.bytes.length) throw new ThriftError("unexpected end of data");
        return this.bytes.slice(this.pos - 8, this.pos);
      case T.BINARY: {
        const n = Number(this.#varint());
        if (this.pos + n > this.bytes.length) throw new ThriftError("binary runs past the end");
        this.pos += n;
        return this.bytes.slice(this.pos - n, this.pos);
      }
      case T.LIST:
      case T.SET: {
        const { size, elemType } = this.listHeader();
        const items: TValue[] = [];
        for (let i = 0; i < size; i++) items.push(this.#value(elemType));
        return { elemType, items };
      }
      case T.MAP: {
        const size = Number(this.#varint());
        if (size === 0) return { keyType: 0, valueType: 0, entries: [] };
        const kv = this.#byte();
        const entries: [TValue, TValue][] = [];
        for (let i = 0; i < size; i++) entries.push([this.#value(kv >> 4), this.#value(kv & 15)]);
        return { keyType: kv >> 4, valueType: kv & 15, entries };
      }
      case T.STRUCT:
        return this.struct();
      default:
        throw new ThriftError(`unknown wire type ${type}`);
    }
  }

  /**
   * Reads one struct (up to and including its stop byte). `take` may read a field's value itself (returning
   * what to keep in its place), e.g. to walk a long list an item at a time; it returns undefined for the fields
   * decoded as usual.
   */
  struct(take?: (id: number, type: number) => TValue | undefined): TStruct {
    const fields: TField[] = [];
    let last = 0;
    for (;;) {
      const head = this.#byte();
      if (head === 0) return new TStruct(fields);
      const type = head & 15;
      const delta = head >> 4;
      const id = delta === 0 ? Number(this.#zigzag()) : last + delta;
      last = id;
      const value = type === T.TRUE ? true : type === T.FALSE ? false : take?.(id, type) ?? this.#value(type);
      fields.push({ id, type, value });
    }
  }

  /** Reads a list's or set's header: its length and element type (the elements follow). */
  listHeader(): { size: number; elemType: number } {
    const head = this.#byte();
    return { size: head >> 4 === 15 ? Number(this.#varint()) : head >> 4, elemType: head & 15 };
  }
}

/** Writes compact-protocol values into a growing buffer. */
export class ThriftWriter {
  #buf = new Uint8Array(1024);
  #len = 0;

  /** The bytes written so far. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }

  #byte(b: number): void {
    if (this.#len === this.#buf.length) {
      const grown = new Uint8Array(this.#buf.length * 2);
      grown.set(this.#buf);
      this.#buf = grown;
    }
    this.#buf[this.#len++] = b;
  }

  #raw(bytes: Uint8Array): void {
    for (const b of bytes) this.#byte(b);
  }

  #varint(v: number | bigint): void {
    if (typeof v === "bigint") {
      while (v >= 0x80n) {
        this.#byte(Number(v & 0x7fn) | 0x80);
        v >>= 7n;
      }
      this.#byte(Number(v));
      return;
    }
    while (v >= 0x80) {
      this.#byte((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    this.#byte(v);
  }

  #zigzag(v: number | bigint): void {
    if (typeof v === "bigint") this.#varint(v >= 0n ? v << 1n : (-v << 1n) - 1n);
    else this.#varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  #value(type: number, v: TValue): void {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        this.#byte(v as number);
        return;
      case T.I8:
        this.#byte((v as number) & 0xff);
        return;
      case T.I16:
      case T.I32:
      case T.I64:
        this.#zigzag(v as number | bigint);
        return;
      case T.DOUBLE:
        this.#raw(v as Uint8Array);
        return;
      case T.BINARY:
        this.#varint((v as Uint8Array).length);
        this.#raw(v as Uint8Array);
        return;
      case T.LIST:
      case T.SET: {
        const { elemType, items } = v as TList;
        if (items.length < 15) this.#byte((items.length << 4) | elemType);
        else {
          this.#byte(0xf0 | elemType);
          this.#varint(items.length);
        }
        for (const item of items) this.#value(elemType, item);
        return;
      }
      case T.MAP: {
        const { keyType, valueType, entries } = v as TMap;
        this.#varint(entries.length);
        if (entries.length === 0) return;
        this.#byte((keyType << 4) | valueType);
        for (const [k, x] of entries) {
          this.#value(keyType, k);
          this.#value(valueType, x);
        }
        return;
      }
      case T.STRUCT:
        if (v instanceof EncodedStruct) this.#raw(v.bytes);
        else this.struct(v as TStruct);
        return;
      default:
        throw new ThriftError(`unknown wire type ${type}`);
    }
  }

  /** Writes one struct and its stop byte. */
  struct(s: TStruct): void {
    let last = 0;
    for (const f of s.fields) {
      const type = f.type === T.TRUE || f.type === T.FALSE ? (f.value ? T.TRUE : T.FALSE) : f.type;
      const delta = f.id - last;
      if (delta > 0 && delta <= 15) this.#byte((delta << 4) | type);
      else {
        this.#byte(type);
        this.#zigzag(f.id);
      }
      last = f.id;
      if (type !== T.TRUE && type !== T.FALSE) this.#value(type, f.value);
    }
    this.#byte(0);
  }
}

/** Decodes one struct from `bytes`. */
export function decodeStruct(bytes: Uint8Array): TStruct {
  return new ThriftReader(bytes).struct();
}

/** Encodes one struct. */
export function encodeStruct(s: TStruct): Uint8Array {
  const w = new ThriftWriter();
  w.struct(s);
  return w.finish();
}

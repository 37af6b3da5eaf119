import assert from "node:assert/strict";
import { TABLE_NAMES } from "../../lib/storage/tables.ts";
import { decodeStruct, EncodedStruct, encodeStruct, T, TStruct } from "../../lib/storage/thrift_compact.ts";
import { encoded } from "./_parquet.ts";

function footerBytes(file: Uint8Array): Uint8Array {
  const n = new DataView(file.buffer, file.byteOffset).getUint32(file.length - 8, true);
  return file.subarray(file.length - 8 - n, file.length - 8);
}

Deno.test("thrift_compact decodes a Parquet footer and encodes it back byte for byte", () => {
  for (const table of TABLE_NAMES) {
    const footer = footerBytes(encoded(table, 300));
    assert.deepEqual(encodeStruct(decodeStruct(footer)), footer, table);
  }
});

Deno.test("thrift_compact round-trips every wire type, big ids and values beyond 2^53", () => {
  const inner = new TStruct([{ id: 1, type: T.BINARY, value: new TextEncoder().encode("x") }]);
  const s = new TStruct([
    { id: 1, type: T.TRUE, value: true },
    { id: 2, type: T.FALSE, value: false },
    { id: 3, type: T.I8, value: -5 },
    { id: 4, type: T.I16, value: -300 },
    { id: 40, type: T.I32, value: 2 ** 31 - 1 },
    { id: 41, type: T.I64, value: 2 ** 53 - 1 },
    { id: 42, type: T.I64, value: -(2n ** 62n) },
    { id: 43, type: T.DOUBLE, value: new Uint8Array([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]) },
    { id: 44, type: T.LIST, value: { elemType: T.STRUCT, items: Array.from({ length: 20 }, () => inner) } },
    { id: 45, type: T.SET, value: { elemType: T.TRUE, items: [1, 2, 1] } },
    {
      id: 46,
      type: T.MAP,
      value: { keyType: T.I32, valueType: T.BINARY, entries: [[7, new Uint8Array([9])]] },
    },
    { id: 47, type: T.MAP, value: { keyType: 0, valueType: 0, entries: [] } },
  ]);
  const bytes = encodeStruct(s);
  const back = decodeStruct(bytes);
  assert.deepEqual(encodeStruct(back), bytes);
  assert.equal(back.num(41), 2 ** 53 - 1);
  assert.equal(back.get(42), -(2n ** 62n));
  assert.equal(back.get(2), false);
  assert.equal(back.list(44).length, 20);
});

Deno.test("thrift_compact writes a struct given encoded as the struct itself", () => {
  const inner = new TStruct([
    { id: 1, type: T.I64, value: 42 },
    { id: 20, type: T.BINARY, value: new Uint8Array([1, 2]) },
  ]);
  const list = (items: (TStruct | EncodedStruct)[]) =>
    new TStruct([{ id: 4, type: T.LIST, value: { elemType: T.STRUCT, items } }]);
  const plain = encodeStruct(list(Array.from({ length: 16 }, () => inner)));
  const given = encodeStruct(list(Array.from({ length: 16 }, () => new EncodedStruct(encodeStruct(inner)))));
  assert.deepEqual(given, plain);
  assert.equal(decodeStruct(given).list(4).length, 16);
});

import assert from "node:assert/strict";
import { ColumnBuffer } from "../../lib/storage/column_buffer.ts";
import { toArrowTable } from "../../lib/storage/raw_arrow.ts";
import {
  concatBytes,
  extractRowGroups,
  FileFooter,
  footerOf,
  memorySource,
  ParquetAssembler,
  ParquetFormatError,
  readFileFooter,
  rowGroupsOf,
} from "../../lib/storage/parquet_container.ts";
import { decodeParquet, encodeParquet } from "../../lib/storage/parquet_file.ts";
import { toRows } from "../../lib/storage/read_rows.ts";
import { TABLE_NAMES, type TableName } from "../../lib/storage/tables.ts";
import { decodeStruct, EncodedStruct, encodeStruct, T, TStruct } from "../../lib/storage/thrift_compact.ts";
import { sampleRows } from "./_rows.ts";

/** Whole Parquet files (same schema) stitched in memory into one, as the flush stitches spilled chunks. */
async function stitchParquet(files: readonly Uint8Array[]): Promise<Uint8Array> {
  const asm = new ParquetAssembler();
  const pieces = [asm.head()];
  for (const f of files) pieces.push(...await asm.add(memorySource(f)));
  pieces.push(asm.finish());
  return concatBytes(pieces);
}

function encoded(table: TableName, n: number, from = 0): Uint8Array {
  const b = new ColumnBuffer(table);
  for (const row of sampleRows(table, from + n).slice(from)) b.append(row);
  return encodeParquet(toArrowTable(b));
}

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

Deno.test("stitchParquet() joins files' row groups into one file that parquet-wasm reads whole", async () => {
  const parts = [
    encoded("book_snapshots", 40),
    encoded("book_snapshots", 25, 40),
    encoded("book_snapshots", 7, 65),
  ];
  const stitched = await stitchParquet(parts);
  const rows = toRows(decodeParquet(stitched));
  assert.deepEqual(rows, parts.flatMap((p) => toRows(decodeParquet(p))));
  const meta = await footerOf(stitched);
  assert.deepEqual(rowGroupsOf(meta).map((g) => g.rows), [40, 25, 7]);
  // The page index was carried over with its offsets moved: every column chunk's offset index points at pages.
  for (const g of meta.list(4) as TStruct[]) {
    for (const cc of g.list(1) as TStruct[]) {
      const oi = decodeStruct(stitched.subarray(cc.num(4)!, cc.num(4)! + cc.num(5)!));
      const firstPage = (oi.list(1)[0] as TStruct).num(1)!;
      assert.equal(firstPage, cc.struct(3)!.num(9), "the first data page is where the chunk says");
      // Its column index is where the chunk says too: one min and one max per page.
      const ci = decodeStruct(stitched.subarray(cc.num(6)!, cc.num(6)! + cc.num(7)!));
      assert.equal(ci.list(2).length, oi.list(1).length);
    }
  }
});

Deno.test("extractRowGroups() makes a file of some row groups only", async () => {
  const stitched = await stitchParquet([
    encoded("trades", 10),
    encoded("trades", 20, 10),
    encoded("trades", 30, 30),
  ]);
  const footer = await readFileFooter(memorySource(stitched));
  const mini = await extractRowGroups(memorySource(stitched), footer, [2, 0]);
  const all = toRows(decodeParquet(stitched));
  assert.deepEqual(toRows(decodeParquet(mini)), [...all.slice(30), ...all.slice(0, 10)]);
  // The footer keeps its row groups encoded: each read is a fresh copy, and the list itself is not kept.
  const whole = await footerOf(stitched);
  assert.deepEqual(footer.groups, rowGroupsOf(whole));
  assert.equal(footer.meta.list(4).length, 0);
  assert.deepEqual(footer.meta.fields.filter((f) => f.id !== 4), whole.fields.filter((f) => f.id !== 4));
  (whole.list(4) as TStruct[]).forEach((rg, i) => assert.deepEqual(footer.rowGroup(i), rg));
  footer.rowGroup(1).set(3, T.I64, 999);
  assert.equal(footer.rowGroup(1).num(3), 20);
  assert.throws(() => footer.rowGroup(3), ParquetFormatError);
});

Deno.test("FileFooter.parse() refuses row groups that are not a list of structs", () => {
  const meta = (value: TStruct["fields"][number]) => encodeStruct(new TStruct([value]));
  assert.throws(() => FileFooter.parse(meta({ id: 4, type: T.I32, value: 3 })), /not a list of structs/);
  assert.throws(
    () => FileFooter.parse(meta({ id: 4, type: T.LIST, value: { elemType: T.I32, items: [1] } })),
    /not a list of structs/,
  );
});

Deno.test("the container refuses what it cannot take apart", async () => {
  await assert.rejects(footerOf(new Uint8Array(20)), ParquetFormatError);
  await assert.rejects(
    footerOf(new TextEncoder().encode("not a parquet file at all, PAR1")),
    ParquetFormatError,
  );
  await assert.rejects(stitchParquet([encoded("trades", 3), encoded("klines", 3)]), /different schemas/);
});

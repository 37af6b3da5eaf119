import assert from "node:assert/strict";
import {
  FileFooter,
  footerOf,
  memorySource,
  ParquetFormatError,
  readFileFooter,
  rowGroupsOf,
} from "../../lib/storage/parquet_footer.ts";
import { encodeStruct, T, TStruct } from "../../lib/storage/thrift_compact.ts";
import { threeGroupTrades } from "./_parquet.ts";

Deno.test("readFileFooter() keeps the row groups encoded and decodes a fresh copy of each on request", async () => {
  const stitched = await threeGroupTrades();
  const footer = await readFileFooter(memorySource(stitched));
  const whole = await footerOf(stitched);
  assert.deepEqual(footer.groups, rowGroupsOf(whole));
  assert.deepEqual(footer.groups.map((g) => g.rows), [10, 20, 30]);
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

Deno.test("readFooter() refuses what is not a Parquet file", async () => {
  await assert.rejects(footerOf(new Uint8Array(20)), ParquetFormatError);
  await assert.rejects(
    footerOf(new TextEncoder().encode("not a parquet file at all, PAR1")),
    ParquetFormatError,
  );
});

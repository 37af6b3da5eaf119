import assert from "node:assert/strict";
import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm";
import { ColumnBuffer } from "../../lib/storage/column_buffer.ts";
import { toArrowTable } from "../../lib/storage/raw_arrow.ts";
import {
  decodeParquet,
  encodeParquet,
  readParquet,
  writeFileAtomic,
} from "../../lib/storage/parquet_file.ts";
import { type ColumnSpec, TABLE_NAMES, TABLES } from "../../lib/storage/tables.ts";
import { cell, sampleRows } from "./_rows.ts";
import { arrowSchema } from "../../lib/storage/arrow_schema.ts";

const ROWS = 25;

/** A cell read back from Arrow, normalized to the JS value the buffer was given. */
function readCell(vector: arrow.Vector, c: ColumnSpec, i: number): unknown {
  if (!vector.isValid(i)) return null;
  if (c.type === "timestamp" || c.type === "int64") {
    // Read the raw int64 rather than Arrow's ms-as-double rendering of timestamps.
    let k = i;
    for (const chunk of vector.data) {
      if (k < chunk.length) return Number((chunk.values as BigInt64Array)[chunk.offset + k]!);
      k -= chunk.length;
    }
  }
  const v = vector.get(i);
  return c.type === "list_float64" ? [...(v as arrow.Vector).toArray()] : v;
}

Deno.test("encodeParquet() round-trips every table with exact types, values and nulls", () => {
  for (const name of TABLE_NAMES) {
    const buf = new ColumnBuffer(name);
    for (const row of sampleRows(name, ROWS)) buf.append(row);
    const back = decodeParquet(encodeParquet(toArrowTable(buf)));
    assert.equal(back.numRows, ROWS, name);
    const columns = TABLES[name].columns as readonly ColumnSpec[];
    assert.deepEqual(back.schema.fields.map((f) => f.name), columns.map((c) => c.name));
    columns.forEach((c, ci) => {
      const field = back.schema.fields[ci]!;
      const t = field.type;
      const where = `${name}.${c.name}`;
      assert.equal(field.nullable, c.nullable, where);
      switch (c.type) {
        case "timestamp":
          assert.ok(arrow.DataType.isTimestamp(t), where);
          assert.equal(t.unit, arrow.TimeUnit.MICROSECOND, where);
          assert.equal(t.timezone, "UTC", where);
          break;
        case "int64":
          assert.ok(arrow.DataType.isInt(t) && t.bitWidth === 64 && t.isSigned, where);
          break;
        case "string":
          assert.ok(arrow.DataType.isDictionary(t) && arrow.DataType.isUtf8(t.dictionary), where);
          break;
        case "float64":
          assert.ok(arrow.DataType.isFloat(t) && t.precision === arrow.Precision.DOUBLE, where);
          break;
        case "bool":
          assert.ok(arrow.DataType.isBool(t), where);
          break;
        case "list_float64":
          assert.ok(arrow.DataType.isList(t), where);
          assert.ok(arrow.DataType.isFloat(t.children[0]!.type), where);
          assert.equal((t.children[0]!.type as arrow.Float64).precision, arrow.Precision.DOUBLE, where);
          break;
      }
      const vector = back.getChildAt(ci)!;
      let nulls = 0;
      for (let i = 0; i < ROWS; i++) {
        const expected = cell(c, i);
        if (expected === null) nulls++;
        assert.deepEqual(readCell(vector, c, i), expected, `${where}[${i}]`);
      }
      assert.equal(vector.nullCount, nulls, where);
      if (c.nullable) assert.ok(nulls > 0, `${where} has nulls in the sample`);
    });
  }
});

Deno.test("encodeParquet() writes zstd and dictionary-encoded columns", async () => {
  const buf = new ColumnBuffer("liquidations");
  for (const row of sampleRows("liquidations", 200)) buf.append(row);
  const bytes = encodeParquet(toArrowTable(buf));
  const file = await pq.ParquetFile.fromFile(new Blob([bytes as Uint8Array<ArrayBuffer>]));
  const meta = file.metadata();
  assert.ok(meta.numRowGroups() >= 1);
  const specs = TABLES.liquidations.columns as readonly ColumnSpec[];
  for (const rowGroup of meta.rowGroups()) {
    const columns = rowGroup.columns();
    assert.equal(columns.length, specs.length);
    columns.forEach((column, i) => {
      assert.equal(column.compression(), pq.Compression.ZSTD, column.columnPath().join("."));
      if (specs[i]!.type === "string") assert.ok(column.encodings().includes(pq.Encoding.RLE_DICTIONARY));
    });
  }
});

Deno.test("encodeParquet() handles an empty table", () => {
  const back = decodeParquet(encodeParquet(toArrowTable(new ColumnBuffer("trades"))));
  assert.equal(back.numRows, 0);
  assert.deepEqual(back.schema.fields.map((f) => f.name), arrowSchema("trades").fields.map((f) => f.name));
});

Deno.test("readParquet() reads a file written with writeFileAtomic()", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const buf = new ColumnBuffer("klines");
    for (const row of sampleRows("klines", 3)) buf.append(row);
    const path = `${dir}/a/b.parquet`;
    await writeFileAtomic(path, encodeParquet(toArrowTable(buf)));
    const back = await readParquet(path);
    assert.equal(back.numRows, 3);
    assert.deepEqual(back.getChild("symbol")!.toArray(), sampleRows("klines", 3).map((r) => r.symbol));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

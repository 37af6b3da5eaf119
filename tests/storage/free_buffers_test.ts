import assert from "node:assert/strict";
import type * as arrow from "apache-arrow";
import { ColumnBuffer } from "../../lib/storage/column_buffer.ts";
import { freeBytes, freeTable } from "../../lib/storage/free_buffers.ts";
import { decodeParquet, encodeParquet } from "../../lib/storage/parquet_file.ts";
import { rawToArrow } from "../../lib/storage/raw_arrow.ts";
import { toRows } from "../../lib/storage/read_rows.ts";
import { TABLE_NAMES } from "../../lib/storage/tables.ts";
import { sampleRows } from "./_rows.ts";

/** The non-empty buffers under a table's columns, children and dictionaries. */
function buffersOf(table: arrow.Table): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const walk = (d: arrow.Data) => {
    for (const v of [d.values, d.valueOffsets, d.nullBitmap, d.typeIds]) {
      if (ArrayBuffer.isView(v) && v.byteLength > 0) out.add(v.buffer as ArrayBuffer);
    }
    d.children.forEach(walk);
    d.dictionary?.data.forEach(walk);
  };
  for (const batch of table.batches) walk(batch.data);
  return [...out];
}

Deno.test("freeTable() detaches every buffer of a table built to be encoded, and leaves the rows it came from", () => {
  for (const name of TABLE_NAMES) {
    const buffer = new ColumnBuffer(name);
    for (const row of sampleRows(name, 50)) buffer.append(row);
    const chunk = buffer.detach();
    const table = rawToArrow(chunk);
    const buffers = buffersOf(table);
    assert.ok(buffers.length >= 2, name);
    freeTable(table);
    assert.deepEqual(buffers.filter((b) => !b.detached), [], `${name}: every buffer detached`);
    // rawToArrow copied the rows, so the chunk still holds them.
    assert.deepEqual(toRows(rawToArrow(chunk)), sampleRows(name, 50), name);
  }
});

Deno.test("freeTable() frees a decoded table's bytes once its rows are copied out", () => {
  const buffer = new ColumnBuffer("book_snapshots");
  for (const row of sampleRows("book_snapshots", 30)) buffer.append(row);
  const decoded = decodeParquet(encodeParquet(rawToArrow(buffer.detach())));
  const rows = toRows(decoded);
  const buffers = buffersOf(decoded);
  freeTable(decoded);
  assert.deepEqual(buffers.filter((b) => !b.detached), []);
  assert.deepEqual(rows, sampleRows("book_snapshots", 30), "the copied rows are intact");
});

Deno.test("freeBytes() frees each buffer once, and leaves empty views alone", () => {
  const whole = new Uint8Array(1024);
  const view = whole.subarray(10, 20);
  const empty = new Uint8Array(0);
  freeBytes(view, whole, empty);
  assert.equal(whole.buffer.detached, true, "a view frees the buffer under it");
  assert.equal(whole.length, 0);
  assert.equal(empty.buffer.detached, false, "an empty view's buffer may be shared");
  assert.doesNotThrow(() => freeBytes(whole), "freeing twice is harmless");
});

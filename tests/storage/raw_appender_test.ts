import assert from "node:assert/strict";
import { ColumnBuffer, type RawChunk } from "../../lib/storage/column_buffer.ts";
import { RawAppender } from "../../lib/storage/raw_appender.ts";
import { identityOrder, rawToArrow } from "../../lib/storage/raw_arrow.ts";
import { toRows } from "../../lib/storage/read_rows.ts";
import { TABLE_NAMES, type TableName } from "../../lib/storage/tables.ts";
import type { RawColumn } from "../../lib/storage/typed_columns.ts";
import { sampleRows } from "./_rows.ts";

function chunkOf(name: TableName, from: number, to: number): RawChunk {
  const buf = new ColumnBuffer(name);
  for (const row of sampleRows(name, to).slice(from)) buf.append(row);
  return buf.detach();
}

/** Every array of a column (values, offsets, validity). */
function arraysOf(c: RawColumn): unknown[] {
  const own = c.kind === "list" ? [c.offsets, c.flat] : c.kind === "str" ? [c.indices] : [c.values];
  return c.valid ? [...own, c.valid] : own;
}

Deno.test("RawAppender.recycle() takes a handed-over chunk's arrays as room, keeping the rows it holds", () => {
  for (const name of TABLE_NAMES) {
    // A window of 3,000 rows, handed over; its last 200 rows start the next window, as a merge's tail does.
    const acc = new RawAppender(name);
    const first = chunkOf(name, 0, 3000);
    acc.appendRaw(first, identityOrder(3000), 0, 3000);
    const window = acc.take();
    const next = new RawAppender(name);
    next.appendRaw(window, identityOrder(3000), 2800, 3000);
    const room = window.columns.map(arraysOf);
    next.recycle(window);
    const more = chunkOf(name, 3000, 5000);
    next.appendRaw(more, identityOrder(2000), 0, 2000);
    const out = next.take();
    // The next window's rows went into the first window's arrays: nothing was grown for them.
    out.columns.forEach((c, i) => {
      arraysOf(c).forEach((array, k) => assert.equal(array, room[i]![k], `${name} column ${i} array ${k}`));
    });
    assert.equal(out.rows, 2200, name);
    assert.deepEqual(toRows(rawToArrow(out)), sampleRows(name, 5000).slice(2800), name);
  }
});

Deno.test("RawAppender.recycle() keeps its own arrays where the chunk's are no bigger, and refuses another table", () => {
  const acc = new RawAppender("trades");
  acc.appendRaw(chunkOf("trades", 0, 4000), identityOrder(4000), 0, 4000);
  const small = chunkOf("trades", 0, 10);
  acc.recycle(small);
  const kept = acc.take();
  kept.columns.forEach((c, i) => {
    arraysOf(c).forEach((array, k) => assert.notEqual(array, arraysOf(small.columns[i]!)[k], `column ${i}`));
  });
  assert.deepEqual(toRows(rawToArrow(kept)), sampleRows("trades", 4000));
  assert.throws(() => acc.recycle(chunkOf("klines", 0, 5)), /Cannot recycle klines rows as trades/);
});

import assert from "node:assert/strict";
import * as arrow from "apache-arrow";
import { ColumnBuffer } from "../../lib/storage/column_buffer.ts";
import { toArrowTable } from "../../lib/storage/raw_arrow.ts";
import { type Row, TABLE_NAMES } from "../../lib/storage/tables.ts";
import { BASE_US, INT_VALUES, sampleRows } from "./_rows.ts";
import { arrowSchema } from "../../lib/storage/arrow_schema.ts";

const trade = (i: number, overrides: Partial<Row<"trades">> = {}): Row<"trades"> => ({
  symbol: i % 2 ? "ETHUSDT" : "BTCUSDT",
  exchange_time: i % 3 === 0 ? null : 1_700_000_000_000_000 + i * 1000,
  trade_time: 1_700_000_000_000_000 + i * 1000,
  local_time: BASE_US + i * 10,
  agg_trade_id: INT_VALUES[i % INT_VALUES.length]!,
  first_trade_id: i,
  last_trade_id: i + 1,
  price: 37000 + i / 100,
  quantity: 0.5,
  is_buyer_maker: i % 5 === 0,
  source: "ws",
  ...overrides,
});

/** The int64 words of a column as numbers (int64 and timestamp columns). */
function int64s(table: arrow.Table, name: string): number[] {
  const out: number[] = [];
  for (const chunk of table.getChild(name)!.data) {
    const values = chunk.values as BigInt64Array;
    for (let i = 0; i < chunk.length; i++) out.push(Number(values[chunk.offset + i]!));
  }
  return out;
}

Deno.test("toArrowTable(ColumnBuffer) uses the table's exact schema for every table", () => {
  for (const name of TABLE_NAMES) {
    const buf = new ColumnBuffer(name);
    for (const row of sampleRows(name, 5)) buf.append(row);
    const table = toArrowTable(buf);
    assert.equal(table.numRows, 5, name);
    assert.deepEqual(
      table.schema.fields.map((f) => [f.name, String(f.type), f.nullable]),
      arrowSchema(name).fields.map((f) => [f.name, String(f.type), f.nullable]),
      name,
    );
  }
});

Deno.test("ColumnBuffer keeps values exactly, grows past its initial capacity and tracks time range", () => {
  const buf = new ColumnBuffer("trades", { initialCapacity: 2 });
  const rows = Array.from({ length: 1000 }, (_, i) => trade(i));
  for (const row of rows.toReversed()) buf.append(row);
  assert.equal(buf.rows, 1000);
  assert.equal(buf.minTime, BASE_US);
  assert.equal(buf.maxTime, BASE_US + 999 * 10);
  const table = toArrowTable(buf);
  const expected = rows.toReversed();
  assert.deepEqual(int64s(table, "agg_trade_id"), expected.map((r) => r.agg_trade_id));
  assert.deepEqual(int64s(table, "local_time"), expected.map((r) => r.local_time));
  const exchange = table.getChild("exchange_time")!;
  for (let i = 0; i < 1000; i++) {
    assert.equal(exchange.isValid(i), expected[i]!.exchange_time !== null, `row ${i}`);
    assert.equal(table.getChild("symbol")!.get(i), expected[i]!.symbol);
    assert.equal(table.getChild("price")!.get(i), expected[i]!.price);
    assert.equal(table.getChild("is_buyer_maker")!.get(i), expected[i]!.is_buyer_maker);
  }
  assert.equal(exchange.nullCount, expected.filter((r) => r.exchange_time === null).length);
});

Deno.test("ColumnBuffer stores list<double> columns as per-row lists", () => {
  const buf = new ColumnBuffer("book_snapshots");
  const levels = [[], [1.5], [2.5, 2.25, 2], [3]];
  levels.forEach((bids, i) =>
    buf.append({
      symbol: "BTCUSDT",
      exchange_time: BASE_US + i,
      local_time: BASE_US + i,
      last_update_id: i,
      bid_prices: bids,
      bid_quantities: new Float64Array(bids.map((b) => b * 10)),
      ask_prices: [],
      ask_quantities: [],
    })
  );
  const table = toArrowTable(buf);
  levels.forEach((bids, i) => {
    assert.deepEqual([...table.getChild("bid_prices")!.get(i)!.toArray()], bids);
    assert.deepEqual([...table.getChild("bid_quantities")!.get(i)!.toArray()], bids.map((b) => b * 10));
    assert.equal(table.getChild("ask_prices")!.get(i)!.length, 0);
  });
});

Deno.test("ColumnBuffer.append() rejects an invalid row without keeping any part of it", () => {
  const buf = new ColumnBuffer("trades");
  buf.append(trade(0));
  const bytes = buf.byteSize;
  assert.throws(
    () => buf.append(trade(1, { source: "rest", trade_time: null as unknown as number, symbol: "NEWCOIN" })),
    TypeError,
  );
  assert.throws(() => buf.append(trade(1, { last_trade_id: 1.5 })), RangeError);
  assert.throws(() => buf.append(trade(1, { local_time: 2 ** 53 })), RangeError);
  assert.equal(buf.rows, 1);
  assert.equal(buf.byteSize, bytes);
  assert.equal(buf.maxTime, BASE_US);
  buf.append(trade(2));
  const table = toArrowTable(buf);
  assert.equal(table.numRows, 2);
  assert.deepEqual(int64s(table, "last_trade_id"), [1, 3]);
  assert.deepEqual(table.getChild("source")!.toArray(), ["ws", "ws"]);
  // The rejected row's new symbol and source did not stay in the dictionaries.
  const chunk = buf.detach();
  assert.deepEqual(chunk.columns.map((c) => c.kind === "str" ? c.strings : null).filter((c) => c !== null), [
    ["BTCUSDT"],
    ["ws"],
  ]);
});

Deno.test("ColumnBuffer.byteSize grows with rows and variable-length data", () => {
  const buf = new ColumnBuffer("book_snapshots");
  const row = (n: number): Row<"book_snapshots"> => ({
    symbol: "BTCUSDT",
    exchange_time: BASE_US,
    local_time: BASE_US,
    last_update_id: 1,
    bid_prices: new Array(n).fill(1),
    bid_quantities: new Array(n).fill(1),
    ask_prices: new Array(n).fill(1),
    ask_quantities: new Array(n).fill(1),
  });
  buf.append(row(0));
  const small = buf.byteSize;
  buf.append(row(0));
  const perRow = buf.byteSize - small;
  assert.ok(perRow >= 8 + 8 + 8 + 4 * 4, `fixed bytes per row: ${perRow}`);
  buf.append(row(1000));
  assert.ok(buf.byteSize - small - perRow >= 4 * 1000 * 8);
});

Deno.test("ColumnBuffer.clear() empties it for reuse, dictionaries included", () => {
  const buf = new ColumnBuffer("trades");
  for (let i = 0; i < 10; i++) buf.append(trade(i));
  buf.clear();
  assert.equal(buf.rows, 0);
  assert.equal(buf.byteSize, 0);
  assert.equal(buf.minTime, null);
  assert.equal(toArrowTable(buf).numRows, 0);
  buf.append(trade(5, { symbol: "SOLUSDT", source: "rest" }));
  const table = toArrowTable(buf);
  assert.deepEqual(table.getChild("symbol")!.toArray(), ["SOLUSDT"]);
  assert.deepEqual([...table.getChild("source")!.data[0]!.dictionary!.toArray()], ["rest"]);
});

Deno.test("ColumnBuffer.detach() hands the rows over as typed arrays and goes on with the arrays it is given", () => {
  const buf = new ColumnBuffer("trades", { initialCapacity: 4 });
  for (let i = 0; i < 10; i++) buf.append(trade(i));
  const chunk = buf.detach();
  assert.equal(chunk.rows, 10);
  assert.equal(chunk.minTime, BASE_US);
  assert.equal(chunk.maxTime, BASE_US + 90);
  assert.equal(buf.rows, 0);
  const ids = chunk.columns[4]!;
  assert.ok(ids.kind === "i64");
  assert.deepEqual(
    [...ids.values.subarray(0, 10)],
    Array.from({ length: 10 }, (_, i) => trade(i).agg_trade_id),
  );
  // A later buffer fill reuses the detached arrays (no new allocation), and its rows are its own.
  buf.detach(chunk);
  buf.append(trade(42));
  const again = buf.detach();
  assert.equal(again.columns[4]!.kind === "i64" && again.columns[4]!.values, ids.values);
  assert.equal(again.rows, 1);
  assert.deepEqual(toArrowTable(buf).numRows, 0);
});

Deno.test("ColumnBuffer tracks start_time for gaps, which have no local_time", () => {
  const buf = new ColumnBuffer("gaps");
  for (const start of [30, 10, 20]) {
    buf.append({
      symbol: "BTCUSDT",
      stream: "btcusdt@depth",
      kind: "disconnect",
      start_time: BASE_US + start,
      end_time: BASE_US + 100,
      last_update_id: null,
      resume_update_id: null,
      reason: "socket closed",
    });
  }
  assert.equal(buf.minTime, BASE_US + 10);
  assert.equal(buf.maxTime, BASE_US + 30);
});

Deno.test("ColumnBuffer rejects a non-positive initial capacity", () => {
  assert.throws(() => new ColumnBuffer("trades", { initialCapacity: 0 }), RangeError);
});

import assert from "node:assert/strict";
import { type AnyRow, mergerFor, type Tagged } from "../../lib/merge/dedup.ts";

const HOUR = 3_600_000_000;
const tag = (rec: number, row: Record<string, unknown>): Tagged => ({
  rec,
  row: { symbol: "BTCUSDT", ...row } as AnyRow,
});
const col = (rows: readonly AnyRow[], ...names: string[]) => rows.map((r) => names.map((n) => r[n]));

Deno.test("dedup trades: each agg trade id once, the earliest arrival, in id order; a late backfill copy is caught", () => {
  const m = mergerFor("trades");
  const out = m.merge("BTCUSDT", [
    tag(0, { agg_trade_id: 3, local_time: 30, source: "ws" }),
    tag(0, { agg_trade_id: 1, local_time: 10, source: "ws" }),
    tag(1, { agg_trade_id: 1, local_time: 10, source: "ws" }), // same arrival: the first recording's
    tag(1, { agg_trade_id: 2, local_time: 22, source: "ws" }),
    tag(0, { agg_trade_id: 2, local_time: 25, source: "rest" }),
    tag(0, { agg_trade_id: 6, local_time: 60, source: "ws" }),
  ]);
  assert.deepEqual(col(out, "agg_trade_id", "local_time", "source"), [[1, 10, "ws"], [2, 22, "ws"], [
    3,
    30,
    "ws",
  ], [
    6,
    60,
    "ws",
  ]]);
  m.endHour();
  // Next hour: a REST backfill of trade 2 (a copy) and of 4 and 5 (new), and trade 7.
  const next = m.merge("BTCUSDT", [
    tag(1, { agg_trade_id: 2, local_time: HOUR + 5, source: "rest" }),
    tag(1, { agg_trade_id: 5, local_time: HOUR + 5, source: "rest" }),
    tag(1, { agg_trade_id: 7, local_time: HOUR + 9, source: "ws" }),
  ]);
  assert.deepEqual(col(next, "agg_trade_id"), [[5], [7]]);
  assert.deepEqual(m.counts, { read: 9, kept: 6, duplicates: 3, superseded: 0 });
  assert.deepEqual(
    [...m.idHoles!()].map(([s, holes]) => [s, holes.map((h) => [h.afterKey, h.beforeKey])]),
    [["BTCUSDT", [[3, 5]]]],
  );
});

Deno.test("dedup klines: one candle per (interval, open time), in close order; copies in later hours dropped", () => {
  const m = mergerFor("klines");
  const k = (rec: number, interval: string, open: number, close: number, local: number) =>
    tag(rec, { interval, open_time: open, close_time: close, local_time: local });
  const out = m.merge("BTCUSDT", [
    k(0, "1m", 0, 59_999_999, 60_000_100),
    k(0, "1s", 59_000_000, 59_999_999, 60_000_050),
    k(1, "1m", 0, 59_999_999, 60_000_090),
    k(1, "1s", 58_000_000, 58_999_999, 59_000_040),
  ]);
  assert.deepEqual(col(out, "interval", "open_time", "local_time"), [
    ["1s", 58_000_000, 59_000_040],
    ["1m", 0, 60_000_090],
    ["1s", 59_000_000, 60_000_050],
  ]);
  m.endHour();
  assert.deepEqual(
    m.merge("BTCUSDT", [k(1, "1m", 0, 59_999_999, HOUR + 1), k(1, "1m", 60_000_000, 0, HOUR + 2)]).length,
    1,
  );
});

Deno.test("dedup book_tickers, mark prices, snapshots: a copy from the end of the previous hour is caught", () => {
  for (
    const [table, key] of [["book_tickers", "update_id"], ["mark_prices", "exchange_time"], [
      "book_snapshots",
      "last_update_id",
    ]] as const
  ) {
    const m = mergerFor(table);
    assert.equal(
      m.merge("BTCUSDT", [
        tag(0, { [key]: 5, local_time: HOUR - 10 }),
        tag(1, { [key]: 4, local_time: HOUR - 20 }),
      ]).length,
      2,
    );
    assert.equal(
      m.merge("ETHUSDT", [tag(0, { symbol: "ETHUSDT", [key]: 6, local_time: HOUR - 10 })]).length,
      1,
    );
    m.endHour();
    const out = m.merge("BTCUSDT", [
      tag(1, { [key]: 5, local_time: HOUR + 3 }),
      tag(1, { [key]: 6, local_time: HOUR + 4 }),
    ]);
    assert.deepEqual(col(out, key), [[6]], `${table}: the copy of 5 dropped, 6 is another symbol's`);
  }
});

Deno.test("dedup liquidations: the exchange's fields make the key; two fills at one time both stay", () => {
  const m = mergerFor("liquidations");
  const liq = (rec: number, price: number, local: number) =>
    tag(rec, {
      trade_time: 1000,
      side: "sell",
      price,
      original_quantity: 1,
      filled_quantity: 1,
      status: "FILLED",
      local_time: local,
    });
  const out = m.merge("BTCUSDT", [liq(0, 100, 5), liq(1, 100, 4), liq(1, 101, 6)]);
  assert.deepEqual(col(out, "price", "local_time"), [[100, 4], [101, 6]]);
});

Deno.test("dedup funding rates: a funding time polled again hours later is one row", () => {
  const m = mergerFor("funding_rates");
  assert.equal(
    m.merge("BTCUSDT", [
      tag(0, { funding_time: 8, local_time: 10 }),
      tag(1, { funding_time: 8, local_time: 12 }),
    ]).length,
    1,
  );
  m.endHour();
  m.endHour();
  assert.equal(m.merge("BTCUSDT", [tag(1, { funding_time: 8, local_time: 2 * HOUR + 1 })]).length, 0);
});

Deno.test("dedup instruments: a row repeating the state before it is dropped, a change back is kept", () => {
  const m = mergerFor("instruments");
  const inst = (rec: number, status: string, local: number) =>
    tag(rec, { status, base_asset: "BTC", local_time: local });
  const out = m.merge("BTCUSDT", [
    inst(0, "TRADING", 10),
    inst(1, "TRADING", 15), // the second recording's start
    inst(0, "HALT", 30),
    inst(1, "HALT", 31),
    inst(1, "TRADING", 50),
    inst(0, "TRADING", 52),
  ]);
  assert.deepEqual(col(out, "status", "local_time"), [["TRADING", 10], ["HALT", 30], ["TRADING", 50]]);
  m.endHour();
  assert.equal(
    m.merge("BTCUSDT", [inst(1, "TRADING", HOUR + 1)]).length,
    0,
    "the state carries over the hour",
  );
  assert.deepEqual(m.counts, { read: 7, kept: 3, duplicates: 4, superseded: 0 });
});

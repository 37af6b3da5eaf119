import assert from "node:assert/strict";
import {
  compareSymbols,
  encodeChunk,
  planRowGroups,
  type RowGroupSizes,
  symbolOrder,
} from "../../lib/storage/chunk_encoder.ts";
import { ColumnBuffer } from "../../lib/storage/column_buffer.ts";
import { decodeParquet } from "../../lib/storage/parquet_file.ts";
import { footerOf, rowGroupsOf } from "../../lib/storage/parquet_footer.ts";
import { toRows } from "../../lib/storage/read_rows.ts";
import { TABLE_NAMES } from "../../lib/storage/tables.ts";
import { sampleRows } from "./_rows.ts";

Deno.test("compareSymbols() orders by code point, as Parquet statistics do (UTF-16 order differs above U+FFFF)", () => {
  const symbols = ["测试USDT", "BTCUSDT", "\u{1F680}USDT", "\uFF21USDT", "BTC", "ETHUSDT", ""];
  assert.deepEqual(symbols.toSorted(compareSymbols), [
    "",
    "BTC",
    "BTCUSDT",
    "ETHUSDT",
    "测试USDT",
    "\uFF21USDT",
    "\u{1F680}USDT",
  ]);
  const utf8 = (s: string) => [...new TextEncoder().encode(s)];
  const byBytes = symbols.toSorted((a, b) => {
    const [x, y] = [utf8(a), utf8(b)];
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return x.length - y.length;
  });
  assert.deepEqual(symbols.toSorted(compareSymbols), byBytes);
});

function trades(symbols: string[]): ColumnBuffer<"trades"> {
  const b = new ColumnBuffer("trades");
  symbols.forEach((symbol, i) =>
    b.append({
      symbol,
      exchange_time: null,
      trade_time: i,
      local_time: 1_000 + i,
      agg_trade_id: i,
      first_trade_id: i,
      last_trade_id: i,
      price: 1,
      quantity: 1,
      is_buyer_maker: false,
      source: "ws",
    })
  );
  return b;
}

Deno.test("symbolOrder() sorts rows by symbol, stably, and reports each symbol's run", () => {
  const chunk = trades(["ETH", "BTC", "ETH", "AAA", "BTC", "ETH"]).detach();
  const { order, symbols, runs } = symbolOrder(chunk);
  assert.deepEqual([...order], [3, 1, 4, 0, 2, 5]);
  assert.deepEqual(symbols, ["AAA", "BTC", "ETH"]);
  assert.deepEqual(runs, [0, 1, 3, 6]);
});

Deno.test("planRowGroups() cuts at symbol changes: small symbols share a group, a big one has its own", () => {
  const sizes: RowGroupSizes = { minBytes: 100, maxBytes: 1000 };
  // 10 bytes a row: runs of 3, 4, 20 (a group of its own), 2, 5 rows.
  assert.deepEqual(planRowGroups([0, 3, 7, 27, 29, 34], 10, sizes), [[0, 7], [7, 27], [27, 34]]);
  // A run above the maximum (100 rows) is split evenly into groups of its own.
  assert.deepEqual(planRowGroups([0, 2, 252, 255], 10, sizes), [[0, 2], [2, 85], [85, 168], [168, 252], [
    252,
    255,
  ]]);
  // Many quiet symbols: groups close at the first boundary past the minimum.
  const runs = Array.from({ length: 31 }, (_, i) => i * 4);
  assert.deepEqual(planRowGroups(runs, 10, sizes), [
    [0, 12],
    [12, 24],
    [24, 36],
    [36, 48],
    [48, 60],
    [60, 72],
    [
      72,
      84,
    ],
    [84, 96],
    [96, 108],
    [108, 120],
  ]);
  assert.deepEqual(planRowGroups([0], 10, sizes), []);
});

Deno.test("encodeChunk() writes every table sorted by symbol, with row groups whose statistics bound their symbols", async () => {
  for (const name of TABLE_NAMES) {
    const b = new ColumnBuffer(name);
    const rows = sampleRows(name, 50);
    for (const row of rows) b.append(row);
    const { segment, symbols, rows: counts } = await encodeChunk(b.detach(), {
      minBytes: 1,
      maxBytes: 1 << 20,
    });
    const back = toRows(decodeParquet(segment));
    const expected = rows.map((r, i) => ({ r, i })).sort((x, y) =>
      compareSymbols(x.r.symbol, y.r.symbol) || x.i - y.i
    );
    assert.deepEqual(
      back.map((r) => r.local_time ?? r.start_time),
      expected.map((x) => x.r.local_time ?? x.r.start_time),
      name,
    );
    assert.deepEqual(symbols, [...new Set(expected.map((x) => x.r.symbol))], name);
    assert.equal(counts.reduce((a, c) => a + c, 0), 50);
    // One group per symbol here (minBytes 1): min = max = the symbol, in order.
    const groups = rowGroupsOf(await footerOf(segment));
    const text = new TextDecoder();
    assert.deepEqual(
      groups.map((g) => [text.decode(g.keyStats.min!), text.decode(g.keyStats.max!), g.rows]),
      symbols.map((s, k) => [s, s, counts[k]]),
      name,
    );
  }
});

import assert from "node:assert/strict";
import { ColumnBuffer } from "../../lib/storage/column_buffer.ts";
import { ParquetEncoder } from "../../lib/storage/parquet_encoder.ts";
import { decodeParquet } from "../../lib/storage/parquet_file.ts";

Deno.test("ParquetEncoder encodes in a worker: concurrent requests come back whole and in their own order", async () => {
  const encoder = new ParquetEncoder();
  try {
    const tables = [10, 2000, 1].map((n) => {
      const b = new ColumnBuffer("trades");
      for (let i = 0; i < n; i++) {
        b.append({
          symbol: i % 2 ? "BTCUSDT" : "ETHUSDT",
          exchange_time: 1_700_000_000_000_000 + i,
          trade_time: 1_700_000_000_000_000 + i,
          local_time: 1_700_000_000_000_123 + i,
          agg_trade_id: 5_000_000_000_000 + i,
          first_trade_id: i,
          last_trade_id: i,
          price: 61_000 + i / 100,
          quantity: 0.001 * (i + 1),
          is_buyer_maker: i % 3 === 0,
          source: "ws",
        });
      }
      return b.toArrowTable();
    });
    const encoded = await Promise.all(tables.map((t) => encoder.encode(t)));
    for (const [i, bytes] of encoded.entries()) {
      const back = decodeParquet(bytes);
      assert.equal(back.numRows, tables[i]!.numRows);
      assert.equal(String(back.schema.fields[3]!.type), "Timestamp<MICROSECOND, UTC>");
      const n = back.numRows - 1;
      assert.equal(back.getChild("agg_trade_id")!.get(n), BigInt(5_000_000_000_000 + n));
      assert.equal(back.getChild("price")!.get(n), 61_000 + n / 100);
    }
  } finally {
    encoder.close();
  }
});

Deno.test("ParquetEncoder.close() rejects what is still waiting", async () => {
  const encoder = new ParquetEncoder();
  const b = new ColumnBuffer("gaps");
  b.append({
    symbol: "BTCUSDT",
    stream: "aggTrade",
    kind: "disconnect",
    start_time: 1,
    end_time: 2,
    last_update_id: null,
    resume_update_id: null,
    reason: "test",
  });
  const pending = encoder.encode(b.toArrowTable());
  encoder.close();
  await assert.rejects(pending, /closed/);
});
